package udpclient

import (
	"encoding/binary"
	"hash/crc32"

	"github.com/netlab/netlab/services/udp-responder/probe"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var zeros [4]byte

// encodeProbe writes p into buf (probe.HeaderSize..probe.MaxSize bytes,
// which the caller ensures) byte for byte as probe.Encode does, but without
// allocating: probe.Encode's checksum copies the header into a local array
// that escapes into crc32.Update, one heap allocation per probe, which the
// load loop cannot afford. TestProbeEncoder_MatchesProbeEncode keeps the two
// identical. (Once package probe checksums without a copy, load can call
// probe.Encode again.)
func encodeProbe(buf []byte, p probe.Probe) {
	copy(buf[0:4], "NLPB")
	buf[4] = probe.Version
	buf[5] = 0
	if p.Reply {
		buf[5] = probe.FlagReply
	}
	buf[6], buf[7] = 0, 0
	binary.BigEndian.PutUint64(buf[8:], p.RunID)
	binary.BigEndian.PutUint64(buf[16:], p.Seq)
	binary.BigEndian.PutUint64(buf[24:], uint64(p.SentUnix))
	fillPadding(buf[probe.HeaderSize:], p.Seq)
	// CRC-32C of the probe with the flags byte and the checksum field
	// taken as zero, fed in pieces so nothing is copied.
	crc := crc32.Update(0, castagnoli, buf[0:5])
	crc = crc32.Update(crc, castagnoli, zeros[:1])
	crc = crc32.Update(crc, castagnoli, buf[6:32])
	crc = crc32.Update(crc, castagnoli, zeros[:4])
	crc = crc32.Update(crc, castagnoli, buf[probe.HeaderSize:])
	binary.BigEndian.PutUint32(buf[32:], crc)
}

// fillPadding is probe's padding: bytes derived from seq by xorshift.
func fillPadding(b []byte, seq uint64) {
	x := seq*0x9E3779B97F4A7C15 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
}

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
