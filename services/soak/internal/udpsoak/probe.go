package udpsoak

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
)

// The probe format of docs/udp-responder.md, written again here: the
// responder's own package is internal to its module. Big-endian:
// magic "NLPB", version 1, flags (bit 0 reply), 2 reserved, run id, seq,
// send time, CRC-32C (flags and checksum taken as zero), then padding
// derived from seq.
const (
	headerSize = 36
	flagReply  = 0x01
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encodeProbe fills buf (at least headerSize bytes) with probe seq of run.
func encodeProbe(buf []byte, run, seq uint64, sentUnix int64) {
	copy(buf, "NLPB")
	buf[4], buf[5], buf[6], buf[7] = 1, 0, 0, 0
	binary.BigEndian.PutUint64(buf[8:], run)
	binary.BigEndian.PutUint64(buf[16:], seq)
	binary.BigEndian.PutUint64(buf[24:], uint64(sentUnix))
	x := seq*0x9E3779B97F4A7C15 + 1
	for i := headerSize; i < len(buf); i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		buf[i] = byte(x)
	}
	binary.BigEndian.PutUint32(buf[32:], probeChecksum(buf))
}

var errBadReply = errors.New("not a valid probe reply")

// parseReply checks that b is an intact reply to a probe of run and
// returns its sequence number.
func parseReply(b []byte, run uint64) (uint64, error) {
	if len(b) < headerSize || string(b[:4]) != "NLPB" || b[4] != 1 || b[5] != flagReply {
		return 0, errBadReply
	}
	if binary.BigEndian.Uint64(b[8:]) != run || binary.BigEndian.Uint32(b[32:]) != probeChecksum(b) {
		return 0, errBadReply
	}
	return binary.BigEndian.Uint64(b[16:]), nil
}

func probeChecksum(b []byte) uint32 {
	var zero [4]byte
	crc := crc32.Update(0, castagnoli, b[:5])
	crc = crc32.Update(crc, castagnoli, zero[:1])
	crc = crc32.Update(crc, castagnoli, b[6:32])
	crc = crc32.Update(crc, castagnoli, zero[:])
	return crc32.Update(crc, castagnoli, b[headerSize:])
}
