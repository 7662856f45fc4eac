package client

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
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
	// bulkDrain is the longest wait for the server's FIN once a stream is
	// verified: the client's own FIN, if lost, goes again about 0.2, 0.6,
	// 1.4 and 3 s later, and every retransmit is counted before the
	// socket closes (the TCP figures, and the kernel's, agree).
	bulkDrain   = 5 * time.Second
	patternSeed = 0x9e3779b97f4a7c15
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

// MaxParallel bounds BulkOptions.Parallel.
const MaxParallel = 128

// BulkStream is one stream of a Bulk run: its own connection.
type BulkStream struct {
	Sent     int64         // bytes written
	Echoed   int64         // bytes echoed and verified, up to the first mismatch
	Duration time.Duration // from the run's first write to this stream's last verified byte
	Match    bool          // all of the stream's bytes came back unchanged
	// MismatchOffset is the stream's first differing byte, -1 if none.
	MismatchOffset int64
	Err            error
	TCP            *clientcli.TCPConn // the kernel's figures at the stream's end; nil where it has none
}

// MbitPerSec is the stream's echoed throughput in megabits per second.
func (s BulkStream) MbitPerSec() float64 { return mbitPerSec(s.Echoed, s.Duration) }

// BulkResult is the outcome of Bulk. Its byte counts are over every
// stream; Streams has each stream's own.
type BulkResult struct {
	Addr     string
	Size     int64 // bytes asked for, per stream
	Parallel int   // streams
	Sent     int64 // bytes written
	Echoed   int64 // bytes echoed and verified
	// Duration is from the first write to the last verified byte of the
	// stream that finished last.
	Duration time.Duration
	Match    bool // every stream's bytes came back unchanged
	// MismatchOffset is the first differing byte of the lowest-numbered
	// stream that had one, -1 if none.
	MismatchOffset int64
	Streams        []BulkStream
	// TCP sums the streams' retransmits and delivery rates and averages
	// their congestion windows and RTTs, at the end; nil where the kernel
	// has no figures.
	TCP *clientcli.TCP
}

// MBPerSec is the echoed throughput in megabytes (10^6 bytes) per second.
func (r BulkResult) MBPerSec() float64 { return mbitPerSec(r.Echoed, r.Duration) / 8 }

// MbitPerSec is the echoed throughput in megabits (10^6 bits) per second.
func (r BulkResult) MbitPerSec() float64 { return mbitPerSec(r.Echoed, r.Duration) }

func mbitPerSec(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) * 8 / 1e6 / d.Seconds()
}

// BulkOptions configures Bulk.
type BulkOptions struct {
	Size int64 // bytes each stream moves, 1..MaxBulkSize
	// Parallel is the number of streams, each on a connection of its own
	// and each moving Size bytes (1..MaxParallel; 0 means 1).
	Parallel int
	// Report, if set, gets the bytes echoed in each interval of the run,
	// and the streams' TCP figures where the kernel has them.
	Report clientcli.Reporting
}

// Bulk opens opts.Parallel connections, then on each streams opts.Size
// bytes of a deterministic pseudo-random pattern (see PatternAt), writing
// and reading concurrently, and verifies every echoed byte. The timeout
// applies to each read and write wait: a transfer that keeps making
// progress never times out. After the last byte is written a connection
// is half-closed; after the last byte is verified it waits (at most the
// timeout, and a second) for the server to close too, so that its last
// TCP reading counts every retransmission, the FIN's included.
//
// On a wrong byte a stream's error is a *MismatchError and it has Match
// false and MismatchOffset set; a server that closes early gives a
// *ShortEchoError, a stall a *TimeoutError. Bulk returns the error of the
// lowest-numbered stream that failed (a *DialError before anything was
// sent when a connection could not be opened); the result is filled in as
// far as the transfer got in every case.
func (c *Client) Bulk(ctx context.Context, opts BulkOptions) (BulkResult, error) {
	n := max(opts.Parallel, 1)
	res := BulkResult{Addr: c.Addr, Size: opts.Size, Parallel: n, MismatchOffset: -1}
	switch {
	case opts.Size < 1 || opts.Size > MaxBulkSize:
		return res, fmt.Errorf("bulk size %d is not between 1 and %d", opts.Size, int64(MaxBulkSize))
	case n > MaxParallel:
		return res, fmt.Errorf("parallel %d is not between 1 and %d", n, MaxParallel)
	}
	pattern()
	conns, err := c.dialStreams(ctx, n)
	if err != nil {
		return res, err
	}
	watch := newTCPWatch(n)
	for i, nc := range conns {
		defer nc.close()
		watch.add(i, nc.Conn)
	}
	var progress atomic.Int64
	stopReport := opts.Report.Start(func() clientcli.Totals {
		return clientcli.Totals{Bytes: progress.Load(), TCP: watch.sample(true)}
	})
	res.Streams = make([]BulkStream, n)
	start := time.Now()
	var wg sync.WaitGroup
	for i, nc := range conns {
		wg.Go(func() {
			res.Streams[i] = c.bulkStream(nc, opts.Size, start, &progress)
			watch.done(i)
		})
	}
	wg.Wait()
	stopReport()
	return res.summarize(ctx, watch)
}

// dialStreams opens n connections, or none: on the first error it closes
// the ones it opened.
func (c *Client) dialStreams(ctx context.Context, n int) ([]*conn, error) {
	conns := make([]*conn, 0, n)
	for range n {
		nc, err := c.dial(ctx)
		if err != nil {
			for _, o := range conns {
				o.close()
			}
			return nil, err
		}
		conns = append(conns, nc)
	}
	return conns, nil
}

// summarize adds the streams up.
func (r BulkResult) summarize(ctx context.Context, watch *tcpWatch) (BulkResult, error) {
	r.Match = true
	var first error
	for i, s := range r.Streams {
		r.Sent += s.Sent
		r.Echoed += s.Echoed
		r.Duration = max(r.Duration, s.Duration)
		r.Match = r.Match && s.Match
		if s.Err != nil && first == nil {
			first, r.MismatchOffset = s.Err, s.MismatchOffset
		}
		if c, ok := watch.reading(i); ok {
			r.Streams[i].TCP = &c
		}
	}
	r.TCP = watch.sample(false)
	if ctx.Err() != nil {
		return r, ctx.Err()
	}
	return r, first
}

// bulkStream moves size bytes through nc and verifies them.
func (c *Client) bulkStream(nc *conn, size int64, start time.Time, progress *atomic.Int64) BulkStream {
	s := BulkStream{MismatchOffset: -1}
	t := c.timeout()
	type writeResult struct {
		n   int64
		err error
	}
	wc := make(chan writeResult, 1)
	go func() {
		n, err := writeBulk(nc, pattern(), size, t)
		wc <- writeResult{n, err}
	}()
	s.Echoed, s.Err = readBulk(nc, pattern(), size, t, progress)
	s.Duration = time.Since(start)
	if s.Err != nil {
		_ = nc.Close() // stop the writer
	}
	w := <-wc
	s.Sent = w.n
	if me, ok := s.Err.(*MismatchError); ok {
		s.MismatchOffset = me.Offset
	}
	// Everything was echoed and verified, so everything was written; a
	// failed half-close after that does not matter.
	s.Match = s.Err == nil
	if s.Match && nc.SetReadDeadline(time.Now().Add(min(t, bulkDrain))) == nil {
		_, _ = io.Copy(io.Discard, nc) // until the server's FIN
	}
	return s
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
			progress.Add(int64(n))
		}
		if err != nil && off < size {
			return off, readError(err, t, off, size, true)
		}
	}
	return off, nil
}
