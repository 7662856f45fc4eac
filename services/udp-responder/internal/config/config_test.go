package config_test

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/config/configtest"
	"github.com/netlab/netlab/services/platform/tabletest"
	"github.com/netlab/netlab/services/udp-responder/internal/config"
)

func TestLoad_Defaults(t *testing.T) {
	loopback, err := config.ParseNetworks("127.0.0.0/8,::1/128")
	if err != nil {
		t.Fatal(err)
	}
	cfg := configtest.Loads(t, config.Load, map[string]string{}, config.Config{
		Shared:           configtest.SharedDefaults(),
		ListenAddr:       ":12345",
		Mode:             "greet",
		Greeting:         "Hello, client!",
		MaxDatagram:      2048,
		MaxAmplification: 1,
		RateLimit:        2000,
		RateBurst:        4000,
		RateTableSize:    65536,
		Sockets:          0,
		BatchSize:        32,
		ProbeRuns:        16384,
		ProbeRunTTL:      2 * time.Minute,
		ShutdownToken:    "",
		ShutdownAllow:    loopback,
	})
	if got := cfg.ShutdownAllow.String(); got != "127.0.0.0/8,::1/128" {
		t.Errorf("SHUTDOWN_ALLOW defaults to %q, want loopback", got)
	}
}

func TestLoad_ErrorsNameTheVariable(t *testing.T) {
	configtest.Refuses(t, config.Load, []configtest.Bad{
		{Env: map[string]string{"MODE": "loud"}, Var: "MODE"},
		{Env: map[string]string{"MAX_AMPLIFICATION": "2"}, Var: "MAX_AMPLIFICATION"},
		{Env: map[string]string{"MAX_AMPLIFICATION": "0"}, Var: "MAX_AMPLIFICATION"},
		{Env: map[string]string{"MAX_AMPLIFICATION": "lots"}, Var: "MAX_AMPLIFICATION", Msg: `MAX_AMPLIFICATION="lots": not a valid number`},
		{Env: map[string]string{"MAX_DATAGRAM": "70000"}, Var: "MAX_DATAGRAM"},
		{Env: map[string]string{"RATE_LIMIT": "0"}, Var: "RATE_LIMIT"},
		{Env: map[string]string{"RATE_BURST": "0"}, Var: "RATE_BURST"},
		{Env: map[string]string{"RATE_TABLE_SIZE": "1"}, Var: "RATE_TABLE_SIZE"},
		{Env: map[string]string{"SOCKETS": "-1"}, Var: "SOCKETS"},
		{Env: map[string]string{"BATCH_SIZE": "0"}, Var: "BATCH_SIZE"},
		{Env: map[string]string{"PROBE_RUNS": "15"}, Var: "PROBE_RUNS"},
		{Env: map[string]string{"PROBE_RUN_TTL": "5s"}, Var: "PROBE_RUN_TTL"},
		{Env: map[string]string{"GREETING": strings.Repeat("g", 1025)}, Var: "GREETING"},
		{Env: map[string]string{"SHUTDOWN_TOKEN": "short"}, Var: "SHUTDOWN_TOKEN"},
		{Env: map[string]string{"SHUTDOWN_TOKEN": "has a space"}, Var: "SHUTDOWN_TOKEN"},
		{Env: map[string]string{"SHUTDOWN_ALLOW": "10.0.0.0/8,nonsense"}, Var: "SHUTDOWN_ALLOW", Msg: `SHUTDOWN_ALLOW="10.0.0.0/8,nonsense": "nonsense" is not a network in CIDR form`},
		{Env: map[string]string{"LISTEN_ADDR": "12345"}, Var: "LISTEN_ADDR"},
	})
}

func TestLoad_NeverPrintsTheToken(t *testing.T) {
	_, err := config.Load(map[string]string{"SHUTDOWN_TOKEN": "abc def ghi"})
	if err == nil || strings.Contains(err.Error(), "abc def ghi") {
		t.Fatalf("error %v: want an error that hides the token", err)
	}
}

func TestParseNetworks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		wantErr  string
	}{
		{in: "127.0.0.0/8,::1/128", want: "127.0.0.0/8,::1/128"},
		{in: " 10.1.2.3/8, ::1/128 ,", want: "10.0.0.0/8,::1/128"},
		{in: "::ffff:10.0.0.0/104", want: "10.0.0.0/8"},
		{in: ",", want: ""},
		{in: "10.0.0.0/8,nonsense", wantErr: `"nonsense" is not a network`},
		{in: "10.0.0.0/33", wantErr: `"10.0.0.0/33" is not a network`},
		{in: "10.0.0.1", wantErr: `"10.0.0.1" is not a network`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			nets, err := config.ParseNetworks(tt.in)
			tabletest.Result(t, fmt.Sprintf("ParseNetworks(%q)", tt.in), nets.String(), err, tt.want, tt.wantErr)
		})
	}
}

func TestNetworks_Contains(t *testing.T) {
	t.Parallel()
	nets, err := config.ParseNetworks("127.0.0.0/8,fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		addr string
		want bool
	}{
		{"127.0.0.1", true},
		{"::ffff:127.0.0.1", true}, // compared unmapped
		{"fd00::1", true},
		{"10.0.0.1", false},
		{"::1", false},
	} {
		if got := nets.Contains(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("Contains(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
}

// Variables named 0_…, 1_… are not list items to env/v11 here: the
// networks are exactly those of SHUTDOWN_ALLOW.
func TestLoad_ShutdownAllowIgnoresIndexedVariables(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load(map[string]string{"SHUTDOWN_ALLOW": "10.0.0.0/8", "0_X": "1", "1_Y": "2"})
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.ShutdownAllow.String(); got != "10.0.0.0/8" {
		t.Errorf("SHUTDOWN_ALLOW = %q, want 10.0.0.0/8", got)
	}
}
