package clientcli_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/platform/tabletest"
)

func TestResolveAddr(t *testing.T) {
	env := func(v string) func(string) string { return func(string) string { return v } }
	tests := []struct {
		name      string
		flag      string
		flagGiven bool
		envValue  string
		want      string
		wantErr   string
	}{
		{"flag wins", "h:1", true, "e:2", "h:1", ""},
		{"environment next", "", false, "e:2", "e:2", ""},
		{"fallback last", "", false, "", "127.0.0.1:9", ""},
		{"bad flag", "nohost", true, "", "", `invalid address "nohost" from --addr`},
		{"bad environment", "", false, "e:", "", `invalid address "e:" from ADDR_ENV`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := clientcli.ResolveAddr(tt.flag, tt.flagGiven, env(tt.envValue), "ADDR_ENV", "127.0.0.1:9")
			tabletest.Result(t, "ResolveAddr", got, err, tt.want, tt.wantErr)
		})
	}
}

func TestFailureAndUsageError(t *testing.T) {
	var out bytes.Buffer
	if code := clientcli.Failure(&out, "tool", errors.New("no reply")); code != 1 || out.String() != "tool: no reply\n" {
		t.Fatalf("Failure: code %d, output %q", code, out.String())
	}
	out.Reset()
	if code := clientcli.Failure(&out, "tool", fmt.Errorf("probe: %w", context.Canceled)); code != 1 || out.String() != "tool: interrupted\n" {
		t.Fatalf("Failure on cancel: code %d, output %q", code, out.String())
	}
	out.Reset()
	if code := clientcli.UsageError(&out, "tool", "bad --count"); code != 2 || !strings.HasPrefix(out.String(), "tool: bad --count\nRun 'tool --help'") {
		t.Fatalf("UsageError: code %d, output %q", code, out.String())
	}
}
