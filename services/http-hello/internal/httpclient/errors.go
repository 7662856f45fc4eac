package httpclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"syscall"
	"time"

	"github.com/netlab/netlab/services/platform/neterr"
)

// Phase is the step of a request that failed.
type Phase int

// Phases of a request.
const (
	PhaseConnect  Phase = iota // resolving and dialing
	PhaseTLS                   // the TLS handshake
	PhaseResponse              // waiting for the response headers
	PhaseBody                  // reading the body
)

func (p Phase) String() string {
	switch p {
	case PhaseConnect:
		return "connecting"
	case PhaseTLS:
		return "in the TLS handshake"
	case PhaseResponse:
		return "waiting for the response"
	case PhaseBody:
		return "reading the body"
	}
	return "unknown phase"
}

// RequestError reports a request that got no complete response.
type RequestError struct {
	Method, URL string
	Addr        string // host:port
	Phase       Phase
	TimedOut    bool          // the per-request timeout ran out
	Limit       time.Duration // the per-request timeout
	Bytes       int64         // body bytes read before the error (PhaseBody)
	Err         error
}

func (e *RequestError) Error() string {
	var dns *net.DNSError
	switch {
	case e.Phase == PhaseConnect && errors.As(e.Err, &dns):
		return fmt.Sprintf("cannot resolve %s: %s", e.Addr, neterr.Reason(e.Err))
	case e.Phase == PhaseConnect && e.TimedOut:
		return fmt.Sprintf("cannot reach %s: timed out after %s", e.Addr, e.Limit)
	case e.Phase == PhaseConnect:
		return fmt.Sprintf("cannot reach %s: %s", e.Addr, neterr.Reason(e.Err))
	case e.TimedOut && e.Phase == PhaseBody:
		return fmt.Sprintf("%s %s: timed out after %s reading the body (%d bytes read)", e.Method, e.URL, e.Limit, e.Bytes)
	case e.TimedOut:
		return fmt.Sprintf("%s %s: timed out after %s %s", e.Method, e.URL, e.Limit, e.Phase)
	case e.Phase == PhaseTLS:
		return fmt.Sprintf("%s %s: TLS handshake failed: %v", e.Method, e.URL, e.Err)
	case e.Phase == PhaseResponse && errors.Is(e.Err, io.EOF):
		return fmt.Sprintf("%s %s: the server closed the connection without a response", e.Method, e.URL)
	case e.Phase == PhaseBody && errors.Is(e.Err, io.ErrUnexpectedEOF):
		return fmt.Sprintf("%s %s: the server closed the connection after %d body bytes", e.Method, e.URL, e.Bytes)
	}
	return fmt.Sprintf("%s %s: %s %s", e.Method, e.URL, neterr.Reason(e.Err), e.Phase)
}

func (e *RequestError) Unwrap() error { return e.Err }

// Timeout reports whether the request timed out, like net.Error.
func (e *RequestError) Timeout() bool { return e.TimedOut }

// StatusError reports a complete response with an unexpected status.
type StatusError struct {
	Method, URL string
	Status      string // "404 Not Found"
	Code        int
	Expect      int
	Location    string // of a redirect, which is not followed
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("%s %s: %s, expected %d", e.Method, e.URL, e.Status, e.Expect)
	if e.Location != "" {
		s += " (redirect to " + e.Location + ", not followed)"
	}
	return s
}

// requestError turns an error of the transport or of the body into a
// *RequestError, or into ctx's error when the caller's context ended.
func (c *Client) requestError(ctx, rctx context.Context, tr *tracer, bytes int64, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	timedOut := errors.Is(context.Cause(rctx), errTimedOut) || neterr.IsTimeout(err)
	if timedOut && errors.Is(err, context.DeadlineExceeded) {
		err = errTimedOut
	}
	return &RequestError{
		Method: c.method, URL: c.url, Addr: c.addr,
		Phase: tr.phase(), TimedOut: timedOut, Limit: c.cfg.Timeout, Bytes: bytes, Err: err,
	}
}

// Kind classifies a failed request for the summary of a load run.
type Kind int

// Kinds of failures.
const (
	KindRefused Kind = iota // connection refused
	KindTimeout             // the per-request timeout ran out
	KindDNS                 // the host name did not resolve
	KindReset               // connection reset or broken pipe
	KindTLS                 // TLS handshake or certificate
	KindClosed              // the server closed the connection early
	KindStatus              // a complete response with an unexpected status
	KindOther
	numKinds
)

var kindNames = [numKinds]string{"refused", "timeout", "dns", "reset", "tls", "closed", "status", "other"}

func (k Kind) String() string {
	if k < 0 || k >= numKinds {
		return "unknown"
	}
	return kindNames[k]
}

// KindOf classifies an error returned by Do.
func KindOf(err error) Kind {
	var (
		se   *StatusError
		re   *RequestError
		dns  *net.DNSError
		cert *tls.CertificateVerificationError
		rec  tls.RecordHeaderError
		alrt tls.AlertError
		ua   x509.UnknownAuthorityError
		hn   x509.HostnameError
		inv  x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &se):
		return KindStatus
	case errors.As(err, &re) && re.TimedOut, neterr.IsTimeout(err):
		return KindTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return KindRefused
	case errors.As(err, &dns):
		return KindDNS
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED):
		return KindReset
	case errors.As(err, &re) && re.Phase == PhaseTLS, errors.As(err, &cert), errors.As(err, &rec),
		errors.As(err, &alrt), errors.As(err, &ua), errors.As(err, &hn), errors.As(err, &inv):
		return KindTLS
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return KindClosed
	}
	return KindOther
}
