package proc_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/internal/proc"
)

func TestProc_CPUCountsTheGroup(t *testing.T) {
	var g proc.Group
	defer g.StopAll()
	// A busy loop in a child of sh: the CPU shows up in the group.
	p, err := g.Start(t.Context(), "busy", nil, nil, "sh", "-c", "sh -c 'while :; do :; done' & wait")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		cpu, err := p.CPU()
		if err != nil {
			t.Fatal(err)
		}
		if cpu >= 200*time.Millisecond {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("group CPU %v after 10s of a busy child", cpu)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestGroup_StopAllEndsChildren(t *testing.T) {
	var g proc.Group
	p, err := g.Start(t.Context(), "sleep", nil, nil, "sleep", "60")
	if err != nil {
		t.Fatal(err)
	}
	if rss, err := p.RSS(); err != nil || rss <= 0 {
		t.Errorf("RSS = %d, %v", rss, err)
	}
	if p.Command() != "sleep" {
		t.Errorf("Command = %q, want sleep", p.Command())
	}
	g.StopAll()
	if exited, _ := p.Exited(); !exited {
		t.Error("child still running after StopAll")
	}
	p.Stop() // a second stop is harmless
}

func TestProc_StopEndsTheProcessGroup(t *testing.T) {
	var g proc.Group
	defer g.StopAll()
	pidFile := filepath.Join(t.TempDir(), "pid")
	p, err := g.Start(t.Context(), "parent", nil, fileExists(pidFile),
		"sh", "-c", `sleep 60 & echo $! > "$0.tmp" && mv "$0.tmp" "$0"; wait`, pidFile)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	child, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	p.Stop()
	// The signal reached the child with its parent; its exit may take a
	// moment longer than the parent's.
	deadline := time.Now().Add(3 * time.Second)
	for running(child) {
		if time.Now().After(deadline) {
			t.Fatalf("the child %d of a stopped process still runs", child)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestProc_StopKillsWhatIgnoresSIGTERM(t *testing.T) {
	t.Parallel()
	var g proc.Group
	defer g.StopAll()
	ready := filepath.Join(t.TempDir(), "ready")
	p, err := g.Start(t.Context(), "stubborn", nil, fileExists(ready),
		"sh", "-c", `trap "" TERM; touch "$0"; exec sleep 60`, ready)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	p.Stop()
	if took := time.Since(start); took < 5*time.Second || took > 15*time.Second {
		t.Errorf("Stop took %v, want SIGKILL after the 5 s grace", took)
	}
	if exited, err := p.Exited(); !exited || err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("Exited = %v, %v; want killed", exited, err)
	}
}

func TestGroup_StartReportsAnEarlyExit(t *testing.T) {
	var g proc.Group
	defer g.StopAll()
	never := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	_, err := g.Start(t.Context(), "false", nil, never, "sh", "-c", "echo bad config >&2; exit 2")
	if err == nil || !strings.Contains(err.Error(), "exited at start") || !strings.Contains(err.Error(), "bad config") {
		t.Errorf("Start = %v, want the exit and its stderr", err)
	}
}

func TestGroup_StartStopsWhatIsNeverReady(t *testing.T) {
	var g proc.Group
	defer g.StopAll()
	started := filepath.Join(t.TempDir(), "started")
	refuse := func(ctx context.Context) error {
		if err := fileExists(started)(ctx); err != nil {
			return err
		}
		return errors.New("refused")
	}
	_, err := g.Start(t.Context(), "sleeper", nil, refuse,
		"sh", "-c", `echo warming up >&2; touch "$0"; exec sleep 60`, started)
	if err == nil || !strings.Contains(err.Error(), "sleeper not ready: refused") || !strings.Contains(err.Error(), "warming up") {
		t.Errorf("Start = %v, want not ready with its stderr", err)
	}
}

// fileExists is a readiness check: path exists.
func fileExists(path string) func(context.Context) error {
	return func(ctx context.Context) error {
		for {
			if _, err := os.Stat(path); err == nil {
				return nil
			}
			if !proc.Sleep(ctx, 10*time.Millisecond) {
				return ctx.Err()
			}
		}
	}
}

// running reports whether pid is a live process (not gone, not a zombie).
func running(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && len(s) > i+2 && s[i+2] != 'Z'
}
