package tests_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netlab/netlab/tests/e2e"
)

// The dashboard's stack: every service, three peer nodes whose uploads are
// capped so a download takes seconds and its piece map fills in view.
var dashboardServices = []string{e2e.TCPEcho, e2e.UDPResponder, e2e.HTTPHello, e2e.Peer, e2e.Dashboard}

const (
	// downTimeout is how soon a stopped service must show as down.
	downTimeout = 5 * time.Second
	// maxAge is the oldest update the page may show as current.
	maxAge = 2 * time.Second
)

// JavaScript read from the overview: "" when every replica of every
// service named is up, or what is not.
const allUpJS = `(() => {
	const want = %s, out = [];
	for (const name of want) {
		const card = document.querySelector('section[data-service="' + name + '"]');
		if (!card) { out.push(name + ": not listed"); continue; }
		const reps = [...card.querySelectorAll('.replica')];
		if (reps.length === 0) out.push(name + ": no replica");
		for (const r of reps) if (r.dataset.state !== 'up') out.push(r.dataset.key + ": " + r.dataset.state);
	}
	return out.join("; ");
})()`

// figureJS reads a figure's value on the overview (NaN when it has none).
const figureJS = `(() => {
	const v = document.querySelector('section[data-service="%s"] .fig[data-fig="%s"] .value');
	return v && v.dataset.value !== '' ? Number(v.dataset.value) : -1;
})()`

// ageJS installs a sampler of how old the data on screen is (now − the
// time of the round it shows) and returns the largest age seen since the
// last call, in milliseconds.
const ageJS = `(() => {
	if (!window.__age) {
		window.__age = {max: 0, samples: 0};
		setInterval(() => {
			const t = Number(document.body.dataset.updated || 0);
			if (!t) return;
			window.__age.max = Math.max(window.__age.max, Date.now() - t);
			window.__age.samples++;
		}, 50);
	}
	const a = window.__age, out = [a.max, a.samples];
	a.max = 0; a.samples = 0;
	return out;
})()`

// TestDashboard_InTheBrowser drives the dashboard of a whole stack in
// Chromium: the overview lists every service up, load shows in the
// figures, a download started from the swarm page fills its piece map and
// completes, a stopped service shows as down within 5 s; no request goes
// to another host, and no update on screen is older than 2 s. Screenshots
// of each page go to the test's artifact directory (make e2e keeps them
// in .build/e2e).
func TestDashboard_InTheBrowser(t *testing.T) {
	s := e2e.NewStack(t, e2e.StackConfig{Services: dashboardServices, Env: map[string]string{"PEER_UPLOAD_RATE": "4MiB"}})
	e2e.AssertHardened(t, s.Service(e2e.Dashboard).Container())
	origin := "http://" + s.Service(e2e.Dashboard).Addr("8080")
	b := e2e.NewBrowser(t, origin)
	shots := t.ArtifactDir()
	freshness := &ageCheck{t: t, b: b}

	b.Open("/", 1280, 800, false)
	b.WaitJS("every service up on the overview", 60*time.Second, fmt.Sprintf(allUpJS, `["tcp-echo","udp-responder","http-hello","peer"]`))
	if n, err := e2e.Eval[int](b, `document.querySelectorAll('section[data-service="peer"] .replica').length`); err != nil || n != 3 {
		t.Errorf("peer replicas on the overview: %d (%v), want 3", n, err)
	}
	freshness.start()

	t.Run("load shows in the figures", func(t *testing.T) {
		stop := generateLoad(t, s)
		defer stop()
		for _, f := range [][2]string{{"tcp-echo", "in"}, {"tcp-echo", "out"}, {"http-hello", "requests"}, {"http-hello", "p50"}} {
			b.WaitJS(f[0]+" "+f[1]+" rising", 20*time.Second, fmt.Sprintf(`(() => { const v = %s; return v > 0 ? "" : "value " + v; })()`,
				fmt.Sprintf(figureJS, f[0], f[1])))
		}
		b.Screenshot(shots, "overview.png")
		b.RequireNoOverflow("the overview at 1280×800")
		freshness.check("the overview under load")
		b.Open("/", 390, 844, true)
		b.WaitJS("the overview on a phone", 20*time.Second, fmt.Sprintf(allUpJS, `["tcp-echo","http-hello"]`))
		b.Screenshot(shots, "overview-phone-dark.png")
		b.RequireNoOverflow("the overview at 390×844")
	})

	t.Run("service page", func(t *testing.T) {
		b.Open("/service/http-hello", 1280, 800, false)
		b.WaitJS("http-hello's charts", 20*time.Second, `document.querySelector('section[data-chart="netlab_http_hello_requests_total"]') &&
			document.querySelector('section[data-chart="netlab_http_hello_request_duration_seconds"] .dist') ? "" : "no charts yet"`)
		b.Screenshot(shots, "service-http-hello.png")
		b.Open("/service/http-hello", 390, 844, false)
		b.WaitJS("http-hello's charts on a phone", 20*time.Second, `document.querySelector('section[data-chart]') ? "" : "no charts yet"`)
		b.RequireNoOverflow("the service page at 390×844")
	})

	t.Run("a download from the swarm page", func(t *testing.T) {
		swarmDownload(t, b, s, shots, freshness)
	})

	t.Run("the recorded metrics list holds what the services export", func(t *testing.T) {
		checkRecordedMetrics(t, s)
	})

	t.Run("a stopped service shows as down", func(t *testing.T) {
		b.Open("/", 1280, 800, false)
		b.WaitJS("the overview", 20*time.Second, fmt.Sprintf(allUpJS, `["udp-responder"]`))
		freshness.start()
		ctr := s.Service(e2e.UDPResponder).Container()
		timeout := 10 * time.Second
		asked := time.Now()
		if err := ctr.Stop(t.Context(), &timeout); err != nil {
			t.Fatalf("stop udp-responder: %v", err)
		}
		stopped := time.Now()
		b.WaitJS("udp-responder down", downTimeout, `(() => {
			const r = document.querySelector('section[data-service="udp-responder"] .replica');
			return r && r.dataset.state === 'down' && r.querySelector('[data-role=error]').textContent !== '' ? "" : "state " + (r && r.dataset.state);
		})()`)
		t.Logf("udp-responder shown down %s after it stopped (the stop took %s)", time.Since(stopped).Round(10*time.Millisecond), stopped.Sub(asked).Round(10*time.Millisecond))
		b.Screenshot(shots, "overview-service-down.png")
		freshness.check("the overview with a service down")
	})

	n, foreign := b.Requests()
	if len(foreign) > 0 {
		t.Errorf("the pages made requests to other hosts: %v", foreign)
	}
	t.Logf("%d requests, all to %s; screenshots in %s", n, origin, shots)
	copyScreenshots(t, shots)
}

// ageCheck measures, in the page, that no update on screen gets older
// than maxAge.
type ageCheck struct {
	t     *testing.T
	b     *e2e.Browser
	began time.Time
}

// minAgeWindow is the shortest time an age check watches the page: a
// phase that ends sooner (a service shown down at once) is watched on,
// so every check rests on at least 20 samples of 50 ms.
const minAgeWindow = time.Second

func (a *ageCheck) start() {
	if _, err := e2e.Eval[[]float64](a.b, ageJS); err != nil {
		a.t.Fatal(err)
	}
	a.began = time.Now()
}

func (a *ageCheck) check(what string) {
	a.t.Helper()
	time.Sleep(time.Until(a.began.Add(minAgeWindow)))
	got, err := e2e.Eval[[]float64](a.b, ageJS)
	if err != nil || len(got) != 2 {
		a.t.Fatalf("read the ages: %v %v", got, err)
	}
	age := time.Duration(got[0]) * time.Millisecond
	a.t.Logf("%s: the data on screen was at most %s old (%v samples)", what, age, got[1])
	if got[1] < 10 || age > maxAge {
		a.t.Errorf("%s: data on screen up to %s old over %v samples, want at most %s", what, age, got[1], maxAge)
	}
}

// generateLoad echoes bytes through tcp-echo and sends requests to
// http-hello from the host until stop is called.
func generateLoad(t *testing.T, s *e2e.Stack) (stop func()) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	var wg sync.WaitGroup
	wg.Go(func() {
		conn, err := net.DialTimeout("tcp", s.Service(e2e.TCPEcho).Addr("65432"), 5*time.Second)
		if err != nil {
			t.Errorf("dial tcp-echo: %v", err)
			return
		}
		defer conn.Close()
		buf := make([]byte, 16<<10)
		for ctx.Err() == nil {
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := conn.Write(buf); err != nil {
				return
			}
			if _, err := io.ReadFull(conn, buf); err != nil {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	wg.Go(func() {
		url := "http://" + s.Service(e2e.HTTPHello).Addr("8000") + "/"
		for ctx.Err() == nil {
			if _, _, err := e2e.HTTPGet(ctx, url); err != nil && ctx.Err() == nil {
				t.Errorf("GET %s: %v", url, err)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	return func() { cancel(); wg.Wait() }
}

// pieceMapJS reads node key's piece map of the file id: "state held
// pieces", or "" when the page shows none.
const pieceMapJS = `(() => {
	const m = document.querySelector('.replica[data-file="%s"] .pmap[data-node="%s"]');
	return m ? m.dataset.state + " " + m.dataset.held + " " + m.dataset.pieces : "";
})()`

// swarmDownload puts a file on peer node 1, asks node 2 for it from the
// swarm page, and watches node 2's piece map fill until the download
// completes.
func swarmDownload(t *testing.T, b *e2e.Browser, s *e2e.Stack, shots string, freshness *ageCheck) {
	nodes := e2e.PeerNodes(t, s.Service(e2e.Peer))
	data, sum := randomBytes(t, 40<<20)
	id := nodes[0].Put("dashboard.bin", data)
	b.Open("/swarm", 1280, 800, false)
	b.WaitJS("the file on the swarm page", 30*time.Second, fmt.Sprintf(`document.querySelector('#fetch-file option[value="%s"]') ? "" : "not listed"`, id))
	freshness.start()
	// Node 2 by its container name, as the page names it.
	target, err := e2e.Eval[string](b, `(() => { const o = [...document.querySelectorAll('#fetch-node option')].find(o => /peer[-_]2$/.test(o.textContent)); return o ? o.value : ""; })()`)
	if err != nil || target == "" {
		t.Fatalf("node 2 among the fetch targets: %q %v", target, err)
	}
	if _, err := e2e.Eval[bool](b, fmt.Sprintf(`(() => { document.getElementById('fetch-file').value = %q; document.getElementById('fetch-node').value = %q; return true; })()`, id, target)); err != nil {
		t.Fatal(err)
	}
	b.Click("#fetch-go")
	// The map fills in steps: record each held count it shows.
	var seen []string
	shot := false
	err = e2e.Poll(t.Context(), e2e.TransferTimeout, 100*time.Millisecond, func() error {
		m, err := e2e.Eval[string](b, fmt.Sprintf(pieceMapJS, id, target))
		if err != nil {
			return err
		}
		if len(seen) == 0 || seen[len(seen)-1] != m {
			seen = append(seen, m)
		}
		var state string
		var held, pieces int
		if _, err := fmt.Sscan(m, &state, &held, &pieces); err != nil {
			return fmt.Errorf("no piece map of node 2 yet (%q)", m)
		}
		if !shot && held*4 >= pieces && held*4 <= 3*pieces {
			b.Screenshot(shots, "swarm.png")
			shot = true
		}
		if state != "complete" || held != pieces {
			return fmt.Errorf("node 2's map: %s", m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("node 2's piece map showed %v", seen)
	if len(seen) < 4 || !shot {
		t.Errorf("the piece map showed %d states %v (screenshot mid-way: %v); want it to fill in steps", len(seen), seen, shot)
	}
	freshness.check("the swarm page during the download")
	nodes[1].RequireFile("dashboard.bin", sum)
	b.Screenshot(shots, "swarm-complete.png")
	b.Open("/swarm", 390, 844, true)
	b.WaitJS("the swarm page on a phone", 20*time.Second, `document.querySelector('.pmap') ? "" : "no map yet"`)
	b.Screenshot(shots, "swarm-phone-dark.png")
	b.RequireNoOverflow("the swarm page at 390×844")
}

// copyScreenshots copies the README's screenshots into the directory
// NETLAB_SCREENSHOTS names, when it is set (docs/img when refreshing them).
func copyScreenshots(t *testing.T, dir string) {
	dst := os.Getenv("NETLAB_SCREENSHOTS")
	if dst == "" {
		return
	}
	for _, name := range []string{"overview.png", "swarm.png"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err == nil {
			err = os.WriteFile(filepath.Join(dst, "dashboard-"+strings.TrimSuffix(name, ".png")+".png"), data, 0o644)
		}
		if err != nil {
			t.Errorf("copy %s: %v", name, err)
		}
	}
}

// checkRecordedMetrics reads every service's /metrics (after the load and
// the download, so most labelled families have a series) and checks each
// netlab_* family is in deploy/observability/metrics.txt under that
// service with its type: the list the Grafana dashboard's unit test
// checks the queries against.
func checkRecordedMetrics(t *testing.T, s *e2e.Stack) {
	root, err := e2e.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	listed, err := os.ReadFile(filepath.Join(root, "deploy", "observability", "metrics.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for line := range strings.Lines(string(listed)) {
		if f := strings.Fields(line); len(f) == 3 && !strings.HasPrefix(f[0], "#") {
			want[strings.Join(f, " ")] = true
		}
	}
	found := 0
	for _, name := range []string{e2e.TCPEcho, e2e.UDPResponder, e2e.HTTPHello, e2e.Peer, e2e.Dashboard} {
		svc := s.Service(name)
		for _, ctr := range svc.Containers {
			addr, err := e2e.HostAddr(t.Context(), ctr, e2e.AdminPort)
			if err != nil {
				t.Fatal(err)
			}
			for family, typ := range e2e.Families(t, addr) {
				if !strings.HasPrefix(family, "netlab_") {
					continue
				}
				found++
				if line := name + " " + family + " " + typ; !want[line] {
					t.Errorf("%s exports %s (%s), which deploy/observability/metrics.txt does not list as %q", name, family, typ, line)
				}
			}
		}
	}
	if found < 40 {
		t.Errorf("%d netlab families read over the services, want every service's", found)
	}
}
