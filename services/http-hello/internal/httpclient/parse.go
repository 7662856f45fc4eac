package httpclient

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// ParseURL parses an http:// or https:// URL with a host. Without a scheme
// ("127.0.0.1:8000/echo") it assumes http://; an empty path becomes "/".
func ParseURL(s string) (*url.URL, error) {
	raw := s
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("invalid URL %q: %v", s, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("invalid URL %q: the scheme must be http or https", s)
	case u.Hostname() == "":
		return nil, fmt.Errorf("invalid URL %q: no host", s)
	case !validHost(u.Hostname()):
		// url.Parse lets "http://]" through; its host:port would not split.
		return nil, fmt.Errorf("invalid URL %q: bad host %q", s, u.Hostname())
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("invalid URL %q: bad port %q", s, p)
		}
	}
	if u.Path == "" && u.Opaque == "" {
		u.Path = "/"
	}
	u.RawQuery = escapeQuery(u.RawQuery)
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// validHost reports whether h (a URL's Hostname) is an IP address or a
// name without the brackets and colons that only an IPv6 address may have.
func validHost(h string) bool {
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	return !strings.ContainsAny(h, "[]:")
}

// ParseHeader parses "Name: value" into a canonical name and a trimmed
// value. The name must be an HTTP token; the value must not contain control
// characters other than tab (CR, LF and NUL among them).
func ParseHeader(s string) (name, value string, err error) {
	k, v, ok := strings.Cut(s, ":")
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return "", "", fmt.Errorf("invalid header %q: want Name: value", s)
	}
	if !IsToken(k) {
		return "", "", fmt.Errorf("invalid header name %q", k)
	}
	v = strings.TrimSpace(v)
	// RFC 9110's field-value: servers refuse any other control character.
	if strings.ContainsFunc(v, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
		return "", "", fmt.Errorf("invalid header %q: the value contains a control character", k)
	}
	return http.CanonicalHeaderKey(k), v, nil
}

// escapeQuery percent-encodes the bytes of a raw query that a request
// line cannot hold (url.Parse keeps a space, for one, and the request line
// would then split there). Existing escapes are kept.
func escapeQuery(q string) string {
	const bad = "\"<>\\^`{|}"
	var b strings.Builder
	for i := range len(q) {
		c := q[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(bad, c) >= 0 {
			if b.Len() == 0 {
				b.WriteString(q[:i])
			}
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(c)
		}
	}
	if b.Len() == 0 {
		return q
	}
	return b.String()
}

// IsToken reports whether s is an HTTP token (RFC 9110, 5.6.2): a method or
// header name.
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
