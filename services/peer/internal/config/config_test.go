package config_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/services/peer/internal/config"
	platform "github.com/netlab/netlab/services/platform/config"
)

// configErrors flattens err (a tree of errors.Join results) into the
// *platform.Error values it holds.
func configErrors(err error) []*platform.Error {
	var out []*platform.Error
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if ce, ok := e.(*platform.Error); ok {
			out = append(out, ce)
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, inner := range u.Unwrap() {
				walk(inner)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

func errorVars(err error) []string {
	var vars []string
	for _, e := range configErrors(err) {
		vars = append(vars, e.Var)
	}
	slices.Sort(vars)
	return slices.Compact(vars)
}

func TestLoad_DefaultsWithEmptyEnvironment(t *testing.T) {
	t.Parallel()
	c, err := config.Load(map[string]string{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"ListenAddr", c.ListenAddr, ":8001"},
		{"AdminAddr", c.AdminAddr, ":9090"},
		{"ShareDir", c.ShareDir, "/share"},
		{"PieceSize", int64(c.PieceSize), int64(1 << 20)},
		{"Peers", len(c.Peers), 0},
		{"AdvertiseAddr", c.AdvertiseAddr, ""},
		{"Secret", c.Secret, ""},
		{"Sync", c.Sync, false},
		{"UploadRate", int64(c.UploadRate), int64(0)},
		{"MaxPeers", c.MaxPeers, 50},
		{"MaxConns", c.MaxConns, 64},
		{"MaxDownloads", c.MaxDownloads, 4},
		{"RequestsPerPeer", c.RequestsPerPeer, 8},
		{"MaxFileSize", int64(c.MaxFileSize), int64(16 << 30)},
		{"MinFreeSpace", int64(c.MinFreeSpace), int64(64 << 20)},
		{"MaxBadPieces", c.MaxBadPieces, 3},
		{"IOTimeout", c.IOTimeout, 10 * time.Second},
		{"IdleTimeout", c.IdleTimeout, 2 * time.Minute},
		{"DialTimeout", c.DialTimeout, 3 * time.Second},
		{"RefreshInterval", c.RefreshInterval, 3 * time.Second},
		{"ScanInterval", c.ScanInterval, 2 * time.Second},
		{"CorruptUploads", c.CorruptUploads, 0.0},
	}
	for _, tt := range checks {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

func TestLoad_AcceptsValidSettings(t *testing.T) {
	t.Parallel()
	c, err := config.Load(map[string]string{
		"LISTEN_ADDR": "127.0.0.1:0", "SHARE_DIR": "/tmp/x", "PIECE_SIZE": "64KiB",
		"UPLOAD_RATE": "2MiB", "ADVERTISE_ADDR": "node1:8001", "SYNC": "true",
		"CORRUPT_UPLOADS": "0.25", "IO_TIMEOUT": "100ms", "REQUESTS_PER_PEER": "64",
	})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.PieceSize != 64<<10 || c.UploadRate != 2<<20 || !c.Sync || c.CorruptUploads != 0.25 ||
		c.IOTimeout != 100*time.Millisecond || c.RequestsPerPeer != 64 || c.AdvertiseAddr != "node1:8001" {
		t.Errorf("Load() = %+v", c)
	}
}

func TestLoad_ErrorsNameTheirVariable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		wantVar string
		wantMsg string // also in err.Error(), when set
	}{
		{"piece size too small", map[string]string{"PIECE_SIZE": "1KiB"}, "PIECE_SIZE", "must be between"},
		{"piece size too large", map[string]string{"PIECE_SIZE": "8MiB"}, "PIECE_SIZE", "must be between"},
		{"piece size not a size", map[string]string{"PIECE_SIZE": "abc"}, "PIECE_SIZE", `PIECE_SIZE="abc": not a valid size`},
		{"max peers zero", map[string]string{"MAX_PEERS": "0"}, "MAX_PEERS", ""},
		{"max peers not a number", map[string]string{"MAX_PEERS": "abc"}, "MAX_PEERS", "not a valid integer"},
		{"max conns zero", map[string]string{"MAX_CONNS": "0"}, "MAX_CONNS", ""},
		{"max downloads too many", map[string]string{"MAX_DOWNLOADS": "65"}, "MAX_DOWNLOADS", ""},
		{"requests per peer too many", map[string]string{"REQUESTS_PER_PEER": "65"}, "REQUESTS_PER_PEER", ""},
		{"requests per peer zero", map[string]string{"REQUESTS_PER_PEER": "0"}, "REQUESTS_PER_PEER", ""},
		{"max file size zero", map[string]string{"MAX_FILE_SIZE": "0"}, "MAX_FILE_SIZE", ""},
		{"max bad pieces zero", map[string]string{"MAX_BAD_PIECES": "0"}, "MAX_BAD_PIECES", ""},
		{"peers bad port", map[string]string{"PEERS": "host:99999"}, "PEERS", "bad port"},
		{"peers space in host", map[string]string{"PEERS": "good,a b"}, "PEERS", `PEERS="a b"`},
		{"peers empty entry", map[string]string{"PEERS": "a,,b"}, "PEERS", "empty address"},
		{"advertise without port", map[string]string{"ADVERTISE_ADDR": "nohost"}, "ADVERTISE_ADDR", "must be host:port"},
		{"advertise port zero", map[string]string{"ADVERTISE_ADDR": "host:0"}, "ADVERTISE_ADDR", ""},
		{"secret too long", map[string]string{"PEER_SECRET": strings.Repeat("s", 1025)}, "PEER_SECRET", ""},
		{"upload rate below 1KiB", map[string]string{"UPLOAD_RATE": "100"}, "UPLOAD_RATE", "at least 13107 bytes/s"},
		{"upload rate not a size", map[string]string{"UPLOAD_RATE": "fast"}, "UPLOAD_RATE", "not a valid size"},
		{"corrupt uploads above one", map[string]string{"CORRUPT_UPLOADS": "1.5"}, "CORRUPT_UPLOADS", "probability"},
		{"corrupt uploads negative", map[string]string{"CORRUPT_UPLOADS": "-0.1"}, "CORRUPT_UPLOADS", ""},
		{"corrupt uploads NaN", map[string]string{"CORRUPT_UPLOADS": "NaN"}, "CORRUPT_UPLOADS", ""},
		{"io timeout too short", map[string]string{"IO_TIMEOUT": "1ms"}, "IO_TIMEOUT", ""},
		{"idle timeout too short", map[string]string{"IDLE_TIMEOUT": "10ms"}, "IDLE_TIMEOUT", ""},
		{"dial timeout too long", map[string]string{"DIAL_TIMEOUT": "2m"}, "DIAL_TIMEOUT", ""},
		{"refresh interval too short", map[string]string{"REFRESH_INTERVAL": "1ms"}, "REFRESH_INTERVAL", ""},
		{"scan interval not a duration", map[string]string{"SCAN_INTERVAL": "often"}, "SCAN_INTERVAL", "not a valid duration"},
		{"listen addr without port", map[string]string{"LISTEN_ADDR": "nohost"}, "LISTEN_ADDR", ""},
		{"shared key", map[string]string{"LOG_LEVEL": "loud"}, "LOG_LEVEL", ""},
		{"sync not a boolean", map[string]string{"SYNC": "maybe"}, "SYNC", "not a valid boolean"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Load(tt.env)
			if err == nil {
				t.Fatalf("Load(%v) = nil error, want one naming %s", tt.env, tt.wantVar)
			}
			if got := errorVars(err); !slices.Equal(got, []string{tt.wantVar}) {
				t.Errorf("error variables = %v, want [%s] (err: %v)", got, tt.wantVar, err)
			}
			if !strings.Contains(err.Error(), tt.wantVar) {
				t.Errorf("err = %q, does not name %s", err, tt.wantVar)
			}
			if tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %q, want it to contain %q", err, tt.wantMsg)
			}
		})
	}
}

func TestLoad_ReportsEveryBadVariable(t *testing.T) {
	t.Parallel()
	_, err := config.Load(map[string]string{
		"MAX_PEERS": "0", "IO_TIMEOUT": "1ms", "UPLOAD_RATE": "100", "PEERS": "ok,host:99999",
	})
	want := []string{"IO_TIMEOUT", "MAX_PEERS", "PEERS", "UPLOAD_RATE"}
	if got := errorVars(err); !slices.Equal(got, want) {
		t.Errorf("error variables = %v, want %v (err: %v)", got, want, err)
	}
}

// An empty value falls back to the default (env/v11 treats VAR= like an
// unset VAR when there is an envDefault), so an empty SHARE_DIR is only
// reachable through Validate.
func TestLoad_EmptyShareDirUsesDefault(t *testing.T) {
	t.Parallel()
	c, err := config.Load(map[string]string{"SHARE_DIR": ""})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.ShareDir != "/share" {
		t.Errorf("ShareDir = %q, want the default /share", c.ShareDir)
	}
}

func TestValidate_EmptyShareDir(t *testing.T) {
	t.Parallel()
	c, err := config.Load(map[string]string{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	c.ShareDir = ""
	err = c.Validate()
	if got := errorVars(err); !slices.Equal(got, []string{"SHARE_DIR"}) {
		t.Errorf("error variables = %v, want [SHARE_DIR] (err: %v)", got, err)
	}
}

func TestValidate_TooManyPeers(t *testing.T) {
	t.Parallel()
	c, err := config.Load(map[string]string{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	for range 1001 {
		c.Peers = append(c.Peers, "p")
	}
	err = c.Validate()
	if got := errorVars(err); !slices.Equal(got, []string{"PEERS"}) || !strings.Contains(err.Error(), "at most 1000") {
		t.Errorf("error variables = %v (err: %v), want [PEERS] saying at most 1000", got, err)
	}
}

func TestLoad_ParsesPeers(t *testing.T) {
	t.Parallel()
	c, err := config.Load(map[string]string{"PEERS": "peer, 10.0.0.2:9000,[::1]"})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	var got []string
	for _, p := range c.Peers {
		addr, err := config.SeedAddr(p)
		if err != nil {
			t.Fatalf("SeedAddr(%q): %v", p, err)
		}
		got = append(got, addr)
	}
	want := []string{"peer:8001", "10.0.0.2:9000", "[::1]:8001"}
	if !slices.Equal(got, want) {
		t.Errorf("seeds = %q, want %q (raw %q)", got, want, c.Peers)
	}
}

func TestSeedAddr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    string
		wantErr string
	}{
		{in: "peer", want: "peer:8001"},
		{in: "  peer  ", want: "peer:8001"},
		{in: "peer:9000", want: "peer:9000"},
		{in: "10.0.0.2", want: "10.0.0.2:8001"},
		{in: "10.0.0.2:65535", want: "10.0.0.2:65535"},
		{in: "[::1]", want: "[::1]:8001"},
		{in: "::1", want: "[::1]:8001"},
		{in: "[::1]:9000", want: "[::1]:9000"},
		{in: "[fe80::1]:1", want: "[fe80::1]:1"},
		{in: "", wantErr: "empty address"},
		{in: "   ", wantErr: "empty address"},
		{in: "host:99999", wantErr: "bad port"},
		{in: "host:0", wantErr: "bad port"},
		{in: "host:", wantErr: "bad port"},
		{in: "host:http", wantErr: "bad port"},
		{in: "[::1]:70000", wantErr: "bad port"},
		{in: ":9000", wantErr: "not a host[:port]"},
		{in: "[]", wantErr: "not a host[:port]"},
		{in: "a b", wantErr: "not a host[:port]"},
		{in: "a/b:1", wantErr: "not a host[:port]"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := config.SeedAddr(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("SeedAddr(%q) = %q, %v; want an error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("SeedAddr(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}
