package udpclient

import (
	"github.com/netlab/netlab/services/udp-responder/probe"
)

// isReplyTo reports whether b is req sent back, with or without the reply
// flag: the same bytes otherwise, so the same run, sequence number,
// timestamp, padding and checksum. It is stricter than probe.Parse and
// allocates nothing.
func isReplyTo(b, req []byte) bool {
	return len(b) == len(req) && len(b) >= probe.HeaderSize &&
		string(b[:5]) == string(req[:5]) &&
		b[5]&^probe.FlagReply == req[5] &&
		string(b[6:]) == string(req[6:])
}
