package node

import (
	"errors"
	"fmt"
	"time"

	"github.com/netlab/netlab/services/peer/internal/wire"
)

// shutdownNotice bounds the write of error(shutdown): a peer that does
// not read must not hold up the node's shutdown.
const shutdownNotice = 500 * time.Millisecond

// peerError is an error frame the peer sent: it has closed the connection.
type peerError struct {
	code wire.ErrorCode
	msg  string
}

func (e *peerError) Error() string { return fmt.Sprintf("peer error %s: %s", e.code, e.msg) }

// label is the code as errors_received_total counts it: codes of a later
// version share one series.
func (e *peerError) label() string {
	if e.code.Known() {
		return e.code.String()
	}
	return "other"
}

// newPeerError is the error an error frame from the peer ends the
// connection with.
func newPeerError(e *wire.Error) *peerError { return &peerError{code: e.Code, msg: e.Message} }

// frameFault reports whether err is the peer's bad frame, with the reason
// frames_invalid_total counts it under and the code to tell the peer.
func frameFault(err error) (reason string, code wire.ErrorCode, ok bool) {
	var decodeErr *wire.DecodeError
	code = wire.ErrorProtocol
	switch {
	case errors.Is(err, wire.ErrVersion):
		reason, code = "version", wire.ErrorVersion
	case errors.Is(err, wire.ErrFrameTooLarge):
		reason, code = "too_large", wire.ErrorTooLarge
	case errors.Is(err, wire.ErrUnknownType):
		reason = "unknown_type"
	case errors.As(err, &decodeErr):
		reason = "malformed"
	case errors.Is(err, wire.ErrTampered):
		reason = "tampered"
	case errors.Is(err, wire.ErrNotSealed):
		reason = "not_sealed"
	default:
		return "", 0, false
	}
	return reason, code, true
}

// countFault counts err, which ended a connection this node dialed, when
// the peer caused it: an error frame it sent (errors_received_total), or
// a bad or unexpected frame (frames_invalid_total), as the accepting side
// counts them. tell, when not nil, tells the peer about a bad frame (an
// unexpected one was answered where it was found). It reports whether
// err was the peer's.
func (m *metrics) countFault(err error, tell func(*wire.Error)) bool {
	var pe *peerError
	if errors.As(err, &pe) {
		m.errorsReceived.WithLabelValues(pe.label()).Inc()
		return true
	}
	if errors.Is(err, errUnexpected) {
		m.framesInvalid.WithLabelValues("unexpected").Inc()
		return true
	}
	if errors.Is(err, errOldVersion) { // its hello answered in an earlier version, already refused
		m.framesInvalid.WithLabelValues("version").Inc()
		return true
	}
	reason, code, ok := frameFault(err)
	if !ok {
		return false
	}
	m.framesInvalid.WithLabelValues(reason).Inc()
	if tell != nil {
		tell(&wire.Error{Code: code, Message: err.Error()})
	}
	return true
}

// goodbye is the error(shutdown) a node sends on each connection it
// closes at shutdown.
func goodbye() *wire.Error {
	return &wire.Error{Code: wire.ErrorShutdown, Message: "node shutting down"}
}
