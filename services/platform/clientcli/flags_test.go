package clientcli_test

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/clientcli"
)

// testFlags is a small client's flags: a mode flag, flags that need it,
// an old name and a bool.
type testFlags struct {
	*clientcli.Flags
	count, conns *int
	every        *time.Duration
	raw          *bool
	message      *string
}

func newTestFlags() testFlags {
	f := testFlags{Flags: clientcli.NewFlags("tool", "Usage: tool [flags] [URL]\n")}
	f.count = f.Int("count", 0, "")
	f.conns = f.Int("connections", 1, "")
	f.every = f.Duration("interval", time.Second, "")
	f.raw = f.Bool("raw", false, "")
	f.message = f.String("message", "hi", "")
	f.Alias("concurrency", "connections")
	f.Alias("plain", "raw")
	return f
}

func TestFlags_Parse(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantOK     bool
		wantArgs   []string
		wantGiven  []string
		wantConns  int
		wantRaw    bool
		wantStdout string
		wantStderr string
	}{
		{name: "flags after the argument", args: []string{"http://h/", "--raw", "--count", "3"},
			wantOK: true, wantArgs: []string{"http://h/"}, wantGiven: []string{"raw", "count"}, wantConns: 1, wantRaw: true},
		{name: "flags around two arguments", args: []string{"--count=2", "a", "--connections", "4", "b"},
			wantOK: true, wantArgs: []string{"a", "b"}, wantGiven: []string{"count", "connections"}, wantConns: 4},
		{name: "-- ends the flags", args: []string{"--raw", "--", "--count", "-x"},
			wantOK: true, wantArgs: []string{"--count", "-x"}, wantGiven: []string{"raw"}, wantConns: 1, wantRaw: true},
		{name: "-- as a flag's value is a value", args: []string{"--message", "--", "a"},
			wantOK: true, wantArgs: []string{"a"}, wantGiven: []string{"message"}, wantConns: 1},
		{name: "- is an argument", args: []string{"-", "--raw"},
			wantOK: true, wantArgs: []string{"-"}, wantGiven: []string{"raw"}, wantConns: 1, wantRaw: true},
		{name: "deprecated name works and says so", args: []string{"--concurrency", "7", "--plain"},
			wantOK: true, wantGiven: []string{"connections", "raw"}, wantConns: 7, wantRaw: true,
			wantStderr: "tool: --concurrency is deprecated; use --connections\ntool: --plain is deprecated; use --raw\n"},
		{name: "old and new name together", args: []string{"--concurrency", "7", "--connections", "2"},
			wantCode: 2, wantStderr: "tool: --concurrency is deprecated; use --connections\n" +
				"tool: --concurrency and --connections are the same flag: give one\nRun 'tool --help' for usage.\n"},
		{name: "help", args: []string{"x", "-h"}, wantStdout: "Usage: tool [flags] [URL]\n"},
		{name: "--help", args: []string{"--help"}, wantStdout: "Usage: tool [flags] [URL]\n"},
		{name: "unknown flag", args: []string{"--nope"}, wantCode: 2,
			wantStderr: "tool: flag provided but not defined: -nope\nRun 'tool --help' for usage.\n"},
		{name: "bad value", args: []string{"a", "--count", "x"}, wantCode: 2,
			wantStderr: "tool: invalid value \"x\" for flag -count: parse error\nRun 'tool --help' for usage.\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newTestFlags()
			var stdout, stderr bytes.Buffer
			code, ok := f.Parse(tt.args, &stdout, &stderr)
			if code != tt.wantCode || ok != tt.wantOK || stdout.String() != tt.wantStdout || stderr.String() != tt.wantStderr {
				t.Fatalf("Parse = %d, %v; stdout %q, stderr %q\nwant %d, %v; stdout %q, stderr %q",
					code, ok, stdout.String(), stderr.String(), tt.wantCode, tt.wantOK, tt.wantStdout, tt.wantStderr)
			}
			if !ok {
				return
			}
			if !slices.Equal(f.Args(), tt.wantArgs) || *f.conns != tt.wantConns || *f.raw != tt.wantRaw {
				t.Errorf("args %q, connections %d, raw %v", f.Args(), *f.conns, *f.raw)
			}
			if want := map[bool]string{true: "concurrency", false: "connections"}[slices.Contains(tt.args, "--concurrency")]; f.As("connections") != want {
				t.Errorf("As(connections) = %q, want %q", f.As("connections"), want)
			}
			for _, name := range []string{"count", "connections", "interval", "raw", "message"} {
				if got, want := f.Given(name), slices.Contains(tt.wantGiven, name); got != want {
					t.Errorf("Given(%q) = %v, want %v", name, got, want)
				}
			}
		})
	}
}

func TestFlags_NeedsAndExcludes(t *testing.T) {
	tests := []struct {
		args []string
		want string // the first error, "" for none
	}{
		{[]string{"--count", "3", "--interval", "1s"}, ""},
		{[]string{"--interval", "1s"}, "--interval needs --count"},
		{[]string{"--connections", "2"}, "--connections needs --count or --raw"},
		{[]string{"--concurrency", "2"}, "--concurrency needs --count or --raw"},
		{[]string{"--raw", "--connections", "2"}, ""},
		{[]string{"--raw", "--count", "2"}, "--raw cannot be combined with --count"},
		{[]string{"--plain", "--message", "x"}, "--plain cannot be combined with --message"},
		{[]string{"--message", "x"}, ""},
		{[]string{"--raw=false", "--count", "2", "--message", "x"}, ""},
		{[]string{"--raw=false", "--connections", "2"}, "--connections needs --count or --raw"},
	}
	for _, tt := range tests {
		f := newTestFlags()
		if _, ok := f.Parse(tt.args, &bytes.Buffer{}, &bytes.Buffer{}); !ok {
			t.Fatalf("Parse(%q) failed", tt.args)
		}
		err := cmp.Or(
			f.Needs("interval", "count"),
			f.Needs("connections", "count", "raw"),
			f.Excludes("raw", "count", "message"),
		)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%q: %q, want %q", tt.args, got, tt.want)
		}
	}
}

func TestFlags_ParseCommand(t *testing.T) {
	f := newTestFlags()
	var stderr bytes.Buffer
	code, ok := f.ParseCommand([]string{"--count", "2", "get", "--raw", "ID"}, &bytes.Buffer{}, &stderr)
	if !ok || code != 0 || *f.count != 2 || *f.raw || !slices.Equal(f.Args(), []string{"get", "--raw", "ID"}) {
		t.Errorf("ParseCommand: ok %v code %d count %d raw %v args %q (%s)", ok, code, *f.count, *f.raw, f.Args(), stderr.String())
	}
}

func TestFlags_UsageError(t *testing.T) {
	var stderr bytes.Buffer
	if code := newTestFlags().UsageError(&stderr, "bad --count"); code != clientcli.ExitUsage ||
		!strings.HasPrefix(stderr.String(), "tool: bad --count\n") {
		t.Errorf("UsageError = %d, %q", code, stderr.String())
	}
}

func TestFlags_ParseArgs(t *testing.T) {
	tests := []struct {
		args       []string
		wantErr    string
		wantStderr string
	}{
		{args: []string{"x", "--count", "2"}},
		{args: []string{"--help"}, wantErr: "flag: help requested"},
		{args: []string{"--nope"}, wantErr: "flag provided but not defined: -nope"},
		{args: []string{"--plain"}, wantStderr: "tool: --plain is deprecated; use --raw\n"},
		{args: []string{"--plain", "--raw"}, wantErr: "--plain and --raw are the same flag: give one",
			wantStderr: "tool: --plain is deprecated; use --raw\n"},
	}
	for _, tt := range tests {
		var stderr bytes.Buffer
		err := newTestFlags().ParseArgs(tt.args, &stderr)
		if got := fmt.Sprint(err); err == nil && tt.wantErr != "" || err != nil && got != tt.wantErr || stderr.String() != tt.wantStderr {
			t.Errorf("%q: %v, stderr %q; want %q, %q", tt.args, err, stderr.String(), tt.wantErr, tt.wantStderr)
		}
	}
}

func TestReportFlag(t *testing.T) {
	tests := []struct {
		args    []string
		want    string // the error, "" for none
		wantDur time.Duration
	}{
		{args: []string{"--count", "2"}},
		{args: []string{"--count", "2", "--report-interval", "250ms"}, wantDur: 250 * time.Millisecond},
		{args: []string{"--report-interval", "1s"}, want: "--report-interval needs --count or --raw"},
		{args: []string{"--count", "2", "--report-interval", "5ms"}, want: "invalid --report-interval 5ms: must be between 10ms and 1h0m0s"},
		{args: []string{"--count", "2", "--report-interval", "2h"}, want: "invalid --report-interval 2h0m0s: must be between 10ms and 1h0m0s"},
	}
	for _, tt := range tests {
		f := newTestFlags()
		report := f.ReportInterval()
		if _, ok := f.Parse(tt.args, &bytes.Buffer{}, &bytes.Buffer{}); !ok {
			t.Fatalf("Parse(%q) failed", tt.args)
		}
		err := report.Check("count", "raw")
		if got := fmt.Sprint(err); err == nil && tt.want != "" || err != nil && got != tt.want {
			t.Errorf("%q: %v, want %q", tt.args, err, tt.want)
		}
		if r := report.Reporting(&bytes.Buffer{}, false); err == nil && (r.Every != tt.wantDur || r.Emit == nil) {
			t.Errorf("%q: reporting every %v, want %v", tt.args, r.Every, tt.wantDur)
		}
	}
}
