// Package probe is the wire format of netlab's UDP probes: a small header
// that lets a client match every reply to its request and measure loss,
// reordering, duplication, corruption and round-trip time. The server
// answers a probe in every mode by sending it back with the reply flag set,
// so a reply is never larger than its request.
//
// The package is public, not internal to the module: it is the protocol
// itself, shared by every client and server of it (udp-client, the
// responder, and netlab's lab), while the server's code stays internal.
//
// Layout (big-endian, HeaderSize bytes, then padding up to the probe size):
//
//	0  4  magic "NLPB"
//	4  1  version (1)
//	5  1  flags (bit 0: reply)
//	6  2  reserved, zero
//	8  8  run id: random per client run, so replies to another run are ignored
//	16 8  sequence number, from 0
//	24 8  send time, Unix nanoseconds of the client's clock
//	32 4  CRC-32C of the whole probe with the flags byte and this field zeroed
//	36 …  padding: bytes derived from the sequence number
package probe

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
)

// Sizes and field values of the format.
const (
	HeaderSize = 36
	Version    = 1
	FlagReply  = 0x01
	// MaxSize is the largest UDP payload over IPv4.
	MaxSize = 65507
)

var magic = [4]byte{'N', 'L', 'P', 'B'}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Errors from Parse.
var (
	ErrNotProbe   = errors.New("probe: not a probe")
	ErrVersion    = errors.New("probe: unsupported version")
	ErrChecksum   = errors.New("probe: checksum mismatch")
	ErrReserved   = errors.New("probe: reserved bits set")
	ErrTooLarge   = errors.New("probe: larger than a UDP datagram")
	ErrSizeTooLow = errors.New("probe: size below the header size")
)

// Probe is the decoded header of one probe.
type Probe struct {
	RunID    uint64
	Seq      uint64
	SentUnix int64 // Unix nanoseconds
	Reply    bool
}

// IsProbe reports whether b starts like a probe (magic and length). It is
// the cheap test the server uses on every datagram; it does not verify the
// checksum.
func IsProbe(b []byte) bool {
	return len(b) >= HeaderSize && [4]byte(b[0:4]) == magic
}

// IsReply reports whether b is a probe with the reply flag set.
func IsReply(b []byte) bool {
	return IsProbe(b) && b[5]&FlagReply != 0
}

// MarkReply turns the probe in b into its reply, in place.
func MarkReply(b []byte) {
	b[5] |= FlagReply
}

// Encode writes p into buf as a probe of len(buf) bytes, padding included.
func Encode(buf []byte, p Probe) error {
	if len(buf) < HeaderSize {
		return ErrSizeTooLow
	}
	if len(buf) > MaxSize {
		return ErrTooLarge
	}
	copy(buf[0:4], magic[:])
	buf[4] = Version
	buf[5] = 0
	if p.Reply {
		buf[5] = FlagReply
	}
	buf[6], buf[7] = 0, 0
	binary.BigEndian.PutUint64(buf[8:], p.RunID)
	binary.BigEndian.PutUint64(buf[16:], p.Seq)
	binary.BigEndian.PutUint64(buf[24:], uint64(p.SentUnix))
	fillPadding(buf[HeaderSize:], p.Seq)
	binary.BigEndian.PutUint32(buf[32:], checksum(buf))
	return nil
}

// Parse decodes and verifies a probe. ErrNotProbe means b is not a probe at
// all; ErrChecksum (with the header decoded as far as it could be) means it
// was one but arrived damaged.
func Parse(b []byte) (Probe, error) {
	if !IsProbe(b) {
		return Probe{}, ErrNotProbe
	}
	if len(b) > MaxSize {
		return Probe{}, ErrTooLarge
	}
	if b[4] != Version {
		return Probe{}, ErrVersion
	}
	p := Probe{
		RunID:    binary.BigEndian.Uint64(b[8:]),
		Seq:      binary.BigEndian.Uint64(b[16:]),
		SentUnix: int64(binary.BigEndian.Uint64(b[24:])),
		Reply:    b[5]&FlagReply != 0,
	}
	if b[5]&^FlagReply != 0 || b[6] != 0 || b[7] != 0 {
		return p, ErrReserved
	}
	if binary.BigEndian.Uint32(b[32:]) != checksum(b) {
		return p, ErrChecksum
	}
	return p, nil
}

// checksum is CRC-32C over b with the flags byte and the checksum field
// taken as zero, so marking a probe as a reply does not change it.
// zeros stand in for the header fields the checksum skips; a package
// variable, because a local array passed to crc32.Update escapes.
var zeros [4]byte

func checksum(b []byte) uint32 {
	// The header with its flags byte (5) and checksum field (32-35) read as
	// zero, fed in pieces: a zeroed copy of the header would escape to the
	// heap through crc32.Update and cost an allocation per probe.
	crc := crc32.Update(0, castagnoli, b[:5])
	crc = crc32.Update(crc, castagnoli, zeros[:1])
	crc = crc32.Update(crc, castagnoli, b[6:32])
	crc = crc32.Update(crc, castagnoli, zeros[:])
	return crc32.Update(crc, castagnoli, b[HeaderSize:])
}

// fillPadding writes bytes derived from seq, so a damaged or swapped payload
// fails the checksum instead of looking like another probe's.
func fillPadding(b []byte, seq uint64) {
	x := seq*0x9E3779B97F4A7C15 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
}
