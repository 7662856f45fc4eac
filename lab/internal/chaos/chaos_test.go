package chaos_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/internal/cli/clitest"
)

func TestChaos_PauseForUndoesItselfAfterTheWait(t *testing.T) {
	l := newLab()
	out := l.runOK(t, "pause", "peer-2", "--after", "5s", "--for", "10s")
	wantCalls(t, l.docker.actions(),
		call{5 * time.Second, "pause " + id("peer-2")},
		call{15 * time.Second, "unpause " + id("peer-2")})
	clitest.Contains(t, "stdout", out,
		"plan: at +5s pause peer-2 → peer-2 (--after 5s)",
		"plan: at +15s unpause peer-2 (--for 10s)",
		"   +5.000s  14:00:05.000  pause peer-2: paused peer-2",
		"  +15.000s  14:00:15.000  unpause peer-2: running peer-2",
		"done: every event succeeded")
	if strings.Contains(out, "stays") {
		t.Errorf("nothing stays changed, yet:\n%s", out)
	}
}

func TestChaos_PauseWithoutForStaysAndSaysHowToUndo(t *testing.T) {
	l := newLab()
	out := l.runOK(t, "pause", "peer-2", "--project", "lab2")
	wantCalls(t, l.docker.actions(), call{0, "pause " + id("peer-2")})
	clitest.Contains(t, "stdout", out, "peer-2 stays paused until `netlab chaos unpause peer-2 --project lab2`")
	if strings.Contains(out, "plan:") {
		t.Errorf("an immediate action prints no plan:\n%s", out)
	}
}

func TestChaos_InterruptDuringForUndoesAtOnce(t *testing.T) {
	l := newLab()
	code, out, _ := l.run(t, 7*time.Second, "stop", "peer", "--after", "5s", "--for", "10s")
	if code != 1 {
		t.Errorf("exit %d, want 1 for an interrupted run", code)
	}
	wantCalls(t, l.docker.actions(),
		call{5 * time.Second, "stop " + id("peer-1")}, call{5 * time.Second, "stop " + id("peer-2")}, call{5 * time.Second, "stop " + id("peer-3")},
		call{7 * time.Second, "start " + id("peer-1")}, call{7 * time.Second, "start " + id("peer-2")}, call{7 * time.Second, "start " + id("peer-3")})
	clitest.Contains(t, "stdout", out, "+7.000s  14:00:07.000  interrupted", "start peer: running peer-1, peer-2, peer-3", "done: interrupted")
}

func TestChaos_InterruptBeforeActingChangesNothing(t *testing.T) {
	l := newLab()
	code, out, _ := l.run(t, 2*time.Second, "kill", "tcp-echo", "--after", "5s", "--for", "10s")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	wantCalls(t, l.docker.actions())
	clitest.Contains(t, "stdout", out, "interrupted")
}

func TestChaos_KillSendsTheSignalToEveryReplica(t *testing.T) {
	l := newLab()
	out := l.runOK(t, "kill", "--signal", "term", "peer")
	wantCalls(t, l.docker.actions(),
		call{0, "kill --signal SIGTERM " + id("peer-1")}, call{0, "kill --signal SIGTERM " + id("peer-2")}, call{0, "kill --signal SIGTERM " + id("peer-3")})
	clitest.Contains(t, "stdout", out, "kill -s SIGTERM peer: signalled peer-1, peer-2, peer-3",
		"peer-1 stays stopped until `netlab chaos start peer-1`")
}

func TestChaos_AFailedActionExitsOneAndItsUndoHasNothingToDo(t *testing.T) {
	l := newLab()
	l.docker.fail["pause "+id("peer-2")] = errors.New("docker pause: container is not running")
	code, out, _ := l.run(t, 0, "pause", "peer", "--for", "3s")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	// Only the two that were paused are unpaused.
	wantCalls(t, l.docker.actions(),
		call{0, "pause " + id("peer-1")}, call{0, "pause " + id("peer-2")}, call{0, "pause " + id("peer-3")},
		call{3 * time.Second, "unpause " + id("peer-1")}, call{3 * time.Second, "unpause " + id("peer-3")})
	clitest.Contains(t, "stdout", out, "pause peer: FAILED: peer-2: docker pause: container is not running", "done: 1 of 2 event(s) failed")
}

func TestChaos_BadInputExitsTwoNamingIt(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"nothing", nil, "want an action"},
		{"unknown action", []string{"explode", "peer"}, `unknown action "explode"`},
		{"shape is not a chaos action", []string{"shape", "peer"}, "shape is a timeline step or netlab shape"},
		{"no target", []string{"pause"}, "want one TARGET"},
		{"two targets", []string{"pause", "peer-1", "peer-2"}, "want one TARGET"},
		{"a bad name", []string{"pause", "peer;rm"}, `TARGET "peer;rm" is not`},
		{"unknown target names what exists", []string{"pause", "peer-9"},
			`TARGET: unknown target "peer-9": the stack has http-hello-1, peer-1, peer-2, peer-3, tcp-echo-1`},
		{"for on restart", []string{"restart", "peer", "--for", "5s"}, "--for: restart leaves nothing to undo"},
		{"for on unpause", []string{"unpause", "peer", "--for", "5s"}, "--for: unpause leaves nothing to undo"},
		{"signal on pause", []string{"pause", "peer", "--signal", "TERM"}, "--signal: only kill sends a signal"},
		{"a bad signal", []string{"kill", "peer", "--signal", "SIGFOO"}, `--signal: "SIGFOO" is not a signal`},
		{"a negative wait", []string{"pause", "peer", "--after", "-1s"}, "--after -1s is outside 0..24h0m0s"},
		{"a bad duration", []string{"pause", "peer", "--for", "soon"}, `invalid value "soon" for flag -for`},
		{"too long", []string{"pause", "peer", "--after", "20h", "--for", "5h"}, "--for 5h0m0s is outside"},
		{"run wants a file", []string{"run"}, "want one timeline file, got 0"},
		{"run names a missing file", []string{"run", "/nonexistent/t.yaml"}, "/nonexistent/t.yaml: no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLab()
			code, out, errOut := l.run(t, 0, tt.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2; stderr: %s", code, errOut)
			}
			clitest.Contains(t, "stderr", errOut, tt.want)
			if out != "" {
				t.Errorf("stdout = %q, want nothing", out)
			}
			wantCalls(t, l.docker.actions())
		})
	}
}

func TestChaos_HelpListsFormsAndFlags(t *testing.T) {
	l := newLab()
	for args, wants := range map[string][]string{
		"-h":         {"usage: netlab chaos ACTION TARGET", "netlab chaos run", "--for undoes"},
		"pause -h":   {"usage: netlab chaos pause TARGET", "-after", "-for", "-signal", "-project", "-json"},
		"run -h":     {"usage: netlab chaos run", "-check", "steps:", "Unknown fields are refused"},
		"run --help": {"-check"},
	} {
		code, out, _ := l.run(t, 0, strings.Fields(args)...)
		if code != 0 {
			t.Errorf("%s: exit %d", args, code)
		}
		clitest.Contains(t, args, out, wants...)
	}
}

func TestChaos_JSONIsOneObjectPerEvent(t *testing.T) {
	l := newLab()
	out := l.runOK(t, "pause", "peer-2", "--after", "1s", "--for", "2s", "--json")
	var events []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r struct {
			Schema, Event, Action, Message string
			T                              float64
			Time                           time.Time
			At                             *float64
			Containers                     []string
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if r.Schema != "netlab-chaos/1" || r.Message == "" || !r.Time.Equal(t0.Add(time.Duration(r.T*float64(time.Second)))) {
			t.Errorf("line %q: want the schema, a message and a time that is t0 + t", line)
		}
		events = append(events, r.Event+" "+r.Action)
		if r.Event == "undo" && (r.T != 3 || *r.At != 3 || strings.Join(r.Containers, ",") != "peer-2") {
			t.Errorf("undo line %q: want t 3, at 3, peer-2", line)
		}
	}
	want := "start |plan pause|plan unpause|action pause|undo unpause|done "
	if strings.Join(events, "|") != want {
		t.Errorf("events %q, want %q", strings.Join(events, "|"), want)
	}
}
