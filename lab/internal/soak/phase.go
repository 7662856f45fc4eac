package soak

import (
	"context"
	"io"
	"path/filepath"
	"time"

	"github.com/netlab/netlab/lab/internal/proc"
)

// Env is what every phase runs with.
type Env struct {
	Bin   string      // directory with netlab's binaries (make build)
	Procs *proc.Group // every process a phase starts; the run stops them all
	Log   io.Writer   // progress lines
}

// bin is the path of one of netlab's binaries.
func (e Env) bin(name string) string { return filepath.Join(e.Bin, name) }

// phase is one part of a soak run.
type phase interface {
	// describe is the phase's name and what it does, for the report.
	describe() (name, about string)
	// run loads the server and records figures and checks on ph; an
	// error means the phase could not finish.
	run(ctx context.Context, env Env, ph *Phase) error
}

// deferred is a phase with a part that runs after every other phase
// (tcp's memory, which Go returns only after its next GCs).
type deferred interface {
	// later is that part, or nil when there is none.
	later() phase
}

// timed runs p and records its error and how long it took.
func timed(ctx context.Context, env Env, p phase) Phase {
	start := time.Now()
	name, about := p.describe()
	ph := Phase{Name: name, About: about}
	ph.Fail(p.run(ctx, env, &ph))
	ph.Elapsed = time.Since(start)
	return ph
}

// baselineSlack is what "back to baseline" allows in goroutines and open
// files: a /metrics scrape in flight runs a goroutine or two and holds a
// socket on the admin listener. Anything beyond a handful is a leak.
const baselineSlack = 5

// backToBaseline reports whether a server's goroutines and files are
// within baselineSlack of base.
func backToBaseline(base, now Snapshot) bool {
	return now.Goroutines <= base.Goroutines+baselineSlack && now.FDs <= base.FDs+baselineSlack
}

// waitFor scrapes metrics every interval until ok holds or bound passes.
// It returns the last snapshot and how long ok took to hold (-1: it did
// not).
func waitFor(ctx context.Context, metrics string, bound, every time.Duration, ok func(Snapshot) bool) (Snapshot, time.Duration, error) {
	start := time.Now()
	for {
		now, err := TakeSnapshot(ctx, metrics)
		if err != nil {
			return now, -1, err
		}
		if ok(now) {
			return now, time.Since(start), nil
		}
		if time.Since(start) >= bound {
			return now, -1, nil
		}
		if !proc.Sleep(ctx, every) {
			return now, -1, ctx.Err()
		}
	}
}
