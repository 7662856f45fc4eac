package responder

import (
	"bytes"
	"crypto/subtle"
	"net/netip"

	"github.com/netlab/netlab/services/udp-responder/internal/config"
	"github.com/netlab/netlab/services/udp-responder/internal/ratelimit"
	"github.com/netlab/netlab/services/udp-responder/probe"
)

// Why a datagram got no reply; label values of the dropped metric.
const (
	dropTooLarge      = "too_large"     // larger than MAX_DATAGRAM
	dropEmpty         = "empty"         // zero-length datagram
	dropOwnPort       = "own_port"      // sent from our own port: possibly another responder
	dropLoop          = "loop"          // looks like one of our own replies
	dropRateLimited   = "rate_limited"  // the source exceeded RATE_LIMIT
	dropAmplification = "amplification" // the reply would be larger than MAX_AMPLIFICATION allows
	dropExitIgnored   = "exit_ignored"  // an exit without the right token or from a disallowed source
	dropExitAccepted  = "exit_accepted" // the exit that shut the server down (no reply is sent)
	dropWriteError    = "write_error"   // the reply could not be sent
)

var dropReasons = []string{
	dropTooLarge, dropEmpty, dropOwnPort, dropLoop, dropRateLimited,
	dropAmplification, dropExitIgnored, dropExitAccepted, dropWriteError,
}

// policy decides what, if anything, to answer to one datagram. It holds
// no per-datagram state and allocates nothing.
type policy struct {
	mode        string
	greeting    []byte
	maxDatagram int
	// amplification is MAX_AMPLIFICATION; a reply of n bytes to a request
	// of m bytes is sent only if n <= m*amplification.
	amplification float64
	ownPort       uint16
	limiter       *ratelimit.Table
	exitCommand   []byte // "exit <token>", or nil when exit is disabled
	exitAllowed   config.Networks
}

func newPolicy(cfg config.Config, ownPort uint16) *policy {
	p := &policy{
		mode:          cfg.Mode,
		greeting:      []byte(cfg.Greeting),
		maxDatagram:   cfg.MaxDatagram,
		amplification: cfg.MaxAmplification,
		ownPort:       ownPort,
		limiter:       ratelimit.New(cfg.RateLimit, cfg.RateBurst, cfg.RateTableSize),
		exitAllowed:   cfg.ShutdownAllow,
	}
	if cfg.ShutdownToken != "" {
		p.exitCommand = []byte("exit " + cfg.ShutdownToken)
	}
	return p
}

// verdict is the outcome for one datagram.
type verdict struct {
	reply    []byte // what to send back; nil for none
	probe    bool   // reply is a probe (req marked as a reply)
	dropped  string // why there is no reply ("" when there is one)
	shutdown bool   // a valid exit arrived: start a graceful shutdown
}

// decide returns the verdict for req from src. The reply may alias req
// (echo, probes) or the greeting; it is never longer than req allows.
func (p *policy) decide(src netip.AddrPort, req []byte) verdict {
	switch {
	case len(req) > p.maxDatagram:
		return verdict{dropped: dropTooLarge}
	case len(req) == 0:
		return verdict{dropped: dropEmpty}
	case src.Port() == p.ownPort:
		// Another responder (or a spoofed one) on our port would answer our
		// reply, and we its: the classic echo loop.
		return verdict{dropped: dropOwnPort}
	}
	// Rate limit before anything else costs work, and before the exit check
	// so the token cannot be guessed at line rate.
	if !p.limiter.Allow(src.Addr().Unmap()) {
		return verdict{dropped: dropRateLimited}
	}
	if probe.IsReply(req) || bytes.Equal(req, p.greeting) {
		return verdict{dropped: dropLoop}
	}
	if cmd := bytes.TrimRight(req, "\r\n"); isExit(cmd) {
		if p.exitCommand != nil && subtle.ConstantTimeCompare(cmd, p.exitCommand) == 1 && p.exitAllowed.Contains(src.Addr()) {
			return verdict{dropped: dropExitAccepted, shutdown: true}
		}
		return verdict{dropped: dropExitIgnored}
	}

	var reply []byte
	isProbe := probe.IsProbe(req)
	switch {
	case isProbe:
		probe.MarkReply(req)
		reply = req
	case p.mode == config.ModeEcho:
		reply = req
	default:
		reply = p.greeting
	}
	if float64(len(reply)) > float64(len(req))*p.amplification {
		return verdict{dropped: dropAmplification}
	}
	return verdict{reply: reply, probe: isProbe}
}

// isExit reports whether cmd is the tutorial's "exit" command, with or
// without an argument.
func isExit(cmd []byte) bool {
	const word = "exit"
	return bytes.Equal(cmd, []byte(word)) || bytes.HasPrefix(cmd, []byte(word+" "))
}
