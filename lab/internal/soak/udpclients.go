package soak

// The udp phase's clients: flooders sending valid probes as fast as they
// can, and one well-behaved client whose replies are counted.

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"net"
	"slices"
	"sync/atomic"
	"time"

	"github.com/netlab/netlab/lab/internal/proc"
	"github.com/netlab/netlab/services/udp-responder/probe"
)

type floodStats struct {
	sent, sendErrs, replies atomic.Int64
}

// floodFrom sends the same valid probe as fast as it can until ctx ends,
// and counts the replies the rate limit lets through. With cpu >= 0 its
// thread runs on that CPU only.
func floodFrom(ctx context.Context, c *net.UDPConn, cpu int, st *floodStats) {
	defer pinTo(cpu)()
	var stop atomic.Bool
	go func() {
		<-ctx.Done()
		stop.Store(true)
	}()
	readerDone := readUntilClosed(c, cpu, func([]byte) { st.replies.Add(1) })
	buf := make([]byte, probeSize)
	_ = probe.Encode(buf, probe.Probe{RunID: randomRun(), SentUnix: time.Now().UnixNano()})
	var sent, errs int64
	for !stop.Load() {
		for range 256 {
			if _, err := c.Write(buf); err != nil {
				errs++
			} else {
				sent++
			}
		}
	}
	st.sent.Add(sent)
	st.sendErrs.Add(errs)
	// Replies still in flight land before the socket closes.
	time.Sleep(200 * time.Millisecond)
	c.Close()
	<-readerDone
}

type clientResult struct {
	sent, received, bad int
	p50, p99            time.Duration
}

// pinTo binds the calling goroutine's thread to cpu (none if cpu < 0) and
// returns what undoes it.
func pinTo(cpu int) (unpin func()) {
	if cpu >= 0 {
		if unpin, err := proc.PinThread(cpu); err == nil {
			return unpin
		}
	}
	return func() {}
}

// readUntilClosed reads datagrams from c on a goroutine whose thread runs on
// cpu (if >= 0) and hands each to onReply, until c is closed. The channel
// it returns is closed once the goroutine has ended.
func readUntilClosed(c *net.UDPConn, cpu int, onReply func(datagram []byte)) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer pinTo(cpu)()
		buf := make([]byte, 2048)
		for {
			k, err := c.Read(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			onReply(buf[:k])
		}
	}()
	return done
}

// politeClient sends rate probes per second for d, each with its own
// sequence number, and counts the distinct ones answered intact. Its
// threads run on cpu (if >= 0). It calls beforeClose just before it
// closes c.
func politeClient(ctx context.Context, c *net.UDPConn, rate int, d time.Duration, cpu int, beforeClose func()) clientResult {
	defer pinTo(cpu)()
	run := randomRun()
	n := int(d.Seconds()*float64(rate)) + rate
	sentAt := make([]atomic.Int64, n)
	rtts := make([]atomic.Int64, n) // 0: no reply yet
	var bad atomic.Int64
	readerDone := readUntilClosed(c, cpu, func(reply []byte) {
		now := time.Now().UnixNano()
		seq, ok := replySeq(reply, run)
		if !ok || seq >= uint64(n) || sentAt[seq].Load() == 0 {
			bad.Add(1)
			return
		}
		rtts[seq].CompareAndSwap(0, max(1, now-sentAt[seq].Load()))
	})
	buf := make([]byte, probeSize)
	tick := time.NewTicker(time.Second / time.Duration(rate))
	sent := 0
loop:
	for sent < n {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
		}
		now := time.Now().UnixNano()
		sentAt[sent].Store(now)
		_ = probe.Encode(buf, probe.Probe{RunID: run, Seq: uint64(sent), SentUnix: now})
		if _, err := c.Write(buf); err == nil {
			sent++
		}
	}
	tick.Stop()
	// The last replies have a second to arrive.
	time.Sleep(time.Second)
	beforeClose()
	c.Close()
	<-readerDone
	var got []time.Duration
	for i := range sent {
		if r := rtts[i].Load(); r > 0 {
			got = append(got, time.Duration(r))
		}
	}
	slices.Sort(got)
	res := clientResult{sent: sent, received: len(got), bad: int(bad.Load())}
	res.p50, res.p99 = Percentile(got, 0.50), Percentile(got, 0.99)
	return res
}

func randomRun() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:])
}

// replySeq is the sequence number of b when b is an intact reply to a
// probe of run.
func replySeq(b []byte, run uint64) (uint64, bool) {
	p, err := probe.Parse(b)
	if err != nil || !p.Reply || p.RunID != run {
		return 0, false
	}
	return p.Seq, true
}
