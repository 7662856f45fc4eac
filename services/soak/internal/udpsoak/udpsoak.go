// Package udpsoak floods udp-responder from several source addresses at
// full speed while one well-behaved client sends at a modest rate, and
// checks that the well-behaved client keeps its replies (the responder's
// per-source rate limit is what protects it) and that the responder's
// memory stays flat.
package udpsoak

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netlab/netlab/services/soak/internal/proc"
	"github.com/netlab/netlab/services/soak/internal/report"
	"github.com/netlab/netlab/services/soak/internal/watch"
)

// Config is one udp phase.
type Config struct {
	Bin      string // directory with udp-responder
	Procs    *proc.Group
	Log      io.Writer
	Duration time.Duration // of the flood
	Flooders int           // flooding sources, each its own loopback address
	Rate     int           // the well-behaved client's probes per second
	// Unpinned lets the flooders run on every CPU. By default they share
	// one: on loopback the sender also pays for the kernel's receive
	// path, so unpinned flooders take the CPU the responder needs and the
	// phase measures the scheduler rather than the responder.
	Unpinned bool
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

// Run runs the phase.
func Run(ctx context.Context, cfg Config) report.Phase {
	start := time.Now()
	ph := report.Phase{Name: "udp", About: fmt.Sprintf("udp-responder under a %s flood from %d sources, one client at %d probes/s",
		cfg.Duration, cfg.Flooders, cfg.Rate)}
	ph.Fail(run(ctx, cfg, &ph))
	ph.Elapsed = time.Since(start)
	return ph
}

func run(ctx context.Context, cfg Config, ph *report.Phase) error {
	port, err := proc.FreeUDPPort()
	if err != nil {
		return err
	}
	server := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	ph.Note("udp-responder at its defaults: RATE_LIMIT=2000/s, RATE_BURST=4000 per source IP")
	ph.Note("flooders send from 127.0.0.2..%d, the well-behaved client from 127.0.0.200: distinct sources on loopback", 1+cfg.Flooders)
	// The clients' CPU is not the server's: on loopback the sender also
	// pays for the kernel's receive path, so flooders free to run anywhere
	// take the CPU the responder needs and the phase would measure the
	// scheduler. Every client thread (flooders, the polite client) shares
	// the last CPU; the responder gets the others.
	pin := -1
	var serverCPUs []int
	if cpus, err := proc.AllowedCPUs(); err == nil && len(cpus) > 1 && !cfg.Unpinned {
		pin, serverCPUs = cpus[len(cpus)-1], cpus[:len(cpus)-1]
		ph.Note("the clients share CPU %d; the responder runs on CPU %s (and sizes itself to it: SOCKETS=0 is one socket per CPU)", pin, cpuList(serverCPUs))
	} else {
		ph.Note("neither the flooders nor the responder is pinned to a CPU")
	}
	var (
		srv   *proc.Proc
		admin string
	)
	start := func() {
		srv, admin, err = cfg.Procs.StartService(ctx, "udp-responder", filepath.Join(cfg.Bin, "udp-responder"), server.String())
	}
	if serverCPUs != nil {
		if perr := proc.OnCPUs(serverCPUs, start); perr != nil {
			return perr
		}
	} else {
		start()
	}
	if err != nil {
		return err
	}
	defer srv.Stop()
	metrics := admin + "/metrics"
	before, err := watch.Take(ctx, metrics)
	if err != nil {
		return err
	}
	kernelBefore, _ := udpRcvbufErrors()
	serverDropsBefore, _ := udpSocketDrops(port)

	ranBefore, waitBefore, _ := srv.Sched()
	// Each flooder keeps a P busy; more Ps keep the polite client's
	// goroutines from queueing behind them (its RTT is measured here).
	prevProcs := runtime.GOMAXPROCS(0)
	runtime.GOMAXPROCS(prevProcs + cfg.Flooders + 1)
	defer runtime.GOMAXPROCS(prevProcs)

	warmup := min(5*time.Second, cfg.Duration/6)
	sampler := watch.Start(ctx, metrics, time.Second)
	floodCtx, stop := context.WithTimeout(ctx, cfg.Duration)
	defer stop()
	fmt.Fprintf(cfg.Log, "udp: flooding %s from %d sources for %s\n", server, cfg.Flooders, cfg.Duration)
	floodStart := time.Now()

	var flood floodStats
	var wg sync.WaitGroup
	for i := range cfg.Flooders {
		src := &net.UDPAddr{IP: net.IPv4(127, 0, 0, byte(2+i))}
		c, err := net.DialUDP("udp", src, server)
		if err != nil {
			stop()
			wg.Wait()
			sampler.Stop()
			return fmt.Errorf("flooder %s: %w", src.IP, err)
		}
		wg.Go(func() { floodFrom(floodCtx, c, pin, &flood) })
	}
	good, err := net.DialUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 200)}, server)
	if err != nil {
		stop()
		wg.Wait()
		sampler.Stop()
		return fmt.Errorf("client: %w", err)
	}
	clientPort := good.LocalAddr().(*net.UDPAddr).Port
	var clientDrops int64 = -1
	res := politeClient(floodCtx, good, cfg.Rate, cfg.Duration, pin, func() {
		clientDrops, _ = udpSocketDrops(clientPort)
	})
	wg.Wait()
	series, scrapeErrs := sampler.Stop()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	elapsed := time.Since(floodStart)
	ranAfter, waitAfter, schedErr := srv.Sched()
	after, err := watch.Take(ctx, metrics)
	if err != nil {
		return err
	}
	kernelAfter, kerr := udpRcvbufErrors()
	serverDropsAfter, serr := udpSocketDrops(port)

	ph.Add("flood datagrams sent", float64(flood.sent.Load()), "")
	ph.Add("flood rate", float64(flood.sent.Load())/elapsed.Seconds(), "/s")
	ph.Add("flood send errors", float64(flood.sendErrs.Load()), "")
	ph.Add("flood replies received", float64(flood.replies.Load()), "")
	delta := func(name string, match ...string) float64 {
		return after.Metrics.Sum(name, match...) - before.Metrics.Sum(name, match...)
	}
	ph.Add("responder datagrams received", delta("netlab_udp_responder_datagrams_received_total"), "")
	ph.Add("responder replies sent", delta("netlab_udp_responder_replies_sent_total"), "")
	ph.Add("responder dropped rate_limited", delta("netlab_udp_responder_dropped_total", "reason", "rate_limited"), "")
	ph.Add("responder dropped, other reasons", delta("netlab_udp_responder_dropped_total")-delta("netlab_udp_responder_dropped_total", "reason", "rate_limited"), "")
	if serr == nil {
		ph.Add("kernel drops at the responder's sockets (receive buffer full)", float64(serverDropsAfter-serverDropsBefore), "")
	}
	if clientDrops >= 0 {
		ph.Add("kernel drops at the client's socket", float64(clientDrops), "")
	}
	if kerr == nil {
		ph.Add("kernel UDP receive-buffer drops, whole host", float64(kernelAfter-kernelBefore), "")
	}
	ph.Add("client probes sent", float64(res.sent), "")
	ph.Add("client replies received", float64(res.received), "")
	ratio := 0.0
	if res.sent > 0 {
		ratio = float64(res.received) / float64(res.sent)
	}
	ph.Add("client reply ratio", 100*ratio, "%")
	ph.Add("client RTT p50", report.Ms(res.p50), "ms")
	ph.Add("client RTT p99", report.Ms(res.p99), "ms")
	ph.Add("client bad replies", float64(res.bad), "")

	steady := series.After(floodStart.Add(warmup))
	lo, hi := series.RSSRange()
	if schedErr == nil {
		// Waiting for a CPU while datagrams pile up is what makes the
		// kernel drop them: a busy host shows here.
		ph.Add("responder CPU time, share of one core", 100*(ranAfter-ranBefore).Seconds()/elapsed.Seconds(), "%")
		ph.Add("responder run-queue wait, summed over its threads, share of the flood", 100*(waitAfter-waitBefore).Seconds()/elapsed.Seconds(), "%")
	}
	ph.Add("responder RSS before", report.MiB(before.RSS), "MiB")
	ph.Add("responder RSS min during flood", report.MiB(lo), "MiB")
	ph.Add("responder RSS max during flood", report.MiB(hi), "MiB")
	ph.Add("responder goroutines before", float64(before.Goroutines), "")
	ph.Add("responder goroutines peak", float64(series.Peak().Goroutines), "")
	ph.Add("RSS samples (1/s)", float64(len(series)), "")
	ph.Add("failed scrapes", float64(scrapeErrs), "")

	ph.Check(report.AtLeast("client reply ratio", 100*ratio, 100*minReplyRatio, "%"))
	ph.Check(report.AtMost("client bad replies", float64(res.bad), 0, ""))
	if len(steady) < 2 {
		return fmt.Errorf("only %d RSS samples after warm-up", len(steady))
	}
	_, steadyHi := steady.RSSRange()
	growth := steadyHi - steady[0].RSS
	ph.Add(fmt.Sprintf("RSS growth after %s warm-up (max - first)", warmup), report.MiB(growth), "MiB")
	ph.Check(report.AtMost("responder RSS growth after warm-up", report.MiB(growth), report.MiB(flatRSS), "MiB"))
	// The flood must have been one: more than the rate limit lets through.
	ph.Check(report.AtLeast("flood datagrams rate limited", delta("netlab_udp_responder_dropped_total", "reason", "rate_limited"), 1, ""))
	if exited, exitErr := srv.Exited(); exited {
		return fmt.Errorf("udp-responder exited during the flood: %v\n%s", exitErr, srv.Stderr())
	}
	return nil
}

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
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		defer pinTo(cpu)()
		buf := make([]byte, 2048)
		for {
			if _, err := c.Read(buf); err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			st.replies.Add(1)
		}
	}()
	buf := make([]byte, probeSize)
	encodeProbe(buf, randomRun(), 0, time.Now().UnixNano())
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
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
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
			now := time.Now().UnixNano()
			seq, err := parseReply(buf[:k], run)
			if err != nil || seq >= uint64(n) || sentAt[seq].Load() == 0 {
				bad.Add(1)
				continue
			}
			rtts[seq].CompareAndSwap(0, max(1, now-sentAt[seq].Load()))
		}
	}()
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
		encodeProbe(buf, run, uint64(sent), now)
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
	res.p50, res.p99 = report.Percentile(got, 0.50), report.Percentile(got, 0.99)
	return res
}

func randomRun() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:])
}

// udpRcvbufErrors is the host's count of UDP datagrams dropped because a
// socket's receive buffer was full.
func udpRcvbufErrors() (int64, error) {
	data, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return 0, err
	}
	return snmpField(string(data), "Udp", "RcvbufErrors")
}

func cpuList(cpus []int) string {
	s := make([]string, len(cpus))
	for i, c := range cpus {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, ",")
}

// udpSocketDrops sums the drops column of /proc/net/udp over the sockets
// bound to local port port: datagrams the kernel discarded at those
// sockets because their receive buffers were full.
func udpSocketDrops(port int) (int64, error) {
	data, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return 0, err
	}
	return socketDrops(string(data), port)
}

func socketDrops(table string, port int) (int64, error) {
	want := fmt.Sprintf(":%04X", port)
	var total int64
	found := false
	for line := range strings.Lines(table) {
		f := strings.Fields(line)
		if len(f) < 13 || !strings.HasSuffix(f[1], want) {
			continue
		}
		n, err := strconv.ParseInt(f[len(f)-1], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/net/udp: %w", err)
		}
		total += n
		found = true
	}
	if !found {
		return 0, fmt.Errorf("/proc/net/udp: no socket on port %d", port)
	}
	return total, nil
}

// snmpField reads one counter of /proc/net/snmp, where each protocol has a
// line of names followed by a line of values.
func snmpField(snmp, proto, field string) (int64, error) {
	var names []string
	for line := range strings.Lines(snmp) {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != proto+":" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		for i, n := range names {
			if n == field && i < len(f) {
				return strconv.ParseInt(f[i], 10, 64)
			}
		}
		break
	}
	return 0, fmt.Errorf("/proc/net/snmp: no %s %s", proto, field)
}
