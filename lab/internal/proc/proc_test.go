package proc_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/internal/proc"
)

// fakeServiceEnv makes the test binary act as a netlab server for
// StartService: LISTEN_ADDR takes connections, ADMIN_ADDR answers
// /readyz and /env.
const fakeServiceEnv = "PROC_TEST_FAKE_SERVICE"

func TestMain(m *testing.M) {
	if os.Getenv(fakeServiceEnv) == "1" {
		fakeService()
		return
	}
	os.Exit(m.Run())
}

func fakeService() {
	ln, err := net.Listen("tcp", os.Getenv("LISTEN_ADDR"))
	if err != nil {
		os.Exit(3)
	}
	defer ln.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/readyz", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("/env", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, os.Getenv("LISTEN_ADDR"), " ", os.Getenv("LOG_FORMAT"), " ", os.Getenv("EXTRA"))
	})
	_ = http.ListenAndServe(os.Getenv("ADMIN_ADDR"), mux)
}

func TestGroup_StartServiceGivesAddressesAndWaitsForReadyz(t *testing.T) {
	var g proc.Group
	defer g.StopAll()
	listen, err := proc.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	p, admin, err := g.StartService(t.Context(), "fake", os.Args[0], listen, fakeServiceEnv+"=1", "EXTRA=x")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(admin, "http://127.0.0.1:") {
		t.Errorf("admin = %q, want a loopback base URL", admin)
	}
	resp, err := http.Get(admin + "/env")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := listen + " json x"; string(body) != want {
		t.Errorf("the server saw LISTEN_ADDR, LOG_FORMAT, EXTRA = %q, want %q", body, want)
	}
	if err := proc.WaitTCP(listen)(t.Context()); err != nil {
		t.Errorf("LISTEN_ADDR: %v", err)
	}
	if fds, err := p.OpenFDs(); err != nil || fds < 3 {
		t.Errorf("OpenFDs = %d, %v", fds, err)
	}
}

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

func TestWaitTCPAndListening(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	port := ln.Addr().(*net.TCPAddr).Port
	if err := proc.WaitTCP(addr)(t.Context()); err != nil {
		t.Errorf("WaitTCP on a listener: %v", err)
	}
	if err := proc.WaitListening(port)(t.Context()); err != nil || !proc.Listening(port) {
		t.Errorf("WaitListening on a listener: %v", err)
	}
	ln.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if err := proc.WaitTCP(addr)(ctx); err == nil {
		t.Error("WaitTCP on a closed port: no error")
	}
	if err := proc.WaitListening(port)(ctx); err == nil {
		t.Error("WaitListening on a closed port: no error")
	}
}

func TestFreePorts_AreDistinct(t *testing.T) {
	ports, err := proc.FreePorts(20)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if seen[p] || p <= 0 {
			t.Fatalf("ports %v repeat or are invalid", ports)
		}
		seen[p] = true
	}
}

// fileExists is a readiness check: path exists.
func fileExists(path string) func(context.Context) error {
	return func(ctx context.Context) error {
		for {
			if _, err := os.Stat(path); err == nil {
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(10 * time.Millisecond):
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
