package tests_test

// netlab chaos against the real compose stack: a timeline of kills, a
// start and a restart, each checked against the time Docker itself
// recorded for it.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/events"

	"github.com/netlab/netlab/tests/e2e"
)

// chaosOnTime is how far from its planned time an event may happen.
const chaosOnTime = time.Second

const chaosTimeline = `
steps:
  - {at: 2s, kill: tcp-echo}          # SIGKILL: stays down (a docker kill is a stop)
  - {at: 5s, start: tcp-echo}
  - {at: 8s, restart: http-hello}     # SIGTERM, graceful stop, start
  - {at: 11s, kill: tcp-echo, signal: TERM, for: 3s}   # graceful exit, started 3 s later
`

// TestChaos_TimelineHappensOnTimeAndTheServicesRecover runs a kill/start/
// restart timeline with netlab chaos run and finds each event in Docker's
// own event log within chaosOnTime of its time; then both services are
// healthy again and tcp-echo echoes.
func TestChaos_TimelineHappensOnTimeAndTheServicesRecover(t *testing.T) {
	netlab := e2e.NetlabBinary(t)
	s := e2e.NewStack(t, e2e.StackConfig{Services: []string{e2e.TCPEcho, e2e.HTTPHello}})
	file := filepath.Join(t.TempDir(), "timeline.yaml")
	if err := os.WriteFile(file, []byte(chaosTimeline), 0o600); err != nil {
		t.Fatal(err)
	}
	launched := time.Now()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), netlab, "chaos", "run", "--json", "--project", s.Name, file)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("netlab chaos run: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	ended := time.Now()
	zero := chaosStart(t, stdout.Bytes())
	if zero.Before(launched) || zero.Sub(launched) > 5*time.Second {
		t.Fatalf("the timeline's zero %v is not within 5 s after the command started (%v)", zero, launched)
	}
	evs := e2e.ContainerEvents(t, s.Name, launched.Add(-time.Second), ended.Add(time.Second))
	echo, hello := s.Service(e2e.TCPEcho).Container().GetContainerID(), s.Service(e2e.HTTPHello).Container().GetContainerID()

	for _, want := range []struct {
		what   string
		id     string
		action events.Action
		signal string
		at     time.Duration
		within time.Duration // of at
	}{
		{"kill tcp-echo", echo, events.ActionKill, "9", 2 * time.Second, chaosOnTime},
		{"tcp-echo dies of it", echo, events.ActionDie, "", 2 * time.Second, chaosOnTime},
		{"start tcp-echo", echo, events.ActionStart, "", 5 * time.Second, chaosOnTime},
		{"restart http-hello: its SIGTERM", hello, events.ActionKill, "15", 8 * time.Second, chaosOnTime},
		// The restart began with the SIGTERM; the start follows the
		// service's graceful stop, bounded by its stop_grace_period.
		{"restart http-hello: started again", hello, events.ActionStart, "", 8 * time.Second, 15*time.Second + chaosOnTime},
		{"kill -s TERM tcp-echo", echo, events.ActionKill, "15", 11 * time.Second, chaosOnTime},
		{"tcp-echo exits on its TERM", echo, events.ActionDie, "", 11 * time.Second, chaosOnTime},
		{"for: 3s starts tcp-echo", echo, events.ActionStart, "", 14 * time.Second, chaosOnTime},
	} {
		got, ok := firstEvent(evs, want.id, want.action, want.signal, zero.Add(want.at-chaosOnTime))
		if !ok {
			t.Errorf("%s: no %s event after +%v in Docker's log:\n%s", want.what, want.action, want.at-chaosOnTime, describeEvents(evs, zero))
			continue
		}
		off := got.Sub(zero.Add(want.at))
		t.Logf("%-36s planned +%-4v Docker +%.3fs (%+.0f ms)", want.what, want.at, got.Sub(zero).Seconds(), float64(off)/1e6)
		if math.Abs(float64(off)) > float64(want.within) {
			t.Errorf("%s happened at +%.3fs, more than %v from +%v", want.what, got.Sub(zero).Seconds(), want.within, want.at)
		}
	}
	requireRecovered(t, s)
}

// chaosStart is the timeline's zero: the wall clock of its start event.
func chaosStart(t *testing.T, out []byte) time.Time {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var r struct {
			Schema, Event string
			T             float64
			Time          time.Time
			Error         string
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil || r.Schema != "netlab-chaos/1" {
			t.Fatalf("not a netlab-chaos/1 line: %q (%v)", line, err)
		}
		if r.Error != "" && r.Event != "done" {
			t.Errorf("netlab reports an error: %s", line)
		}
		if r.Event == "start" {
			return r.Time.Add(-time.Duration(r.T * float64(time.Second)))
		}
	}
	t.Fatalf("no start event in:\n%s", out)
	return time.Time{}
}

// firstEvent is the time of the container's first event of that action
// (and signal, for kill) at or after from.
func firstEvent(evs []events.Message, id string, action events.Action, signal string, from time.Time) (time.Time, bool) {
	for _, m := range evs {
		if m.Actor.ID == id && m.Action == action && (signal == "" || m.Actor.Attributes["signal"] == signal) &&
			!e2e.EventTime(m).Before(from) {
			return e2e.EventTime(m), true
		}
	}
	return time.Time{}, false
}

func describeEvents(evs []events.Message, zero time.Time) string {
	var b strings.Builder
	for _, m := range evs {
		fmt.Fprintf(&b, "  +%.3fs %s %s %s\n", e2e.EventTime(m).Sub(zero).Seconds(), m.Actor.Attributes["com.docker.compose.service"], m.Action, m.Actor.Attributes["signal"])
	}
	return b.String()
}

// requireRecovered waits until both services are running and healthy
// again, then echoes through tcp-echo.
func requireRecovered(t *testing.T, s *e2e.Stack) {
	t.Helper()
	for _, name := range []string{e2e.TCPEcho, e2e.HTTPHello} {
		ctr := s.Service(name).Container()
		start := time.Now()
		err := e2e.Poll(t.Context(), 60*time.Second, 200*time.Millisecond, func() error {
			info, err := ctr.Inspect(t.Context())
			if err != nil {
				return err
			}
			return e2e.Unhealthy(info.State)
		})
		if err != nil {
			t.Fatalf("%s did not recover: %v", name, err)
		}
		t.Logf("%s healthy %s after the timeline ended", name, time.Since(start).Round(10*time.Millisecond))
	}
	e2e.ExpectEcho(t, e2e.Dial(t, e2e.ContainerAddr(t, s.Service(e2e.TCPEcho).Container(), tcpEchoPort)), []byte("after the chaos"))
}
