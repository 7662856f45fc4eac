package main

import (
	"strings"
	"testing"

	"github.com/netlab/netlab/lab/internal/cli"
	"github.com/netlab/netlab/lab/internal/cli/clitest"
)

func shaperCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return clitest.Main(t, "netlab-shaper", about, commands, args...)
}

// Bad specs exit 2 with the field named, before anything touches the kernel.
func TestShaper_BadSpecsNameTheField(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"apply", "-rate", "20mbt"}, `invalid value "20mbt" for flag -rate`},
		{[]string{"apply", "-delay", "11s"}, "delay: 11s is outside 0..10s"},
		{[]string{"run", "-loss", "120%"}, "loss: 120% is outside 0..100%"},
		{[]string{"plan", "-delay", "10ms", "-jitter", "20ms"}, "jitter: 20ms is above the delay 10ms"},
		{[]string{"plan", "-direction", "up", "-loss", "1"}, `direction: "up" is not egress, ingress or both`},
		{[]string{"plan", "-to", "nowhere", "-loss", "1"}, `invalid value "nowhere" for flag -to`},
		{[]string{"plan"}, "spec: no impairment given"},
		{[]string{"run", "-reorder", "5"}, "reorder: needs a delay"},
		{[]string{"partition", "10.0.0"}, "peers: "},
		{[]string{"partition"}, "peers: want 1..256 addresses, got 0"},
		{[]string{"apply", "-burst", "4kb"}, "burst: burst and queue need a rate"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := shaperCmd(t, tt.args...)
			if code != cli.ExitUsage || stdout != "" || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and %q", code, stdout, stderr, tt.want)
			}
		})
	}
}

func TestShaper_Help(t *testing.T) {
	code, stdout, _ := shaperCmd(t, "help")
	for _, want := range []string{"plan", "apply", "run", "show", "reset", "partition", "heal"} {
		if code != 0 || !strings.Contains(stdout, "  "+want+" ") {
			t.Errorf("help lacks %q: %s", want, stdout)
		}
	}
}
