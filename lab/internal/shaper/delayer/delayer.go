package delayer

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netlab/netlab/lab/internal/shaper"
)

// MaxHeld bounds the packets held at once per direction; the kernel drops
// beyond it, as a full netem queue would.
const MaxHeld = 10_000

// Stats counts what the delayer did.
type Stats struct {
	Queued    uint64 `json:"queued"`    // packets the kernel handed over
	Released  uint64 `json:"released"`  // accepted after their delay
	Reordered uint64 `json:"reordered"` // accepted at once, ahead of the held ones
	Lost      uint64 `json:"lost"`      // dropped by the loss model
	Corrupted uint64 `json:"corrupted"`
	Overflow  uint64 `json:"overflow"` // dropped: too many held
	Errors    uint64 `json:"errors"`   // verdicts the kernel refused
}

// Delayer holds queued packets and releases them.
type Delayer struct {
	q     *queue
	cfg   shaper.DelayerConfig
	rng   *rand.Rand // the receive loop's alone
	ge    [2]geState // per direction
	lanes [2]chan held
	stats struct {
		queued, released, reordered, lost, corrupted, overflow, errors atomic.Uint64
	}
}

type held struct {
	id      uint32
	at      time.Time
	payload []byte
}

// Listen binds the shaper's queue. Add the rules that queue packets only
// after it returns: without a listener the kernel would drop them.
func Listen(cfg shaper.DelayerConfig) (*Delayer, error) {
	q, err := bind(shaper.QueueNum, cfg.Corrupt > 0, MaxHeld*2)
	if err != nil {
		return nil, err
	}
	d := &Delayer{q: q, cfg: cfg, rng: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
	for i := range d.lanes {
		d.lanes[i] = make(chan held, MaxHeld)
	}
	return d, nil
}

// Stats returns the counters so far.
func (d *Delayer) Stats() Stats {
	s := &d.stats
	return Stats{Queued: s.queued.Load(), Released: s.released.Load(), Reordered: s.reordered.Load(),
		Lost: s.lost.Load(), Corrupted: s.corrupted.Load(), Overflow: s.overflow.Load(), Errors: s.errors.Load()}
}

// Serve holds and releases packets until ctx ends. Then it calls
// beforeStop (remove the queueing rules there), releases every packet
// still held at once, unbinds the queue and returns.
func (d *Delayer) Serve(ctx context.Context, beforeStop func() error) error {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range d.lanes {
		wg.Go(func() { d.release(d.lanes[i], stop) })
	}
	recvDone := make(chan error, 1)
	go func() { recvDone <- d.receive() }()
	var err error
	select {
	case <-ctx.Done():
		err = beforeStop()
		_ = d.q.conn.SetReadDeadline(time.Now()) // stop the receive loop
		<-recvDone
	case <-recvDone:
		err = errors.Join(errors.New("receive: the queue's socket stopped"), beforeStop())
	}
	_ = d.q.conn.SetReadDeadline(time.Time{})
	close(stop) // lanes release what they hold without waiting
	for i := range d.lanes {
		close(d.lanes[i])
	}
	wg.Wait()
	return errors.Join(err, d.q.close())
}

func (d *Delayer) receive() error {
	for {
		pkts, err := d.q.receive()
		if errors.Is(err, net.ErrClosed) || isTimeout(err) {
			return nil
		}
		if err != nil {
			d.stats.errors.Add(1) // a refused verdict comes back here
			continue
		}
		now := time.Now()
		for _, p := range pkts {
			d.handle(p, now)
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// geState is a Gilbert–Elliott chain's state.
type geState struct{ bad bool }

func (d *Delayer) handle(p packet, now time.Time) {
	d.stats.queued.Add(1)
	lane := 0
	if p.hook == hookPrerouting {
		lane = 1
	}
	if d.cfg.LossGE != nil && d.ge[lane].lose(d.cfg.LossGE, d.rng) {
		d.stats.lost.Add(1)
		d.send(p.id, verdictDrop, nil)
		return
	}
	var payload []byte
	if d.cfg.Corrupt > 0 && d.chance(d.cfg.Corrupt) && corrupt(p.payload, d.rng) {
		payload = p.payload
		d.stats.corrupted.Add(1)
	}
	if d.cfg.Reorder > 0 && d.chance(d.cfg.Reorder) {
		d.stats.reordered.Add(1)
		d.send(p.id, verdictAccept, payload)
		return
	}
	at := now.Add(d.sample())
	select {
	case d.lanes[lane] <- held{id: p.id, at: at, payload: payload}:
	default:
		d.stats.overflow.Add(1)
		d.send(p.id, verdictDrop, nil)
	}
}

// sample is one packet's delay: uniform in delay ± jitter, as netem's
// default distribution.
func (d *Delayer) sample() time.Duration {
	if d.cfg.Jitter == 0 {
		return d.cfg.Delay
	}
	j := time.Duration(d.rng.Int64N(int64(2*d.cfg.Jitter)+1)) - d.cfg.Jitter
	return d.cfg.Delay + j
}

func (d *Delayer) chance(percent float64) bool { return d.rng.Float64()*100 < percent }

// release lets each held packet go at its time, in queue order: a packet
// whose own time came earlier than the one ahead of it waits for it, so
// jitter never reorders.
func (d *Delayer) release(lane <-chan held, stop <-chan struct{}) {
	t := time.NewTimer(0)
	defer t.Stop()
	for h := range lane {
		if wait := time.Until(h.at); wait > 0 {
			t.Reset(wait)
			select {
			case <-t.C:
			case <-stop:
			}
		}
		d.stats.released.Add(1)
		d.send(h.id, verdictAccept, h.payload)
	}
}

func (d *Delayer) send(id, v uint32, payload []byte) {
	if err := d.q.verdict(id, v, payload); err != nil {
		d.stats.errors.Add(1)
	}
}

// lose steps the Gilbert–Elliott chain the way netem does: the loss is
// decided by the state the packet found, then the state may change.
func (g *geState) lose(m *shaper.GE, rng *rand.Rand) bool {
	r := func(p float64) bool { return rng.Float64()*100 < p }
	if !g.bad {
		if r(m.P) {
			g.bad = true
		}
		return r(m.K1)
	}
	if r(m.R) {
		g.bad = false
	}
	return r(m.H1)
}

// corrupt flips one random bit after the IP header, so the packet still
// reaches its peer, whose checksum catches it (as with netem, the kernel
// completed the checksum before queueing the packet).
func corrupt(pkt []byte, rng *rand.Rand) bool {
	if len(pkt) < 1 {
		return false
	}
	hdr := 40 // IPv6
	if pkt[0]>>4 == 4 {
		hdr = int(pkt[0]&0x0f) * 4
	}
	if len(pkt) <= hdr {
		return false
	}
	i := hdr + rng.IntN(len(pkt)-hdr)
	pkt[i] ^= 1 << rng.IntN(8)
	return true
}
