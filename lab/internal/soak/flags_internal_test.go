package soak

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/internal/cli/clitest"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func parse(t *testing.T, args []string, vars map[string]string) (options, int, bool, string, string) {
	t.Helper()
	var stdout, stderr strings.Builder
	o, code, ok := parseFlags(args, env(vars), &stdout, &stderr)
	return o, code, ok, stdout.String(), stderr.String()
}

func TestParseFlags_Defaults(t *testing.T) {
	o, _, ok, _, stderr := parse(t, nil, nil)
	if !ok {
		t.Fatal(stderr)
	}
	if !slices.Equal(o.only, phaseNames) || o.tcpConns != 10000 || o.tcpHold != time.Minute || o.timeout != 6*time.Minute ||
		o.peerMiB != 256 || o.tcpRSSWait != 250*time.Second || o.scale != 1 || o.bin != "bin" {
		t.Errorf("defaults = %+v", o)
	}
}

func TestParseFlags_EnvAndCommandLine(t *testing.T) {
	o, _, ok, _, stderr := parse(t, []string{"-only", "udp, tcp", "-tcp-hold", "5s"},
		map[string]string{"SOAK_TCP_HOLD": "9s", "SOAK_UDP_DURATION": "3s", "SOAK_JSON": "true", "SOAK_PEER_MIB": "8"})
	if !ok {
		t.Fatal(stderr)
	}
	if !slices.Equal(o.only, []string{"udp", "tcp"}) {
		t.Errorf("only = %v", o.only)
	}
	if o.tcpHold != 5*time.Second {
		t.Errorf("tcp hold = %v: the command line must win over SOAK_TCP_HOLD", o.tcpHold)
	}
	if o.udpDuration != 3*time.Second || !o.json || o.peerMiB != 8 {
		t.Errorf("SOAK_UDP_DURATION, SOAK_JSON, SOAK_PEER_MIB not applied: %+v", o)
	}
}

func TestParseFlags_RejectsNamingTheFlag(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"-only", "tcp,dns"}, nil, `-only: unknown phase "dns"`},
		{[]string{"-scale", "0"}, nil, "-scale"},
		{[]string{"-tcp-active", "20000"}, nil, "-tcp-active"},
		{[]string{"-tcp-conns", "many"}, nil, "-tcp-conns"},
		{[]string{"-no-such-flag"}, nil, "-no-such-flag"},
		{nil, map[string]string{"SOAK_TCP_CONNS": "many"}, "SOAK_TCP_CONNS"},
		{[]string{"extra"}, nil, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		_, code, ok, _, stderr := parse(t, tt.args, tt.env)
		if ok || code != 2 || !strings.Contains(stderr, tt.want) || !strings.HasPrefix(stderr, "netlab soak: ") {
			t.Errorf("parseFlags(%v, %v) = %d, %v, %q; want exit 2 naming %q", tt.args, tt.env, code, ok, stderr, tt.want)
		}
	}
}

func TestParseFlags_HelpListsEveryFlagWithItsDefault(t *testing.T) {
	_, code, ok, stdout, _ := parse(t, []string{"-h"}, nil)
	if ok || code != 0 {
		t.Fatalf("-h = %d, %v; want exit 0", code, ok)
	}
	o := defaults()
	for _, r := range o.flags() {
		if !strings.Contains(stdout, "  -"+r.name+" ") && !strings.Contains(stdout, "  -"+r.name+"\n") {
			t.Errorf("-h lacks -%s:\n%s", r.name, stdout)
		}
	}
	clitest.Contains(t, "-h", stdout, "SOAK_<FLAG>", "(default 10000)", "(default 4m10s)", "(default 6m0s)")
}

func TestOptions_PhasesInTheOrderGiven(t *testing.T) {
	o, _, ok, _, stderr := parse(t, []string{"-only", "peer,tcp", "-scale", "0.1"}, nil)
	if !ok {
		t.Fatal(stderr)
	}
	var names []string
	for _, p := range o.phases() {
		name, _ := p.describe()
		names = append(names, name)
	}
	if !slices.Equal(names, []string{"peer", "tcp"}) {
		t.Errorf("phases = %v, want peer, tcp", names)
	}
	if tcp := o.phases()[1].(*tcpSoak); tcp.hold != 6*time.Second || tcp.settle != 30*time.Second {
		t.Errorf("tcp phase = %+v: -scale shortens the hold, not the settle bound", tcp)
	}
}

func TestScaled(t *testing.T) {
	tests := []struct {
		d     time.Duration
		scale float64
		want  time.Duration
	}{
		{time.Minute, 1, time.Minute},
		{time.Minute, 0.1, 6 * time.Second},
		{30 * time.Second, 0.01, time.Second}, // never below a second
	}
	for _, tt := range tests {
		if got := scaled(tt.d, tt.scale); got != tt.want {
			t.Errorf("scaled(%v, %v) = %v, want %v", tt.d, tt.scale, got, tt.want)
		}
	}
}
