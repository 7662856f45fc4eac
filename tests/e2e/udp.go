package e2e

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"time"
)

// UDPProbe encodes a probe as docs/udp-responder.md specifies it: magic
// "NLPB", version 1, flags 0, run id, sequence number, send time, CRC-32C
// with the flags byte and the checksum taken as zero; zero padding.
func UDPProbe(size int, runID, seq uint64) []byte {
	b := make([]byte, size)
	copy(b, "NLPB")
	b[4] = 1
	binary.BigEndian.PutUint64(b[8:], runID)
	binary.BigEndian.PutUint64(b[16:], seq)
	binary.BigEndian.PutUint64(b[24:], uint64(time.Now().UnixNano()))
	binary.BigEndian.PutUint32(b[32:], crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
	return b
}

// ProbeReply checks that b is the reply to one of this run's probes of the
// given size (reply flag set, checksum intact) and returns its sequence
// number.
func ProbeReply(b []byte, size int, runID uint64) (uint64, bool) {
	if len(b) != size || string(b[:4]) != "NLPB" || b[4] != 1 || b[5] != 1 ||
		binary.BigEndian.Uint64(b[8:]) != runID {
		return 0, false
	}
	c := bytes.Clone(b)
	c[5] = 0
	clear(c[32:36])
	if crc32.Checksum(c, crc32.MakeTable(crc32.Castagnoli)) != binary.BigEndian.Uint32(b[32:]) {
		return 0, false
	}
	return binary.BigEndian.Uint64(b[16:]), true
}
