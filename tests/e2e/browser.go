package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// browserCommands are the names Debian's chromium and other builds of
// Chrome install as.
var browserCommands = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Browser is a headless Chromium tab that records every request the page
// makes, so a test can check none goes to another host.
type Browser struct {
	t      testing.TB
	Ctx    context.Context
	origin string // scheme://host:port every request must go to

	mu      sync.Mutex
	foreign []string // requests to anywhere else
	count   int
}

// NewBrowser starts a headless Chromium for t (it fails t when none is
// installed: .ci/run installs Debian's chromium) and watches the requests
// of its tab; pages are expected from origin only.
func NewBrowser(t testing.TB, origin string) *Browser {
	t.Helper()
	SkipShort(t)
	path := ""
	for _, name := range browserCommands {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		t.Fatalf("no Chromium found (tried %v): install it, e.g. apt-get install -y chromium (.ci/run does)", browserCommands)
	}
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(path),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	if os.Geteuid() == 0 {
		// Chromium refuses to start its sandbox as root (CI runs as root).
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	b := &Browser{t: t, Ctx: ctx, origin: origin}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("start Chromium (%s): %v", path, err)
	}
	if err := chromedp.Listen(ctx, b.observe); err != nil {
		t.Fatalf("listen to the tab: %v", err)
	}
	return b
}

// observe records a request the page is about to send.
func (b *Browser) observe(ev any) {
	req, ok := ev.(*network.EventRequestWillBeSent)
	if !ok || req.Request == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.count++
	u, err := url.Parse(req.Request.URL)
	if err != nil || u.Scheme+"://"+u.Host != b.origin {
		if u == nil || u.Scheme != "data" {
			b.foreign = append(b.foreign, req.Request.URL)
		}
	}
}

// Requests returns how many requests the page made, and those that went
// anywhere but the origin.
func (b *Browser) Requests() (n int, foreign []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.count, slices.Clone(b.foreign)
}

// Open sets the viewport (a phone's below 600 pixels wide) and the colour
// scheme the page is told the system prefers, then loads path.
func (b *Browser) Open(path string, width, height int, dark bool) {
	b.t.Helper()
	var vopts []chromedp.EmulateViewportOption
	if width < 600 {
		vopts = append(vopts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	scheme := "light"
	if dark {
		scheme = "dark"
	}
	err := chromedp.Do(b.Ctx, chromedp.EmulateViewport(int64(width), int64(height), vopts...))
	if err == nil {
		_, err = chromedp.Call(b.Ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
	}
	if err == nil {
		err = chromedp.Do(b.Ctx, chromedp.Navigate(b.origin+path))
	}
	if err != nil {
		b.t.Fatalf("open %s: %v", path, err)
	}
}

// Eval runs a JavaScript expression in the page and decodes its value.
func Eval[T any](b *Browser, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(b.Ctx, 10*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// WaitJS polls a JavaScript condition (an expression that returns "" when
// it holds, or why it does not) until it holds or timeout passes.
func (b *Browser) WaitJS(what string, timeout time.Duration, expr string) {
	b.t.Helper()
	err := Poll(b.Ctx, timeout, 100*time.Millisecond, func() error {
		why, err := Eval[string](b, expr)
		switch {
		case err != nil:
			return err
		case why != "":
			return fmt.Errorf("%s", why)
		}
		return nil
	})
	if err != nil {
		b.t.Fatalf("waiting for %s: %v", what, err)
	}
}

// Click clicks the element the CSS selector finds first.
func (b *Browser) Click(selector string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(selector))); err != nil {
		b.t.Fatalf("click %s: %v", selector, err)
	}
}

// Screenshot saves the whole page as a PNG file name in dir and returns
// its path.
func (b *Browser) Screenshot(dir, name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	return path
}

// RequireNoOverflow fails the test if the page is wider than its viewport
// (it would scroll sideways).
func (b *Browser) RequireNoOverflow(what string) {
	b.t.Helper()
	over, err := Eval[string](b, `(() => { const d = document.documentElement;
		return d.scrollWidth > window.innerWidth ? d.scrollWidth + " px wide in a " + window.innerWidth + " px viewport" : ""; })()`)
	if err != nil {
		b.t.Fatal(err)
	}
	if over != "" {
		b.t.Errorf("%s overflows sideways: %s", what, over)
	}
}
