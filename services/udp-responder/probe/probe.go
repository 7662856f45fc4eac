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
// Version 1 layout (big-endian, HeaderSize bytes, then padding up to the
// probe size):
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
//
// Version 2 (HeaderSizeV2 bytes at least) keeps that header and adds a
// section the responder fills in its reply, so that a client can tell
// upstream from downstream loss and measure one-way delay. A request
// carries the section as zeros: the client pads it to make room, and the
// reply stays exactly as large as the request.
//
//	5  1  flags (bit 0: reply; bit 1: count query)
//	32 4  CRC-32C as in version 1, with the section (36-67) taken as zero too
//	36 1  section flags: bit 0 filled; bit 1 kernel receive timestamp;
//	      bit 2 not counted (the responder's run table is full);
//	      bit 3 unknown run (a count query for a run the responder does not track)
//	37 3  reserved, zero
//	40 8  count: requests of this run the responder has received, this one included
//	48 8  receive time, Unix nanoseconds of the responder's clock
//	56 8  send time, Unix nanoseconds of the responder's clock
//	64 4  CRC-32C of bytes 36-63
//	68 …  padding
package probe

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
)

// Sizes and field values of the format.
const (
	HeaderSize   = 36 // version 1 header; the smallest probe
	HeaderSizeV2 = 68 // version 2 header with the responder's section; the smallest v2 probe
	Version      = 1
	VersionV2    = 2
	FlagReply    = 0x01
	FlagQuery    = 0x02 // v2 only: ask for the run's count; the responder does not count it
	// MaxSize is the largest UDP payload over IPv4.
	MaxSize = 65507
)

// Section flags of a version 2 reply (byte 36).
const (
	sectionFilled     = 0x01
	sectionKernelRecv = 0x02
	sectionNotCounted = 0x04
	sectionUnknownRun = 0x08
	sectionKnown      = sectionFilled | sectionKernelRecv | sectionNotCounted | sectionUnknownRun
)

// Offsets of the version 2 section.
const (
	secStart = HeaderSize
	secCount = 40
	secRecv  = 48
	secSend  = 56
	secCRC   = 64
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
	// V2 marks a version 2 probe, whose reply carries Responder.
	V2 bool
	// Query (v2) asks the responder for the run's count only: it is
	// answered but not counted.
	Query bool
	// Responder is what the responder wrote into a v2 reply; the zero
	// value in a request, and in a reply from a responder that does not
	// speak version 2 (it sends the request back as it came).
	Responder Responder
}

// Responder is the section a version 2 responder fills in its reply.
type Responder struct {
	Filled bool // the responder wrote the section
	// KernelRecv: RecvUnix is the kernel's receive timestamp
	// (SO_TIMESTAMPNS); else the time the responder read the datagram.
	KernelRecv bool
	// NotCounted: the responder could not track the run (its table was
	// full), so Count means nothing.
	NotCounted bool
	// UnknownRun: a count query for a run the responder does not track
	// (it received no request of it, or forgot it after its expiry).
	UnknownRun bool
	Count      uint64 // requests of the run received, this one included (queries are not counted)
	RecvUnix   int64  // when the request arrived, responder clock
	SendUnix   int64  // when the reply left, responder clock
}

// headerSize is the smallest probe of p's version.
func (p Probe) headerSize() int {
	if p.V2 {
		return HeaderSizeV2
	}
	return HeaderSize
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

// Encode writes p into buf as a probe of len(buf) bytes, padding included:
// version 1, or version 2 when p.V2 is set (with p.Responder's section when
// Filled, else zeros).
func Encode(buf []byte, p Probe) error {
	if len(buf) < p.headerSize() {
		return ErrSizeTooLow
	}
	if len(buf) > MaxSize {
		return ErrTooLarge
	}
	copy(buf[0:4], magic[:])
	buf[4], buf[5] = Version, 0
	if p.V2 {
		buf[4] = VersionV2
		if p.Query {
			buf[5] = FlagQuery
		}
	}
	if p.Reply {
		buf[5] |= FlagReply
	}
	buf[6], buf[7] = 0, 0
	binary.BigEndian.PutUint64(buf[8:], p.RunID)
	binary.BigEndian.PutUint64(buf[16:], p.Seq)
	binary.BigEndian.PutUint64(buf[24:], uint64(p.SentUnix))
	fillPadding(buf[p.headerSize():], p.Seq)
	if p.V2 {
		clear(buf[secStart:HeaderSizeV2])
		if p.Responder.Filled {
			writeSection(buf, p.Responder)
			StampSend(buf, p.Responder.SendUnix)
		}
	}
	binary.BigEndian.PutUint32(buf[32:], checksum(buf))
	return nil
}

// FillReply turns the version 2 request in b (HeaderSizeV2 bytes at least,
// verified by Parse) into its reply: the reply flag and the responder's
// section, all but the send time. StampSend must follow, just before the
// reply is sent. The probe's checksum stays valid: it does not cover the
// section.
func FillReply(b []byte, r Responder) {
	b[5] |= FlagReply
	writeSection(b, r)
}

// writeSection writes r into b's section, all but the send time and the
// section's checksum.
func writeSection(b []byte, r Responder) {
	flags := byte(sectionFilled)
	if r.KernelRecv {
		flags |= sectionKernelRecv
	}
	if r.NotCounted {
		flags |= sectionNotCounted
	}
	if r.UnknownRun {
		flags |= sectionUnknownRun
	}
	b[secStart] = flags
	b[secStart+1], b[secStart+2], b[secStart+3] = 0, 0, 0
	binary.BigEndian.PutUint64(b[secCount:], r.Count)
	binary.BigEndian.PutUint64(b[secRecv:], uint64(r.RecvUnix))
}

// StampSend writes the send time into the reply FillReply made of b, and
// the section's checksum.
func StampSend(b []byte, sendUnix int64) {
	binary.BigEndian.PutUint64(b[secSend:], uint64(sendUnix))
	binary.BigEndian.PutUint32(b[secCRC:], crc32.Checksum(b[secStart:secCRC], castagnoli))
}

// Parse decodes and verifies a probe of either version. ErrNotProbe means b
// is not a probe at all; ErrChecksum (with the header decoded as far as it
// could be) means it was one but arrived damaged.
func Parse(b []byte) (Probe, error) {
	if !IsProbe(b) {
		return Probe{}, ErrNotProbe
	}
	if len(b) > MaxSize {
		return Probe{}, ErrTooLarge
	}
	allowed := byte(FlagReply)
	switch b[4] {
	case Version:
	case VersionV2:
		if len(b) < HeaderSizeV2 {
			return Probe{}, ErrSizeTooLow
		}
		allowed |= FlagQuery
	default:
		return Probe{}, ErrVersion
	}
	p := Probe{
		RunID:    binary.BigEndian.Uint64(b[8:]),
		Seq:      binary.BigEndian.Uint64(b[16:]),
		SentUnix: int64(binary.BigEndian.Uint64(b[24:])),
		Reply:    b[5]&FlagReply != 0,
		V2:       b[4] == VersionV2,
		Query:    b[5]&FlagQuery != 0 && b[4] == VersionV2,
	}
	if b[5]&^allowed != 0 || b[6] != 0 || b[7] != 0 {
		return p, ErrReserved
	}
	if binary.BigEndian.Uint32(b[32:]) != checksum(b) {
		return p, ErrChecksum
	}
	if p.V2 {
		r, err := parseSection(b)
		p.Responder = r
		return p, err
	}
	return p, nil
}

// parseSection decodes the responder's section of a v2 probe. An unfilled
// section must be all zeros: nothing else writes there, so anything else
// is damage.
func parseSection(b []byte) (Responder, error) {
	sec := b[secStart:HeaderSizeV2]
	if sec[0]&sectionFilled == 0 {
		if string(sec) != string(zeros[:len(sec)]) {
			return Responder{}, ErrChecksum
		}
		return Responder{}, nil
	}
	if binary.BigEndian.Uint32(b[secCRC:]) != crc32.Checksum(b[secStart:secCRC], castagnoli) {
		return Responder{}, ErrChecksum
	}
	r := Responder{
		Filled:     true,
		KernelRecv: sec[0]&sectionKernelRecv != 0,
		NotCounted: sec[0]&sectionNotCounted != 0,
		UnknownRun: sec[0]&sectionUnknownRun != 0,
		Count:      binary.BigEndian.Uint64(b[secCount:]),
		RecvUnix:   int64(binary.BigEndian.Uint64(b[secRecv:])),
		SendUnix:   int64(binary.BigEndian.Uint64(b[secSend:])),
	}
	if sec[0]&^sectionKnown != 0 || sec[1] != 0 || sec[2] != 0 || sec[3] != 0 {
		return r, ErrReserved
	}
	return r, nil
}

// zeros stand in for the parts the checksum skips; a package variable,
// because a local array passed to crc32.Update escapes.
var zeros [HeaderSizeV2 - HeaderSize]byte

// checksum is CRC-32C over b with the flags byte and the checksum field
// taken as zero, so marking a probe as a reply does not change it; in a v2
// probe the responder's section is taken as zero too.
func checksum(b []byte) uint32 {
	// Fed in pieces: a zeroed copy of the header would escape to the heap
	// through crc32.Update and cost an allocation per probe.
	crc := crc32.Update(0, castagnoli, b[:5])
	crc = crc32.Update(crc, castagnoli, zeros[:1])
	crc = crc32.Update(crc, castagnoli, b[6:32])
	crc = crc32.Update(crc, castagnoli, zeros[:4])
	if b[4] == VersionV2 {
		crc = crc32.Update(crc, castagnoli, zeros[:])
		return crc32.Update(crc, castagnoli, b[HeaderSizeV2:])
	}
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
