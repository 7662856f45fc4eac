package chaos_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/internal/chaos"
	"github.com/netlab/netlab/lab/internal/cli/clitest"
)

func TestRun_EventsHappenAtTheirTimesInOrder(t *testing.T) {
	l := newLab()
	file := timeline(t, `
steps:
  - at: 1s
    kill: tcp-echo
  - at: 3s
    start: tcp-echo
  - at: 4s
    restart: http-hello
  - at: 5s
    pause: peer-2
    for: 2s
  - at: 7s          # the pause ends before this one starts
    stop: peer-2
`)
	out := l.runOK(t, "run", file)
	wantCalls(t, l.docker.actions(),
		call{1 * time.Second, "kill " + id("tcp-echo-1")},
		call{3 * time.Second, "start " + id("tcp-echo-1")},
		call{4 * time.Second, "restart " + id("http-hello-1")},
		call{5 * time.Second, "pause " + id("peer-2")},
		call{7 * time.Second, "unpause " + id("peer-2")},
		call{7 * time.Second, "stop " + id("peer-2")})
	clitest.Contains(t, "stdout", out,
		"6 events over 7s",
		"plan: at +7s unpause peer-2 (step 4's for: 2s)",
		"   +1.000s  14:00:01.000  kill tcp-echo: signalled tcp-echo-1",
		"   +7.000s  14:00:07.000  stop peer-2: stopped peer-2",
		"peer-2 stays stopped until `netlab chaos start peer-2`")
}

func TestRun_InterruptUndoesWhatTheTimelineWouldHaveUndone(t *testing.T) {
	l := newLab()
	file := timeline(t, `
steps:
  - {at: 1s, pause: peer-1}     # a later step unpauses it: undone now
  - {at: 2s, stop: tcp-echo}    # nothing starts it again: stays
  - {at: 3s, kill: peer-2, for: 20s}  # its for: is ahead: undone now
  - {at: 4s, pause: peer-3, for: 1s}  # already undone at 5s
  - {at: 9s, unpause: peer}
`)
	code, out, _ := l.run(t, 6*time.Second, "run", file)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	wantCalls(t, l.docker.actions(),
		call{1 * time.Second, "pause " + id("peer-1")},
		call{2 * time.Second, "stop " + id("tcp-echo-1")},
		call{3 * time.Second, "kill " + id("peer-2")},
		call{4 * time.Second, "pause " + id("peer-3")},
		call{5 * time.Second, "unpause " + id("peer-3")},
		// in the order the changes were made
		call{6 * time.Second, "unpause " + id("peer-1")},
		call{6 * time.Second, "start " + id("peer-2")})
	clitest.Contains(t, "stdout", out, "interrupted: undoing now",
		"tcp-echo-1 stays stopped until `netlab chaos start tcp-echo-1`", "done: interrupted")
	if strings.Contains(out, "peer-1 stays") || strings.Contains(out, "peer-2 stays") {
		t.Errorf("an undone change is reported as staying:\n%s", out)
	}
}

func TestRun_ShapingStepsRefusedWithoutTheCommandsButPlanned(t *testing.T) {
	file := timeline(t, `
steps:
  - {at: 1s, kill: tcp-echo}
  - {at: 2s, shape: peer-1, delay: 50ms, loss: 2%, to: peer-2, for: 5s}
  - {at: 3s, partition: [peer-1, peer-3]}
  - {at: 4s, heal: all}
`)
	l := newLab()
	code, _, errOut := l.run(t, 0, "run", file)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	clitest.Contains(t, "stderr", errOut, "step 2 (netlab shape), step 3 (netlab partition) and step 4 (netlab heal): not available in this build")
	wantCalls(t, l.docker.actions()) // refused before anything happened

	code, out, _ := l.run(t, 0, "run", "--check", file)
	if code != 0 {
		t.Errorf("--check: exit %d, want 0", code)
	}
	clitest.Contains(t, "--check", out,
		"plan: at +2s shape peer-1 --delay 50ms --loss 2% --to peer-2 → peer-1 (step 2): not available in this build",
		"plan: at +7s shape peer-1 --reset (step 2's for: 5s): not available in this build",
		"check: the timeline is valid; nothing was done")
	wantCalls(t, l.docker.actions())
}

func TestRun_ShapingStepsRunTheShapingCommands(t *testing.T) {
	l := newLab()
	var got []call
	l.extern = recordingExtern(l.clock, &got)
	file := timeline(t, `
steps:
  - {at: 2s, shape: peer-1, delay: 50ms, jitter: 10ms, rate: 20mbit, direction: both, for: 5s}
  - {at: 3s, partition: peer-3, from-all: true}
  - {at: 4s, heal: peer-3}
  - {at: 5s, partition: [peer-1, peer-2], for: 1s}
  - {at: 8s, reset: all}
`)
	l.runOK(t, "run", file)
	wantCalls(t, got,
		call{2 * time.Second, "shape peer-1 --delay 50ms --jitter 10ms --rate 20mbit --direction both"},
		call{3 * time.Second, "partition peer-3 --from-all"},
		call{4 * time.Second, "heal peer-3"},
		call{5 * time.Second, "partition peer-1 peer-2"},
		call{6 * time.Second, "heal peer-1"}, call{6 * time.Second, "heal peer-2"},
		call{7 * time.Second, "shape peer-1 --reset"},
		call{8 * time.Second, "reset"})
}

func TestRun_CheckChangesNothingAndNamesUnknownTargets(t *testing.T) {
	l := newLab()
	code, _, errOut := l.run(t, 0, "run", "--check", timeline(t, "steps:\n  - {at: 1s, kill: tcp-echo}\n  - {at: 2s, pause: dns}\n"))
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	clitest.Contains(t, "stderr", errOut, `step 2 (line 3), pause: unknown target "dns": the stack has http-hello-1, peer-1`)
	wantCalls(t, l.docker.actions())
}

func TestParseTimeline_ReadsEveryAction(t *testing.T) {
	steps, err := chaos.ParseTimeline([]byte(`
steps:
  - at: 0s
    kill: peer-2
    signal: sigterm
  - {at: 1m30s, stop: tcp-echo, for: 10s}
  - {at: 2m, partition: [peer-1, peer-2, peer-3]}
  - {at: 2m, shape: peer-1, loss-ge: "5%,50%", to: peer-2}
  - {at: 3m, reset: peer-1}
  - {at: 3m, heal: all}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := make([]string, len(steps))
	for i, s := range steps {
		got[i] = fmt.Sprintf("%d@%d %v %s %v for=%v sig=%s all=%v %v", s.N, s.Line, s.At, s.Action, s.Targets, s.For, s.Signal, s.FromAll, s.Shape)
	}
	want := []string{
		"1@3 0s kill [peer-2] for=0s sig=SIGTERM all=false []",
		"2@6 1m30s stop [tcp-echo] for=10s sig= all=false []",
		"3@7 2m0s partition [peer-1 peer-2 peer-3] for=0s sig= all=false []",
		"4@8 2m0s shape [peer-1] for=0s sig= all=false [{loss-ge 5%,50%} {to peer-2}]",
		"5@9 3m0s reset [peer-1] for=0s sig= all=false []",
		"6@10 3m0s heal [] for=0s sig= all=false []",
	}
	if !slices.Equal(got, want) {
		t.Errorf("steps:\n got %q\nwant %q", got, want)
	}
}

func TestParseTimeline_ErrorsNameTheStepLineAndField(t *testing.T) {
	tests := []struct{ name, file, want string }{
		{"empty", "", "empty: want a mapping with a list of steps"},
		{"not a mapping", "- at: 1s\n", "line 1: want a mapping with a list of steps"},
		{"unknown top field", "steps: []\nname: x\n", `line 2: unknown field "name"`},
		{"no steps", "steps: []\n", "steps: the list is empty"},
		{"steps not a list", "steps: 3\n", "steps: want a list of steps"},
		{"two documents", "steps: [{at: 1s, kill: peer}]\n---\nsteps: []\n", "more than one YAML document"},
		{"bad YAML", "steps: [\n", "yaml:"},
		{"unknown step field", "steps:\n  - at: 1s\n    kill: peer\n    signl: TERM\n", "step 1 (line 4), signl: unknown field"},
		{"no action", "steps:\n  - at: 1s\n", "step 1 (line 2): want exactly one action"},
		{"two actions", "steps:\n  - {at: 1s, kill: peer, stop: peer}\n", "want exactly one action (pause, unpause, kill, restart, stop, start, shape, partition, heal, reset), got 2"},
		{"missing at", "steps:\n  - {kill: peer}\n", "step 1 (line 2), at: missing"},
		{"at without unit", "steps:\n  - {at: 5, kill: peer}\n", `step 1 (line 2), at: "5" is not a duration`},
		{"negative at", "steps:\n  - {at: -1s, kill: peer}\n", "at: -1s is outside 0..24h0m0s"},
		{"at past the limit", "steps:\n  - {at: 25h, kill: peer}\n", "at: 25h0m0s is outside"},
		{"for past the limit", "steps:\n  - {at: 23h, pause: peer, for: 2h}\n", "for: ends at 25h0m0s"},
		{"zero for", "steps:\n  - {at: 1s, pause: peer, for: 0s}\n", "for: 0: leave for: out"},
		{"out of order", "steps:\n  - {at: 5s, kill: peer}\n  - {at: 2s, start: peer}\n", "step 2 (line 3), at: 2s is before step 1's 5s"},
		{"for on restart", "steps:\n  - {at: 1s, restart: peer, for: 5s}\n", "step 1 (line 2), for: restart does not take it"},
		{"signal on stop", "steps:\n  - {at: 1s, stop: peer, signal: TERM}\n", "signal: stop does not take it"},
		{"bad signal", "steps:\n  - {at: 1s, kill: peer, signal: 99}\n", `signal: "99" is not a signal`},
		{"shape field on pause", "steps:\n  - {at: 1s, pause: peer, delay: 5ms}\n", "delay: pause does not take it"},
		{"empty target", "steps:\n  - {at: 1s, pause: }\n", "pause: want a target"},
		{"list for pause", "steps:\n  - {at: 1s, pause: [peer-1, peer-2]}\n", "pause: want a target"},
		{"bad target name", "steps:\n  - {at: 1s, pause: 'peer 2'}\n", `pause: "peer 2" is not a service`},
		{"partition of one", "steps:\n  - {at: 1s, partition: [peer-1]}\n", "partition: name two or more targets"},
		{"partition twice", "steps:\n  - {at: 1s, partition: [peer-1, peer-1]}\n", "a target is named twice"},
		{"from-all with two", "steps:\n  - {at: 1s, partition: [peer-1, peer-2], from-all: true}\n", "with from-all: true, name one target"},
		{"heal without target", "steps:\n  - {at: 1s, heal: }\n", "heal: want a target (a service, a replica like peer-2, or a container), or all"},
		{"shape without impairment", "steps:\n  - {at: 1s, shape: peer-1, direction: both}\n", "shape: no impairment"},
		{"shape bad loss", "steps:\n  - {at: 1s, shape: peer-1, loss: lots}\n", `loss: "lots" is not a percentage`},
		{"shape loss over 100", "steps:\n  - {at: 1s, shape: peer-1, loss: 120%}\n", "step 1 (line 2), loss: 120% is outside 0..100%"},
		{"shape jitter over delay", "steps:\n  - {at: 1s, shape: peer-1,\n      delay: 5ms,\n      jitter: 9ms}\n", "step 1 (line 4), jitter: 9ms is above the delay 5ms"},
		{"shape bad direction", "steps:\n  - {at: 1s, shape: peer-1, rate: 1mbit, direction: up}\n", `direction: "up" is not egress, ingress or both`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := chaos.ParseTimeline([]byte(tt.file))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestParseTimeline_Limits(t *testing.T) {
	big := "steps:\n" + strings.Repeat("  - {at: 1s, kill: peer}\n", chaos.MaxSteps+1)
	if _, err := chaos.ParseTimeline([]byte(big)); err == nil || !strings.Contains(err.Error(), "more than 1000") {
		t.Errorf("%d steps: error %v, want the limit named", chaos.MaxSteps+1, err)
	}
	huge := "steps:\n" + strings.Repeat("# padding\n", chaos.MaxFileSize/10+1)
	if _, err := chaos.ParseTimeline([]byte(huge)); err == nil || !strings.Contains(err.Error(), "more than the 262144") {
		t.Errorf("a file over %d bytes: error %v, want the limit named", chaos.MaxFileSize, err)
	}
	many := "steps:\n" + strings.Repeat("  - {at: 1s, kil: peer}\n", 30)
	_, err := chaos.ParseTimeline([]byte(many))
	if err == nil || strings.Count(err.Error(), "\n") != 20 || !strings.Contains(err.Error(), "and 10 more errors") {
		t.Errorf("30 bad steps: want 20 errors and a count of the rest, got %v", err)
	}
}

func TestNewPlan_AnUndoComesBeforeAStepAtTheSameTime(t *testing.T) {
	steps := []chaos.Step{
		{N: 1, At: 0, For: 5 * time.Second, Action: chaos.Pause, Targets: []string{"peer"}},
		{N: 2, At: 5 * time.Second, Action: chaos.Kill, Targets: []string{"peer-2"}},
		{N: 3, At: 5 * time.Second, Action: chaos.Stop, Targets: []string{"peer-3"}, For: time.Second},
	}
	var got []string
	for _, e := range chaos.NewPlan(steps) {
		got = append(got, fmt.Sprintf("%v %s %d", e.At, e.Action, e.Step.N))
	}
	want := []string{"0s pause 1", "5s unpause 1", "5s kill 2", "5s stop 3", "6s start 3"}
	if !slices.Equal(got, want) {
		t.Errorf("plan %q, want %q", got, want)
	}
}

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]string{"KILL": "SIGKILL", "sigterm": "SIGTERM", "Hup": "SIGHUP", "9": "9", "64": "64"} {
		if got, err := chaos.ParseSignal(in); err != nil || got != want {
			t.Errorf("ParseSignal(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "65", "SIGFOO", "-9", "KILL;"} {
		if _, err := chaos.ParseSignal(in); err == nil {
			t.Errorf("ParseSignal(%q) accepted", in)
		}
	}
}
