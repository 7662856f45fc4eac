package peerctl

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/netlab/netlab/services/peer/api"
	"github.com/netlab/netlab/services/platform/term"
)

// progress draws a download's progress on stderr: a bar redrawn in place
// on a terminal, a line every 2 s otherwise.
type progress struct {
	w         io.Writer
	tty       bool
	lastLine  time.Time
	lastBytes int64
	lastAt    time.Time
	rate      float64 // bytes/s, smoothed
	drawn     bool
}

func newProgress(w io.Writer, force, forceSet bool) *progress {
	tty := term.IsTerminal(w)
	if forceSet {
		tty = force
	}
	return &progress{w: w, tty: tty}
}

func (p *progress) update(d api.Download) {
	now := time.Now()
	if !p.lastAt.IsZero() {
		if dt := now.Sub(p.lastAt).Seconds(); dt > 0 {
			inst := float64(d.Bytes-p.lastBytes) / dt
			p.rate = 0.7*p.rate + 0.3*inst
		}
	} else if d.ElapsedSecs > 0 {
		p.rate = float64(d.Bytes) / d.ElapsedSecs
	}
	p.lastAt, p.lastBytes = now, d.Bytes
	line := progressLine(d, p.rate)
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		p.drawn = true
		return
	}
	if now.Sub(p.lastLine) >= 2*time.Second || d.State == api.StateComplete {
		fmt.Fprintln(p.w, line)
		p.lastLine = now
	}
}

func (p *progress) finish() {
	if p.tty && p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// progressLine renders one status line: bar, bytes, rate, ETA and the
// peers pieces came from.
func progressLine(d api.Download, rate float64) string {
	const width = 24
	frac := 0.0
	if d.Size > 0 {
		frac = float64(d.Bytes) / float64(d.Size)
	} else if d.State == api.StateComplete {
		frac = 1
	}
	filled := int(frac * width)
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
	if filled > 0 && filled < width {
		bar = bar[:filled-1] + ">" + bar[filled:]
	}
	eta := "-"
	if rate > 0 && d.Size > d.Bytes {
		eta = (time.Duration(float64(d.Size-d.Bytes) / rate * float64(time.Second))).Round(time.Second).String()
	}
	line := fmt.Sprintf("%s [%s] %3.0f%% %s/%s %s/s ETA %s from %s",
		orID(d), bar, frac*100, humanBytes(d.Bytes), humanBytes(d.Size), humanBytes(int64(rate)), eta, peersText(sourcesUsed(d)))
	switch {
	case d.State == api.StateFinding || d.State == api.StateQueued:
		line += " (" + d.State + ")"
	case d.Stalled != "":
		line += " (stalled: " + d.Stalled + ")"
	}
	return line
}

// sourcesUsed counts the peers that have sent a verified piece of d. The
// node's peers_working is no such count: it is the connected peers the
// download polls, holders or not, and 0 before it starts and after it ends.
func sourcesUsed(d api.Download) int {
	n := 0
	for _, s := range d.Sources {
		if s.Pieces > 0 {
			n++
		}
	}
	return n
}

func peersText(n int) string {
	if n == 1 {
		return "1 peer"
	}
	return fmt.Sprintf("%d peers", n)
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}
