// Package config is the peer node's configuration, read from the environment.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/netlab/netlab/services/platform/config"
)

// Piece size bounds, repeated from the content package so config stays a
// leaf package.
const (
	minPieceSize = 16 << 10
	maxPieceSize = 4 << 20
)

// Config is every setting of a peer node. The README lists each variable
// with its default.
type Config struct {
	config.Shared

	// ListenAddr is the TCP address of the peer protocol.
	ListenAddr string `env:"LISTEN_ADDR" envDefault:":8001"`
	// ShareDir is the directory whose files are shared and into which
	// downloads land.
	ShareDir string `env:"SHARE_DIR" envDefault:"/share"`
	// PieceSize is the piece size for files this node hashes.
	PieceSize config.ByteSize `env:"PIECE_SIZE" envDefault:"1MiB"`
	// Hash is the algorithm of pieces and file ids for files this node
	// hashes: blake3 or sha256 (the ids of nodes before protocol version
	// 4). Files downloaded keep the algorithm of their id.
	Hash string `env:"HASH" envDefault:"blake3"`
	// Peers are seed addresses (host or host:port, comma separated). A name
	// is resolved again at every refresh, so a scaled compose service name
	// yields every replica.
	Peers Seeds `env:"PEERS"`
	// AdvertiseAddr is the host:port other nodes should dial to reach this
	// one. Empty: they use the address they see plus the listen port.
	AdvertiseAddr string `env:"ADVERTISE_ADDR"`
	// Secret, when set, must be shared by every node: the handshake proves
	// it and nodes without it are refused.
	Secret string `env:"PEER_SECRET"`
	// Sync makes the node download every file it sees in the swarm.
	Sync bool `env:"SYNC" envDefault:"false"`

	// ServePieces false makes the node send no piece data to anyone: it
	// still downloads and answers the other requests, but its have lists
	// are empty and get_piece is rejected (not_serving). For the
	// client-server arm of experiments, where only the seed uploads.
	ServePieces bool `env:"SERVE_PIECES" envDefault:"true"`
	// UploadRate caps the bytes per second this node uploads (0: no cap).
	UploadRate config.ByteSize `env:"UPLOAD_RATE" envDefault:"0"`
	// UploadBurst is how many bytes the cap lets through at once after an
	// idle spell (0: a quarter second of UPLOAD_RATE). A short upload
	// goes above the rate by its burst; experiments that time one set it
	// low.
	UploadBurst config.ByteSize `env:"UPLOAD_BURST" envDefault:"0"`
	// MaxPeers bounds the peers this node keeps connections to.
	MaxPeers int `env:"MAX_PEERS" envDefault:"50"`
	// MaxConns bounds the connections this node serves at once, once
	// their handshake is done.
	MaxConns int `env:"MAX_CONNS" envDefault:"64"`
	// MaxHandshakes bounds the served connections still in the handshake,
	// apart from MAX_CONNS, so connections that never authenticate cannot
	// lock out the peers that did.
	MaxHandshakes int `env:"MAX_HANDSHAKES" envDefault:"32"`
	// MaxHandshakesPerSource bounds the handshakes from one IP address at
	// once.
	MaxHandshakesPerSource int `env:"MAX_HANDSHAKES_PER_SOURCE" envDefault:"8"`
	// MaxDownloads bounds the downloads running at once; more wait in a queue.
	MaxDownloads int `env:"MAX_DOWNLOADS" envDefault:"4"`
	// RequestsPerPeer bounds the piece requests in flight to one peer.
	RequestsPerPeer int `env:"REQUESTS_PER_PEER" envDefault:"8"`
	// MaxFileSize is the largest file this node downloads or accepts.
	MaxFileSize config.ByteSize `env:"MAX_FILE_SIZE" envDefault:"16GiB"`
	// MinFreeSpace is kept free on the share's disk: a download that would
	// go below it is refused.
	MinFreeSpace config.ByteSize `env:"MIN_FREE_SPACE" envDefault:"64MiB"`
	// MaxBadPieces is how many pieces failing verification make a peer
	// avoided.
	MaxBadPieces int `env:"MAX_BAD_PIECES" envDefault:"3"`

	// IOTimeout bounds every read and write of a frame chunk.
	IOTimeout time.Duration `env:"IO_TIMEOUT" envDefault:"10s"`
	// IdleTimeout closes a served connection that sent no request for this long.
	IdleTimeout time.Duration `env:"IDLE_TIMEOUT" envDefault:"2m"`
	// DialTimeout bounds connecting and the handshake.
	DialTimeout time.Duration `env:"DIAL_TIMEOUT" envDefault:"3s"`
	// RefreshInterval is how often seeds are resolved and peers asked for
	// their catalog and peers.
	RefreshInterval time.Duration `env:"REFRESH_INTERVAL" envDefault:"3s"`
	// ScanInterval is how often the share directory is rescanned.
	ScanInterval time.Duration `env:"SCAN_INTERVAL" envDefault:"2s"`
	// ScanSettle is how long a new or changed file must stay unmodified
	// before it is shared, so half-written files are not offered.
	ScanSettle time.Duration `env:"SCAN_SETTLE" envDefault:"1s"`

	// CorruptUploads is a fault for experiments: the probability (0 to 1)
	// that a piece this node serves is corrupted on the wire.
	CorruptUploads float64 `env:"CORRUPT_UPLOADS" envDefault:"0"`
}

// DefaultPort is the peer protocol's port, used for seeds given without one.
const DefaultPort = "8001"

// Load reads the configuration from environ (nil: the process environment)
// and validates it.
func Load(environ map[string]string) (Config, error) { return config.LoadAs[Config](environ) }

// Validate reports every bad value, each naming its variable.
func (c Config) Validate() error {
	errs := []error{
		c.Shared.Validate(),
		config.ListenAddr("LISTEN_ADDR", c.ListenAddr),
		config.InRange("PIECE_SIZE", int64(c.PieceSize), minPieceSize, maxPieceSize),
		config.OneOf("HASH", c.Hash, "blake3", "sha256"),
		config.InRange("MAX_PEERS", c.MaxPeers, 1, 1000),
		config.InRange("UPLOAD_BURST", int64(c.UploadBurst), 0, 1<<30),
		config.InRange("MAX_CONNS", c.MaxConns, 1, 100_000),
		config.InRange("MAX_HANDSHAKES", c.MaxHandshakes, 1, 10_000),
		config.InRange("MAX_HANDSHAKES_PER_SOURCE", c.MaxHandshakesPerSource, 1, perSourceBound(c.MaxHandshakes)),
		config.InRange("MAX_DOWNLOADS", c.MaxDownloads, 1, 64),
		config.InRange("REQUESTS_PER_PEER", c.RequestsPerPeer, 1, 64),
		config.InRange("MAX_FILE_SIZE", int64(c.MaxFileSize), 1, 1<<50),
		config.InRange("MAX_BAD_PIECES", c.MaxBadPieces, 1, 1000),
		config.InRange("IO_TIMEOUT", c.IOTimeout, 100*time.Millisecond, 10*time.Minute),
		config.InRange("IDLE_TIMEOUT", c.IdleTimeout, time.Second, 24*time.Hour),
		config.InRange("DIAL_TIMEOUT", c.DialTimeout, 100*time.Millisecond, time.Minute),
		config.InRange("REFRESH_INTERVAL", c.RefreshInterval, 100*time.Millisecond, time.Hour),
		config.InRange("SCAN_INTERVAL", c.ScanInterval, 100*time.Millisecond, time.Hour),
		config.InRange("SCAN_SETTLE", c.ScanSettle, 0, time.Hour),
	}
	if c.ShareDir == "" {
		errs = append(errs, &config.Error{Var: "SHARE_DIR", Reason: "must not be empty"})
	}
	if len(c.Peers) > 1000 {
		errs = append(errs, &config.Error{Var: "PEERS", Reason: fmt.Sprintf("at most 1000 seeds, got %d", len(c.Peers))})
	}
	if c.AdvertiseAddr != "" {
		if _, port, err := net.SplitHostPort(c.AdvertiseAddr); err != nil || port == "" || port == "0" {
			errs = append(errs, &config.Error{Var: "ADVERTISE_ADDR", Value: c.AdvertiseAddr, Reason: "must be host:port"})
		}
	}
	if len(c.Secret) > 1024 {
		errs = append(errs, &config.Error{Var: "PEER_SECRET", Reason: "at most 1024 bytes"})
	}
	// HMAC pads its key with zero bytes: "s" and "s\x00" would be one secret.
	if strings.ContainsRune(c.Secret, 0) {
		errs = append(errs, &config.Error{Var: "PEER_SECRET", Reason: "must not contain NUL bytes"})
	}
	// A receiver waits IO_TIMEOUT for each 64 KiB chunk; a cap so low that
	// a few uploads sharing it cannot send chunks that fast would cut
	// every transfer off.
	if minRate := int64(2*64<<10) * int64(time.Second) / int64(max(c.IOTimeout, time.Millisecond)); c.UploadRate != 0 && int64(c.UploadRate) < minRate {
		errs = append(errs, &config.Error{Var: "UPLOAD_RATE", Value: c.UploadRate.String(),
			Reason: fmt.Sprintf("must be 0 (no cap) or at least %d bytes/s (two 64 KiB chunks per IO_TIMEOUT)", minRate)})
	}
	if c.MinFreeSpace < 0 {
		errs = append(errs, &config.Error{Var: "MIN_FREE_SPACE", Reason: "must not be negative"})
	}
	if !(c.CorruptUploads >= 0 && c.CorruptUploads <= 1) {
		errs = append(errs, &config.Error{Var: "CORRUPT_UPLOADS", Value: fmt.Sprint(c.CorruptUploads), Reason: "must be a probability from 0 to 1"})
	}
	return errors.Join(errs...)
}

// perSourceBound is the largest MAX_HANDSHAKES_PER_SOURCE: MAX_HANDSHAKES,
// or its own bound while MAX_HANDSHAKES is invalid (reported once, there).
func perSourceBound(maxHandshakes int) int {
	if maxHandshakes < 1 {
		return 10_000
	}
	return maxHandshakes
}

// Seeds are the PEERS addresses, each normalised by SeedAddr once, when the
// configuration loads.
type Seeds []string

// UnmarshalText parses a comma-separated PEERS value for env/v11.
func (s *Seeds) UnmarshalText(text []byte) error {
	var seeds Seeds
	for entry := range strings.SplitSeq(string(text), ",") {
		addr, err := SeedAddr(entry)
		if err != nil {
			// A *config.Error without a variable: config.Load names it.
			return &config.Error{Reason: err.Error()}
		}
		seeds = append(seeds, addr)
	}
	*s = seeds
	return nil
}

// SeedAddr normalises a PEERS entry to host:port (DefaultPort when none is
// given).
func SeedAddr(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("empty address")
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		// No port: the whole entry is a host (or a bare IPv6 address, maybe
		// in brackets).
		host, port = s, DefaultPort
		if inner, ok := strings.CutPrefix(s, "["); ok {
			host, _ = strings.CutSuffix(inner, "]")
		}
	}
	// Brackets left inside, or a colon outside an IPv6 address, would make
	// an address that does not split again (peers compare them as strings).
	_, ipErr := netip.ParseAddr(host)
	if host == "" || strings.ContainsAny(host, "/[]") || strings.ContainsFunc(host, badHostRune) ||
		(strings.Contains(host, ":") && ipErr != nil) {
		return "", fmt.Errorf("not a host[:port]: %q", s)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || strings.ContainsAny(port, "+-") {
		return "", fmt.Errorf("bad port in %q", s)
	}
	return net.JoinHostPort(host, strconv.Itoa(n)), nil
}

func badHostRune(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }
