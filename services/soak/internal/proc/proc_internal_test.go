package proc

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseStatmRSS(t *testing.T) {
	got, err := parseStatmRSS("466384 2816 1920 580 0 33290 0\n", 4096)
	if err != nil || got != 2816*4096 {
		t.Errorf("parseStatmRSS = %d, %v; want %d", got, err, 2816*4096)
	}
	if _, err := parseStatmRSS("1", 4096); err == nil {
		t.Error("short statm: no error")
	}
}

func TestParseStatCPU_CommandWithSpacesAndParens(t *testing.T) {
	// Fields after the name: state ppid pgrp session tty tpgid flags
	// minflt cminflt majflt cmajflt utime stime ...
	stat := "4242 (tcp echo) (x)) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0"
	got, err := parseStatCPU(stat)
	if err != nil || got != 3*time.Second {
		t.Errorf("parseStatCPU = %v, %v; want 3s", got, err)
	}
	if _, err := parseStatCPU("4242 (x) S 1"); err == nil {
		t.Error("short stat: no error")
	}
}

func TestTail_KeepsTheEnd(t *testing.T) {
	tl := &tail{max: 8}
	for i := range 5 {
		fmt.Fprintf(tl, "line%d\n", i)
	}
	if got, want := tl.String(), "3\nline4\n"; got != want {
		t.Errorf("tail = %q, want %q", got, want)
	}
}

func TestGroup_StopAllEndsChildren(t *testing.T) {
	var g Group
	p, err := g.Start(t.Context(), "sleep", nil, nil, "sleep", "60")
	if err != nil {
		t.Skip("no sleep binary:", err)
	}
	if rss, err := p.RSS(); err != nil || rss <= 0 {
		t.Errorf("RSS = %d, %v", rss, err)
	}
	g.StopAll()
	if exited, _ := p.Exited(); !exited {
		t.Error("child still running after StopAll")
	}
	p.Stop() // a second stop is harmless
}

func TestGroup_StartReportsAnEarlyExit(t *testing.T) {
	var g Group
	defer g.StopAll()
	never := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	_, err := g.Start(t.Context(), "false", nil, never, "sh", "-c", "echo bad config >&2; exit 2")
	if err == nil || !strings.Contains(err.Error(), "bad config") {
		t.Errorf("Start = %v, want the exit and its stderr", err)
	}
}

func TestParseSchedstat(t *testing.T) {
	ran, waited, err := parseSchedstat("530000000 4000000000 812\n")
	if err != nil || ran != 530*time.Millisecond || waited != 4*time.Second {
		t.Errorf("parseSchedstat = %v, %v, %v", ran, waited, err)
	}
	if _, _, err := parseSchedstat("1"); err == nil {
		t.Error("short schedstat: no error")
	}
}
