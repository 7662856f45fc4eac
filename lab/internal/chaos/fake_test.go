package chaos_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/internal/chaos"
	"github.com/netlab/netlab/lab/internal/cli/clitest"
	"github.com/netlab/netlab/services/platform/loadgen/loadgentest"
)

// t0 is the fake clock's start.
var t0 = time.Date(2026, 12, 7, 14, 0, 0, 0, time.UTC)

// fakeClock moves only when the runner sleeps: time passes exactly as
// planned, so the tests assert times without waiting for them. With
// interruptAt set, a sleep past it stops there and cancels the run, as a
// Ctrl-C at that moment would.
type fakeClock struct {
	*loadgentest.Clock
	interruptAt time.Duration // 0: never
	cancel      context.CancelFunc
}

func (c *fakeClock) SleepUntil(ctx context.Context, t time.Time) bool {
	if ctx.Err() != nil {
		return false
	}
	if c.interruptAt > 0 && t.After(t0.Add(c.interruptAt)) {
		c.Set(t0.Add(c.interruptAt))
		c.cancel()
		return false
	}
	return c.Clock.SleepUntil(ctx, t)
}

// call is one docker command the fake got, and when.
type call struct {
	at   time.Duration
	args string
}

// fakeDocker is a stack of compose project "netlab": tcp-echo, http-hello
// and three peers. It answers ps and inspect, and records every other
// command with the fake time; fail makes a command fail.
type fakeDocker struct {
	clock *fakeClock
	mu    sync.Mutex
	calls []call
	fail  map[string]error // "pause ID" → its error
}

var containers = []struct {
	id, service string
	number      int
}{
	{"aaaa0001", "tcp-echo", 1},
	{"aaaa0002", "http-hello", 1},
	{"aaaa0003", "peer", 1},
	{"aaaa0004", "peer", 2},
	{"aaaa0005", "peer", 3},
}

// id is the container ID of a label like peer-2.
func id(label string) string {
	for _, c := range containers {
		if fmt.Sprintf("%s-%d", c.service, c.number) == label {
			return c.id
		}
	}
	panic("no container " + label)
}

func (f *fakeDocker) Run(_ context.Context, args ...string) ([]byte, error) {
	switch args[0] {
	case "ps":
		var ids []string
		for _, c := range containers {
			ids = append(ids, c.id)
		}
		return []byte(strings.Join(ids, "\n") + "\n"), nil
	case "inspect":
		var objs []string
		for _, c := range containers {
			objs = append(objs, fmt.Sprintf(`{"Id":%q,"Name":"/netlab-%s-%d","State":{"Status":"running"},
				"Config":{"Labels":{"com.docker.compose.service":%q,"com.docker.compose.container-number":"%d"}},
				"NetworkSettings":{"Networks":{"netlab_netlab":{"IPAddress":"172.18.0.%d"}}}}`, c.id, c.service, c.number, c.service, c.number, len(objs)+2))
		}
		return []byte("[" + strings.Join(objs, ",") + "]"), nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	cmd := strings.Join(args, " ")
	f.calls = append(f.calls, call{f.clock.Now().Sub(t0), cmd})
	if err := f.fail[cmd]; err != nil {
		return nil, err
	}
	return nil, nil
}

// actions are the recorded commands in the order they came, except that
// one event's commands on several containers, which run at once, are
// sorted by text.
func (f *fakeDocker) actions() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := slices.Clone(f.calls)
	verb := func(c call) string { return strings.Fields(c.args)[0] }
	for i := 0; i < len(out); {
		j := i + 1
		for j < len(out) && out[j].at == out[i].at && verb(out[j]) == verb(out[i]) {
			j++
		}
		slices.SortFunc(out[i:j], func(a, b call) int { return strings.Compare(a.args, b.args) })
		i = j
	}
	return out
}

// lab is one fake stack, clock and set of shaping commands.
type lab struct {
	clock  *fakeClock
	docker *fakeDocker
	extern chaos.Extern
}

func newLab() *lab {
	clock := &fakeClock{Clock: loadgentest.NewClock(t0)}
	return &lab{clock: clock, docker: &fakeDocker{clock: clock, fail: map[string]error{}}}
}

// run runs netlab chaos args; with interruptAt > 0 it is interrupted then.
func (l *lab) run(t *testing.T, interruptAt time.Duration, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	l.clock.interruptAt, l.clock.cancel = interruptAt, cancel
	return clitest.Run(ctx, chaos.Config{Docker: l.docker, Clock: l.clock, Extern: l.extern}.Main, args...)
}

// runOK runs netlab chaos args to the end and returns its stdout; the
// test ends unless it exits 0.
func (l *lab) runOK(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := l.run(t, 0, args...)
	if code != 0 {
		t.Fatalf("exit %d, stderr: %s", code, errOut)
	}
	return out
}

// timeline writes a timeline file and returns its path.
func timeline(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "timeline.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func wantCalls(t *testing.T, got []call, want ...call) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("docker commands:\n got %v\nwant %v", got, want)
	}
}

// recordingExtern is shaping commands that record their arguments and the
// time, and exit 0.
func recordingExtern(clock *fakeClock, got *[]call) chaos.Extern {
	var mu sync.Mutex
	rec := func(_ context.Context, args []string, _, _ io.Writer, _ func(string) string) int {
		mu.Lock()
		defer mu.Unlock()
		*got = append(*got, call{clock.Now().Sub(t0), strings.Join(args, " ")})
		return 0
	}
	return chaos.Extern{"shape": rec, "partition": rec, "heal": rec, "reset": rec}
}
