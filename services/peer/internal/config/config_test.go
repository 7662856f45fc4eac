package config_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/services/peer/internal/config"
	"github.com/netlab/netlab/services/platform/config/configtest"
	"github.com/netlab/netlab/services/platform/tabletest"
)

func TestLoad_DefaultsWithEmptyEnvironment(t *testing.T) {
	t.Parallel()
	configtest.Loads(t, config.Load, map[string]string{}, config.Config{
		Shared:                 configtest.SharedDefaults(),
		ListenAddr:             ":8001",
		ShareDir:               "/share",
		PieceSize:              1 << 20,
		Hash:                   "blake3",
		Peers:                  nil,
		AdvertiseAddr:          "",
		Secret:                 "",
		Sync:                   false,
		ServePieces:            true,
		UploadRate:             0,
		MaxPeers:               50,
		MaxConns:               64,
		MaxHandshakes:          32,
		MaxHandshakesPerSource: 8,
		MaxDownloads:           4,
		RequestsPerPeer:        8,
		MaxFileSize:            16 << 30,
		MinFreeSpace:           64 << 20,
		MaxBadPieces:           3,
		IOTimeout:              10 * time.Second,
		IdleTimeout:            2 * time.Minute,
		DialTimeout:            3 * time.Second,
		RefreshInterval:        3 * time.Second,
		ScanInterval:           2 * time.Second,
		ScanSettle:             time.Second,
		CorruptUploads:         0,
	})
}

func TestLoad_AcceptsValidSettings(t *testing.T) {
	t.Parallel()
	c, err := config.Load(map[string]string{
		"LISTEN_ADDR": "127.0.0.1:0", "SHARE_DIR": "/tmp/x", "PIECE_SIZE": "64KiB",
		"UPLOAD_RATE": "2MiB", "ADVERTISE_ADDR": "node1:8001", "SYNC": "true",
		"CORRUPT_UPLOADS": "0.25", "IO_TIMEOUT": "100ms", "REQUESTS_PER_PEER": "64",
		"SERVE_PIECES": "false", "UPLOAD_BURST": "64KiB", "HASH": "sha256",
	})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.PieceSize != 64<<10 || c.UploadRate != 2<<20 || c.UploadBurst != 64<<10 || !c.Sync || c.ServePieces || c.CorruptUploads != 0.25 ||
		c.IOTimeout != 100*time.Millisecond || c.RequestsPerPeer != 64 || c.AdvertiseAddr != "node1:8001" || c.Hash != "sha256" {
		t.Errorf("Load() = %+v", c)
	}
}

func TestLoad_ErrorsNameTheirVariable(t *testing.T) {
	t.Parallel()
	configtest.Refuses(t, config.Load, []configtest.Bad{
		{Name: "piece size too small", Env: map[string]string{"PIECE_SIZE": "1KiB"}, Var: "PIECE_SIZE", Msg: "must be between"},
		{Name: "hash unknown", Env: map[string]string{"HASH": "md5"}, Var: "HASH", Msg: "must be one of blake3, sha256"},
		{Name: "piece size too large", Env: map[string]string{"PIECE_SIZE": "8MiB"}, Var: "PIECE_SIZE", Msg: "must be between"},
		{Name: "piece size not a size", Env: map[string]string{"PIECE_SIZE": "abc"}, Var: "PIECE_SIZE", Msg: `PIECE_SIZE="abc": not a valid size`},
		{Name: "max peers zero", Env: map[string]string{"MAX_PEERS": "0"}, Var: "MAX_PEERS"},
		{Name: "max peers not a number", Env: map[string]string{"MAX_PEERS": "abc"}, Var: "MAX_PEERS", Msg: "not a valid integer"},
		{Name: "max conns zero", Env: map[string]string{"MAX_CONNS": "0"}, Var: "MAX_CONNS"},
		{Name: "max handshakes zero", Env: map[string]string{"MAX_HANDSHAKES": "0"}, Var: "MAX_HANDSHAKES"},
		{Name: "max handshakes too many", Env: map[string]string{"MAX_HANDSHAKES": "10001"}, Var: "MAX_HANDSHAKES"},
		{Name: "handshakes per source zero", Env: map[string]string{"MAX_HANDSHAKES_PER_SOURCE": "0"}, Var: "MAX_HANDSHAKES_PER_SOURCE"},
		{Name: "handshakes per source over the total", Env: map[string]string{"MAX_HANDSHAKES": "4", "MAX_HANDSHAKES_PER_SOURCE": "5"}, Var: "MAX_HANDSHAKES_PER_SOURCE", Msg: "between 1 and 4"},
		{Name: "max downloads too many", Env: map[string]string{"MAX_DOWNLOADS": "65"}, Var: "MAX_DOWNLOADS"},
		{Name: "requests per peer too many", Env: map[string]string{"REQUESTS_PER_PEER": "65"}, Var: "REQUESTS_PER_PEER"},
		{Name: "requests per peer zero", Env: map[string]string{"REQUESTS_PER_PEER": "0"}, Var: "REQUESTS_PER_PEER"},
		{Name: "max file size zero", Env: map[string]string{"MAX_FILE_SIZE": "0"}, Var: "MAX_FILE_SIZE"},
		{Name: "max bad pieces zero", Env: map[string]string{"MAX_BAD_PIECES": "0"}, Var: "MAX_BAD_PIECES"},
		{Name: "peers bad port", Env: map[string]string{"PEERS": "host:99999"}, Var: "PEERS", Msg: "bad port"},
		{Name: "peers space in host", Env: map[string]string{"PEERS": "good,a b"}, Var: "PEERS", Msg: `PEERS="good,a b": not a host[:port]: "a b"`},
		{Name: "peers empty entry", Env: map[string]string{"PEERS": "a,,b"}, Var: "PEERS", Msg: "empty address"},
		{Name: "advertise without port", Env: map[string]string{"ADVERTISE_ADDR": "nohost"}, Var: "ADVERTISE_ADDR", Msg: "must be host:port"},
		{Name: "advertise port zero", Env: map[string]string{"ADVERTISE_ADDR": "host:0"}, Var: "ADVERTISE_ADDR"},
		{Name: "secret too long", Env: map[string]string{"PEER_SECRET": strings.Repeat("s", 1025)}, Var: "PEER_SECRET"},
		{Name: "upload rate below 1KiB", Env: map[string]string{"UPLOAD_RATE": "100"}, Var: "UPLOAD_RATE", Msg: "at least 13107 bytes/s"},
		{Name: "upload burst above 1GiB", Env: map[string]string{"UPLOAD_BURST": "2GiB"}, Var: "UPLOAD_BURST"},
		{Name: "upload burst not a size", Env: map[string]string{"UPLOAD_BURST": "big"}, Var: "UPLOAD_BURST", Msg: "not a valid size"},
		{Name: "upload rate not a size", Env: map[string]string{"UPLOAD_RATE": "fast"}, Var: "UPLOAD_RATE", Msg: "not a valid size"},
		{Name: "corrupt uploads above one", Env: map[string]string{"CORRUPT_UPLOADS": "1.5"}, Var: "CORRUPT_UPLOADS", Msg: "probability"},
		{Name: "corrupt uploads negative", Env: map[string]string{"CORRUPT_UPLOADS": "-0.1"}, Var: "CORRUPT_UPLOADS"},
		{Name: "corrupt uploads NaN", Env: map[string]string{"CORRUPT_UPLOADS": "NaN"}, Var: "CORRUPT_UPLOADS"},
		{Name: "io timeout too short", Env: map[string]string{"IO_TIMEOUT": "1ms"}, Var: "IO_TIMEOUT"},
		{Name: "idle timeout too short", Env: map[string]string{"IDLE_TIMEOUT": "10ms"}, Var: "IDLE_TIMEOUT"},
		{Name: "dial timeout too long", Env: map[string]string{"DIAL_TIMEOUT": "2m"}, Var: "DIAL_TIMEOUT"},
		{Name: "refresh interval too short", Env: map[string]string{"REFRESH_INTERVAL": "1ms"}, Var: "REFRESH_INTERVAL"},
		{Name: "scan interval not a duration", Env: map[string]string{"SCAN_INTERVAL": "often"}, Var: "SCAN_INTERVAL", Msg: "not a valid duration"},
		{Name: "listen addr without port", Env: map[string]string{"LISTEN_ADDR": "nohost"}, Var: "LISTEN_ADDR"},
		{Name: "shared key", Env: map[string]string{"LOG_LEVEL": "loud"}, Var: "LOG_LEVEL"},
		{Name: "sync not a boolean", Env: map[string]string{"SYNC": "maybe"}, Var: "SYNC", Msg: "not a valid boolean"},
		{Name: "serve pieces not a boolean", Env: map[string]string{"SERVE_PIECES": "off"}, Var: "SERVE_PIECES", Msg: `SERVE_PIECES="off": not a valid boolean`},
		{Name: "serve pieces empty", Env: map[string]string{"SERVE_PIECES": " "}, Var: "SERVE_PIECES", Msg: "not a valid boolean"},
	})
}

// Every value that does not parse is reported at once, and so is every
// value out of range (checked once all values parse).
func TestLoad_ReportsEveryBadVariable(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		env  map[string]string
		want []string
	}{
		{map[string]string{"PEERS": "ok,host:99999", "SYNC": "maybe", "PIECE_SIZE": "big"}, []string{"PEERS", "PIECE_SIZE", "SYNC"}},
		{map[string]string{"MAX_PEERS": "0", "IO_TIMEOUT": "1ms", "UPLOAD_RATE": "100"}, []string{"IO_TIMEOUT", "MAX_PEERS", "UPLOAD_RATE"}},
	} {
		_, err := config.Load(tt.env)
		if got := configtest.Vars(err); !slices.Equal(got, tt.want) {
			t.Errorf("Load(%v): error variables = %v, want %v (err: %v)", tt.env, got, tt.want, err)
		}
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
	if got := configtest.Vars(err); !slices.Equal(got, []string{"SHARE_DIR"}) {
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
	if got := configtest.Vars(err); !slices.Equal(got, []string{"PEERS"}) || !strings.Contains(err.Error(), "at most 1000") {
		t.Errorf("error variables = %v (err: %v), want [PEERS] saying at most 1000", got, err)
	}
}

func TestLoad_ParsesPeers(t *testing.T) {
	t.Parallel()
	c, err := config.Load(map[string]string{"PEERS": "peer, 10.0.0.2:9000,[::1]"})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := config.Seeds{"peer:8001", "10.0.0.2:9000", "[::1]:8001"}
	if !slices.Equal(c.Peers, want) {
		t.Errorf("seeds = %q, want them normalised: %q", c.Peers, want)
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
			tabletest.Result(t, fmt.Sprintf("SeedAddr(%q)", tt.in), got, err, tt.want, tt.wantErr)
		})
	}
}
