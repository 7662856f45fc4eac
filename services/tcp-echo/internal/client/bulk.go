package client

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/platform/neterr"
)

// Bulk transfer tuning. The pattern period is a prime so that an echo
// shifted by a whole number of I/O chunks cannot look right by accident.
const (
	bulkChunk     = 256 << 10 // bytes per Write and Read call
	patternPeriod = 1<<20 - 3 // 1048573, prime
	patternSeed   = 0x9e3779b97f4a7c15
)

// pattern is patternPeriod pseudo-random bytes followed by a copy of its
// first bulkChunk bytes, so that the stream bytes [off, off+n) for any n <=
// bulkChunk are the contiguous slice pattern[off%patternPeriod:][:n].
// It is computed once and never written afterwards.
var pattern = sync.OnceValue(func() []byte {
	p := make([]byte, patternPeriod+bulkChunk)
	x := uint64(patternSeed)
	var w [8]byte
	for i := 0; i < patternPeriod; i += 8 {
		x ^= x >> 12 // xorshift64*
		x ^= x << 25
		x ^= x >> 27
		binary.LittleEndian.PutUint64(w[:], x*0x2545f4914f6cdd1d)
		copy(p[i:patternPeriod], w[:])
	}
	copy(p[patternPeriod:], p[:bulkChunk])
	return p
})

// PatternAt returns n bytes of the bulk stream starting at offset off
// (n <= 256 KiB). The stream is deterministic, so anyone can verify it.
func PatternAt(off int64, n int) []byte {
	if n > bulkChunk {
		panic(fmt.Sprintf("client.PatternAt: n=%d > %d", n, bulkChunk))
	}
	o := off % patternPeriod
	return pattern()[o : o+int64(n)]
}

// BulkResult is the outcome of Bulk.
type BulkResult struct {
	Addr           string
	Size           int64         // bytes asked for
	Sent           int64         // bytes written
	Echoed         int64         // bytes echoed and verified, up to the first mismatch
	Duration       time.Duration // from the first write to the last verified byte
	Match          bool          // all Size bytes came back unchanged
	MismatchOffset int64         // first differing byte, -1 if none
}

// MBPerSec is the echoed throughput in megabytes (10^6 bytes) per second.
func (r BulkResult) MBPerSec() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Echoed) / 1e6 / r.Duration.Seconds()
}

// MbitPerSec is the echoed throughput in megabits (10^6 bits) per second.
func (r BulkResult) MbitPerSec() float64 { return r.MBPerSec() * 8 }

// BulkOptions configures Bulk.
type BulkOptions struct {
	Size int64 // bytes to stream, 1..MaxBulkSize
	// Report, if set, gets the bytes echoed in each interval of the run.
	Report clientcli.Reporting
}

// Bulk streams opts.Size bytes of a deterministic pseudo-random pattern
// (see PatternAt) on one connection, writing and reading concurrently, and
// verifies every echoed byte. The timeout applies to each read and write
// wait: a transfer that keeps making progress never times out. After the
// last byte is written the connection is half-closed.
//
// On a wrong byte the error is a *MismatchError and the result has Match
// false and MismatchOffset set; a server that closes early gives a
// *ShortEchoError, a stall a *TimeoutError. The result is filled in as far
// as the transfer got in every case.
func (c *Client) Bulk(ctx context.Context, opts BulkOptions) (BulkResult, error) {
	size := opts.Size
	res := BulkResult{Addr: c.Addr, Size: size, MismatchOffset: -1}
	if size < 1 || size > MaxBulkSize {
		return res, fmt.Errorf("bulk size %d is not between 1 and %d", size, int64(MaxBulkSize))
	}
	pat := pattern()
	conn, err := c.dial(ctx)
	if err != nil {
		return res, err
	}
	defer conn.close()

	t := c.timeout()
	start := time.Now()
	type writeResult struct {
		n   int64
		err error
	}
	wc := make(chan writeResult, 1)
	go func() {
		n, err := writeBulk(conn, pat, size, t)
		wc <- writeResult{n, err}
	}()
	var progress atomic.Int64
	stopReport := opts.Report.Start(func() clientcli.Totals { return clientcli.Totals{Bytes: progress.Load()} })
	echoed, rerr := readBulk(conn, pat, size, t, &progress)
	res.Duration = time.Since(start)
	stopReport()
	if rerr != nil {
		_ = conn.Close() // stop the writer
	}
	w := <-wc
	res.Sent, res.Echoed = w.n, echoed

	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if rerr != nil {
		if me, ok := rerr.(*MismatchError); ok {
			res.MismatchOffset = me.Offset
		}
		return res, rerr
	}
	// Everything was echoed and verified, so everything was written; a
	// failed half-close after that does not matter.
	res.Match = true
	return res, nil
}

func writeBulk(nc *conn, pat []byte, size int64, t time.Duration) (int64, error) {
	var off int64
	for off < size {
		o := off % patternPeriod
		p := pat[o : o+min(bulkChunk, size-off)]
		if err := nc.SetWriteDeadline(time.Now().Add(t)); err != nil {
			return off, &neterr.OpError{Op: "send", Err: err}
		}
		n, err := nc.Write(p)
		off += int64(n)
		if err != nil && !(n > 0 && neterr.IsTimeout(err)) { // progress refreshes the deadline
			return off, writeError(err, t)
		}
	}
	if cw, ok := nc.Conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	return off, nil
}

// readBulk reads and verifies the echo; progress follows the bytes
// verified so far.
func readBulk(nc *conn, pat []byte, size int64, t time.Duration, progress *atomic.Int64) (int64, error) {
	buf := make([]byte, bulkChunk)
	var off int64
	for off < size {
		if err := nc.SetReadDeadline(time.Now().Add(t)); err != nil {
			return off, &neterr.OpError{Op: "receive", Err: err}
		}
		n, err := nc.Read(buf[:min(bulkChunk, size-off)])
		if n > 0 {
			o := off % patternPeriod
			want := pat[o : o+int64(n)]
			if !bytes.Equal(buf[:n], want) {
				i := firstDiff(buf[:n], want)
				end := min(n, i+16)
				return off + int64(i), &MismatchError{
					Offset:   off + int64(i),
					At:       off + int64(i),
					Sent:     bytes.Clone(want[i:end]),
					Received: bytes.Clone(buf[i:end]),
				}
			}
			off += int64(n)
			progress.Store(off)
		}
		if err != nil && off < size {
			return off, readError(err, t, off, size, true)
		}
	}
	return off, nil
}
