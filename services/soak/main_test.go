package main

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseFlags_Defaults(t *testing.T) {
	o, err := parseFlags(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.only, phaseNames) || o.tcpConns != 10000 || o.tcpHold != time.Minute || o.timeout != 6*time.Minute || o.peerMiB != 256 {
		t.Errorf("defaults = %+v", o)
	}
}

func TestParseFlags_EnvAndCommandLine(t *testing.T) {
	o, err := parseFlags([]string{"-only", "udp, tcp", "-tcp-hold", "5s"},
		env(map[string]string{"SOAK_TCP_HOLD": "9s", "SOAK_UDP_DURATION": "3s", "SOAK_JSON": "true"}))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.only, []string{"udp", "tcp"}) {
		t.Errorf("only = %v", o.only)
	}
	if o.tcpHold != 5*time.Second {
		t.Errorf("tcp hold = %v: the command line must win over SOAK_TCP_HOLD", o.tcpHold)
	}
	if o.udpDuration != 3*time.Second || !o.json {
		t.Errorf("SOAK_UDP_DURATION, SOAK_JSON not applied: %+v", o)
	}
}

func TestParseFlags_Rejects(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"-only", "tcp,dns"}, nil, "unknown phase"},
		{[]string{"-scale", "0"}, nil, "-scale"},
		{[]string{"-tcp-active", "20000"}, nil, "-tcp-active"},
		{nil, map[string]string{"SOAK_TCP_CONNS": "many"}, "SOAK_TCP_CONNS"},
		{[]string{"extra"}, nil, "unexpected argument"},
	}
	for _, tt := range tests {
		_, err := parseFlags(tt.args, env(tt.env))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseFlags(%v, %v) = %v, want an error about %q", tt.args, tt.env, err, tt.want)
		}
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

func TestParseFlags_Help(t *testing.T) {
	_, err := parseFlags([]string{"-help"}, env(nil))
	h, ok := errors.AsType[*helpError](err)
	if !ok || !strings.Contains(h.text, "-tcp-hold") {
		t.Errorf("-help = %v, want the flag list", err)
	}
}
