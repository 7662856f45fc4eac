package bench

import (
	"strings"
	"testing"
	"time"
)

func TestParseFlags_RejectsNamingTheFlag(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-reps", "0"}, "-reps must be 1..100"},
		{[]string{"-reps", "many"}, `invalid value "many" for flag -reps`},
		{[]string{"-duration", "100ms"}, "-duration must be 1s..10m"},
		{[]string{"-duration", "5"}, "flag -duration"},
		{[]string{"-no-such-flag"}, "-no-such-flag"},
		{[]string{"tcp-bulk"}, `unexpected argument "tcp-bulk"`},
	}
	for _, tt := range tests {
		var stdout, stderr strings.Builder
		_, code, ok := parseFlags(tt.args, &stdout, &stderr)
		if ok || code != 2 || !strings.HasPrefix(stderr.String(), "netlab bench: ") || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("parseFlags(%v) = %d, %v, %q; want exit 2 naming %q", tt.args, code, ok, stderr.String(), tt.want)
		}
	}
}

func TestParseFlags_DefaultsAndHelp(t *testing.T) {
	var stdout, stderr strings.Builder
	o, _, ok := parseFlags(nil, &stdout, &stderr)
	if !ok || o.reps != 5 || o.duration != 5*time.Second || o.bin != "bin" || o.imagePrefix != "netlab" || o.imageTag != "dev" {
		t.Errorf("defaults = %+v (%s)", o, stderr.String())
	}
	_, code, ok := parseFlags([]string{"-h"}, &stdout, &stderr)
	if ok || code != 0 {
		t.Fatalf("-h = %d, %v; want exit 0", code, ok)
	}
	for _, flag := range []string{"bin", "chart", "containers", "doc", "duration", "image-prefix", "image-tag", "json", "only", "profile", "reps"} {
		if !strings.Contains(stdout.String(), "  -"+flag+" ") && !strings.Contains(stdout.String(), "  -"+flag+"\n") {
			t.Errorf("-h lacks -%s:\n%s", flag, stdout.String())
		}
	}
}

func TestConfig_ChooseNamesOnlyWhenNothingMatches(t *testing.T) {
	c := Config{Bin: "bin", Duration: time.Second, WorkDir: t.TempDir()}
	chosen, err := c.choose("udp-rr-50,http-hello")
	if err != nil || len(chosen) != 2 || chosen[0].Name != "udp-rr-50" || chosen[1].Name != "http-hello" {
		t.Errorf("choose = %v, %v; want udp-rr-50 and http-hello in the table's order", chosen, err)
	}
	if _, err := c.choose("dns"); err == nil || !strings.Contains(err.Error(), `-only: no workload matches "dns"`) {
		t.Errorf("choose(dns) = %v, want an error naming -only", err)
	}
}
