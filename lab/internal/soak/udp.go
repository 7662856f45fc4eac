package soak

// The udp phase floods udp-responder from several source addresses at
// full speed while one well-behaved client sends at a modest rate, and
// checks that the well-behaved client keeps its replies (the responder's
// per-source rate limit is what protects it) and that the responder's
// memory stays flat.

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"sync"
	"time"

	"github.com/netlab/netlab/lab/internal/proc"
)

// udpSoak is the udp phase.
type udpSoak struct {
	duration time.Duration // of the flood
	flooders int           // flooding sources, each its own loopback address
	rate     int           // the well-behaved client's probes per second
	// unpinned lets the flooders run on every CPU. By default they share
	// one: on loopback the sender also pays for the kernel's receive
	// path, so unpinned flooders take the CPU the responder needs and the
	// phase measures the scheduler rather than the responder.
	unpinned bool
}

const (
	probeSize = 64
	// minReplyRatio is what the well-behaved client must get back.
	minReplyRatio = 0.99
	// flatRSS bounds the responder's memory growth over the flood, after
	// warm-up: it allocates nothing per datagram, so millions of
	// datagrams leaking even a few bytes each would exceed it.
	flatRSS = 8 << 20
)

func (u *udpSoak) describe() (string, string) {
	return "udp", fmt.Sprintf("udp-responder under a %s flood from %d sources, one client at %d probes/s",
		u.duration, u.flooders, u.rate)
}

func (u *udpSoak) run(ctx context.Context, env Env, ph *Phase) error {
	srv, err := u.start(ctx, env, ph)
	if err != nil {
		return err
	}
	defer srv.Stop()
	// Each flooder keeps a P busy; more Ps keep the polite client's
	// goroutines from queueing behind them (its RTT is measured here).
	prevProcs := runtime.GOMAXPROCS(0)
	runtime.GOMAXPROCS(prevProcs + u.flooders + 1)
	defer runtime.GOMAXPROCS(prevProcs)
	f, err := u.flood(ctx, env, srv)
	if err != nil {
		return err
	}
	if err := u.check(ctx, ph, srv, f); err != nil {
		return err
	}
	if exited, exitErr := srv.Exited(); exited {
		return fmt.Errorf("udp-responder exited during the flood: %v\n%s", exitErr, srv.Stderr())
	}
	return nil
}

// udpServer is the responder a udp phase runs, and what was counted
// before the flood.
type udpServer struct {
	*proc.Proc
	addr    *net.UDPAddr
	metrics string
	pin     int // the clients' CPU, -1 for none

	before      Snapshot
	kernelDrops int64         // the host's, before
	socketDrops int64         // at the responder's sockets, before
	ranBefore   time.Duration // the responder's CPU time, before
	waitBefore  time.Duration // its run-queue wait, before
}

// start runs the responder at its defaults, on every CPU but the one the
// clients will share (unless unpinned), and takes its counters.
func (u *udpSoak) start(ctx context.Context, env Env, ph *Phase) (*udpServer, error) {
	port, err := proc.FreeUDPPort()
	if err != nil {
		return nil, err
	}
	srv := &udpServer{addr: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}, pin: -1}
	ph.Note("udp-responder at its defaults: RATE_LIMIT=2000/s, RATE_BURST=4000 per source IP")
	ph.Note("flooders send from 127.0.0.2..%d, the well-behaved client from 127.0.0.200: distinct sources on loopback", 1+u.flooders)
	// The clients' CPU is not the server's: on loopback the sender also
	// pays for the kernel's receive path, so flooders free to run anywhere
	// take the CPU the responder needs and the phase would measure the
	// scheduler. Every client thread (flooders, the polite client) shares
	// the last CPU; the responder gets the others.
	var serverCPUs []int
	if cpus, err := proc.AllowedCPUs(); err == nil && len(cpus) > 1 && !u.unpinned {
		srv.pin, serverCPUs = cpus[len(cpus)-1], cpus[:len(cpus)-1]
		ph.Note("the clients share CPU %d; the responder runs on CPU %s (and sizes itself to it: SOCKETS=0 is one socket per CPU)", srv.pin, cpuList(serverCPUs))
	} else {
		ph.Note("neither the flooders nor the responder is pinned to a CPU")
	}
	var admin string
	startIt := func() {
		srv.Proc, admin, err = env.Procs.StartService(ctx, "udp-responder", env.bin("udp-responder"), srv.addr.String())
	}
	if serverCPUs != nil {
		if perr := proc.OnCPUs(serverCPUs, startIt); perr != nil {
			return nil, perr
		}
	} else {
		startIt()
	}
	if err != nil {
		return nil, err
	}
	srv.metrics = admin + "/metrics"
	if srv.before, err = TakeSnapshot(ctx, srv.metrics); err != nil {
		srv.Stop()
		return nil, err
	}
	srv.kernelDrops, _ = udpRcvbufErrors()
	srv.socketDrops, _ = udpSocketDrops(port)
	srv.ranBefore, srv.waitBefore, _ = srv.Sched()
	return srv, nil
}

// udpFlood is what the flood measured.
type udpFlood struct {
	start       time.Time
	elapsed     time.Duration
	warmup      time.Duration
	stats       floodStats
	client      clientResult
	clientDrops int64 // at the polite client's socket; -1: unknown
	series      Series
	scrapeErrs  int
}

// flood runs the flooders and the polite client for the duration while
// sampling the responder's resources.
func (u *udpSoak) flood(ctx context.Context, env Env, srv *udpServer) (*udpFlood, error) {
	f := &udpFlood{warmup: min(5*time.Second, u.duration/6), clientDrops: -1}
	sampler := StartSampler(ctx, srv.metrics, time.Second)
	defer sampler.Stop()
	floodCtx, stop := context.WithTimeout(ctx, u.duration)
	defer stop()
	fmt.Fprintf(env.Log, "udp: flooding %s from %d sources for %s\n", srv.addr, u.flooders, u.duration)
	f.start = time.Now()
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := range u.flooders {
		src := &net.UDPAddr{IP: net.IPv4(127, 0, 0, byte(2+i))}
		c, err := net.DialUDP("udp", src, srv.addr)
		if err != nil {
			stop()
			return nil, fmt.Errorf("flooder %s: %w", src.IP, err)
		}
		wg.Go(func() { floodFrom(floodCtx, c, srv.pin, &f.stats) })
	}
	good, err := net.DialUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 200)}, srv.addr)
	if err != nil {
		stop()
		return nil, fmt.Errorf("client: %w", err)
	}
	clientPort := good.LocalAddr().(*net.UDPAddr).Port
	f.client = politeClient(floodCtx, good, u.rate, u.duration, srv.pin, func() {
		f.clientDrops, _ = udpSocketDrops(clientPort)
	})
	wg.Wait()
	f.series, f.scrapeErrs = sampler.Stop()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	f.elapsed = time.Since(f.start)
	return f, nil
}

// check records what the flood measured and checks it.
func (u *udpSoak) check(ctx context.Context, ph *Phase, srv *udpServer, f *udpFlood) error {
	ranAfter, waitAfter, schedErr := srv.Sched()
	after, err := TakeSnapshot(ctx, srv.metrics)
	if err != nil {
		return err
	}
	delta := func(name string, match ...string) float64 {
		return after.Metrics.Sum(name, match...) - srv.before.Metrics.Sum(name, match...)
	}
	limited := delta("netlab_udp_responder_dropped_total", "reason", "rate_limited")
	ph.Add("flood datagrams sent", float64(f.stats.sent.Load()), "")
	ph.Add("flood rate", float64(f.stats.sent.Load())/f.elapsed.Seconds(), "/s")
	ph.Add("flood send errors", float64(f.stats.sendErrs.Load()), "")
	ph.Add("flood replies received", float64(f.stats.replies.Load()), "")
	ph.Add("responder datagrams received", delta("netlab_udp_responder_datagrams_received_total"), "")
	ph.Add("responder replies sent", delta("netlab_udp_responder_replies_sent_total"), "")
	ph.Add("responder dropped rate_limited", limited, "")
	ph.Add("responder dropped, other reasons", delta("netlab_udp_responder_dropped_total")-limited, "")
	u.kernelFigures(ph, srv, f)
	ratio := u.clientFigures(ph, f.client)
	if schedErr == nil {
		// Waiting for a CPU while datagrams pile up is what makes the
		// kernel drop them: a busy host shows here.
		ph.Add("responder CPU time, share of one core", 100*(ranAfter-srv.ranBefore).Seconds()/f.elapsed.Seconds(), "%")
		ph.Add("responder run-queue wait, summed over its threads, share of the flood", 100*(waitAfter-srv.waitBefore).Seconds()/f.elapsed.Seconds(), "%")
	}
	lo, hi := f.series.RSSRange()
	ph.Add("responder RSS before", MiB(srv.before.RSS), "MiB")
	ph.Add("responder RSS min during flood", MiB(lo), "MiB")
	ph.Add("responder RSS max during flood", MiB(hi), "MiB")
	ph.Add("responder goroutines before", float64(srv.before.Goroutines), "")
	ph.Add("responder goroutines peak", float64(f.series.Peak().Goroutines), "")
	ph.Add("RSS samples (1/s)", float64(len(f.series)), "")
	ph.Add("failed scrapes", float64(f.scrapeErrs), "")
	ph.Check(AtLeast("client reply ratio", 100*ratio, 100*minReplyRatio, "%"))
	ph.Check(AtMost("client bad replies", float64(f.client.bad), 0, ""))
	steady := f.series.After(f.start.Add(f.warmup))
	if len(steady) < 2 {
		return fmt.Errorf("only %d RSS samples after warm-up", len(steady))
	}
	_, steadyHi := steady.RSSRange()
	growth := steadyHi - steady[0].RSS
	ph.Add(fmt.Sprintf("RSS growth after %s warm-up (max - first)", f.warmup), MiB(growth), "MiB")
	ph.Check(AtMost("responder RSS growth after warm-up", MiB(growth), MiB(flatRSS), "MiB"))
	// The flood must have been one: more than the rate limit lets through.
	ph.Check(AtLeast("flood datagrams rate limited", limited, 1, ""))
	return nil
}

// kernelFigures records the datagrams the kernel dropped at full receive
// buffers, where it could count them.
func (u *udpSoak) kernelFigures(ph *Phase, srv *udpServer, f *udpFlood) {
	if drops, err := udpSocketDrops(srv.addr.Port); err == nil {
		ph.Add("kernel drops at the responder's sockets (receive buffer full)", float64(drops-srv.socketDrops), "")
	}
	if f.clientDrops >= 0 {
		ph.Add("kernel drops at the client's socket", float64(f.clientDrops), "")
	}
	if drops, err := udpRcvbufErrors(); err == nil {
		ph.Add("kernel UDP receive-buffer drops, whole host", float64(drops-srv.kernelDrops), "")
	}
}

// clientFigures records the polite client's figures and returns its
// reply ratio.
func (u *udpSoak) clientFigures(ph *Phase, res clientResult) float64 {
	ph.Add("client probes sent", float64(res.sent), "")
	ph.Add("client replies received", float64(res.received), "")
	ratio := 0.0
	if res.sent > 0 {
		ratio = float64(res.received) / float64(res.sent)
	}
	ph.Add("client reply ratio", 100*ratio, "%")
	ph.Add("client RTT p50", Ms(res.p50), "ms")
	ph.Add("client RTT p99", Ms(res.p99), "ms")
	ph.Add("client bad replies", float64(res.bad), "")
	return ratio
}
