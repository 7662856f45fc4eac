package proc

import (
	"fmt"
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

func TestParseStat_CommandWithSpacesAndParens(t *testing.T) {
	// Fields after the name: state ppid pgrp session tty tpgid flags
	// minflt cminflt majflt cmajflt utime stime cutime cstime ...
	tests := []struct {
		name      string
		stat      string
		pgrp      int
		cpu       time.Duration
		wantError bool
	}{
		{"own time", "4242 (tcp echo) (x)) S 1 4200 4200 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0", 4200, 3 * time.Second, false},
		{"exited children counted", "4243 (sh) S 1 4200 4200 0 -1 0 0 0 0 0 100 0 60 40 20 0 1 0", 4200, 2 * time.Second, false},
		{"short", "4242 (x) S 1", 0, 0, true},
		{"no name", "4242 x S 1 2 3", 0, 0, true},
	}
	for _, tt := range tests {
		pgrp, ticks, err := parseStat(tt.stat)
		if (err != nil) != tt.wantError {
			t.Errorf("%s: error %v, want error %v", tt.name, err, tt.wantError)
			continue
		}
		if cpu := time.Duration(ticks) * time.Second / clockTicks; !tt.wantError && (pgrp != tt.pgrp || cpu != tt.cpu) {
			t.Errorf("%s: group %d, cpu %v; want %d, %v", tt.name, pgrp, cpu, tt.pgrp, tt.cpu)
		}
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

func TestParseSchedstat(t *testing.T) {
	ran, waited, err := parseSchedstat("530000000 4000000000 812\n")
	if err != nil || ran != 530*time.Millisecond || waited != 4*time.Second {
		t.Errorf("parseSchedstat = %v, %v, %v", ran, waited, err)
	}
	if _, _, err := parseSchedstat("1"); err == nil {
		t.Error("short schedstat: no error")
	}
}

func TestListensIn(t *testing.T) {
	table := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1
   1: 0100007F:D431 0100007F:1F91 01 00000000:00000000 00:00000000 00000000  1000        0 2 1
`
	tests := []struct {
		port int
		want bool
	}{
		{8080, true},    // 1F90, listening (0A)
		{8081, false},   // 1F91 only as a remote port
		{0xD431, false}, // an established connection, not a listener
	}
	for _, tt := range tests {
		if got := listensIn(table, tt.port); got != tt.want {
			t.Errorf("listensIn(%d) = %v, want %v", tt.port, got, tt.want)
		}
	}
}
