package shaper_test

import (
	"context"
	"errors"
	"io"
	"math"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/netlab/netlab/lab/internal/shaper"
	"github.com/netlab/netlab/lab/internal/shaper/delayer"
	"github.com/netlab/netlab/lab/internal/shaper/netnstest"
	"github.com/vishvananda/netlink"
)

// shapeIn plans and applies s inside ns, and resets everything when the
// test ends.
func shapeIn(t *testing.T, ns *netnstest.NS, s shaper.Spec) (*shaper.Shaper, shaper.Plan) {
	t.Helper()
	sh := shaper.New(shaper.NewLinux())
	var p shaper.Plan
	err := ns.Do(func() (err error) {
		if p, err = sh.Plan(s); err != nil {
			return err
		}
		return sh.Apply(p)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ns.Do(sh.Reset); err != nil {
			t.Errorf("reset: %v", err)
		}
	})
	return sh, p
}

// mechanisms maps each planned impairment to its mechanism.
func mechanisms(p shaper.Plan) map[string]string {
	m := map[string]string{}
	for _, it := range p.Items {
		m[it.Impairment] = it.Mechanism
	}
	return m
}

// in returns what f makes inside ns, or fails the test.
func in[T any](t *testing.T, ns *netnstest.NS, f func() (T, error)) T {
	t.Helper()
	var v T
	if err := ns.Do(func() (err error) { v, err = f(); return err }); err != nil {
		t.Fatal(err)
	}
	return v
}

// openIn is in for a socket or a listener: it is closed when the test
// ends.
func openIn[T io.Closer](t *testing.T, ns *netnstest.NS, f func() (T, error)) T {
	t.Helper()
	v := in(t, ns, f)
	t.Cleanup(func() { v.Close() })
	return v
}

// listenTCP opens a listener inside ns.
func listenTCP(t *testing.T, ns *netnstest.NS) net.Listener {
	t.Helper()
	return openIn(t, ns, func() (net.Listener, error) { return net.Listen("tcp", ns.Addr.String()+":0") })
}

func dialTCP(ns *netnstest.NS, addr string, timeout time.Duration) (net.Conn, error) {
	var c net.Conn
	err := ns.Do(func() (err error) { c, err = net.DialTimeout("tcp", addr, timeout); return err })
	return c, err
}

// Rate 20 Mbit/s on A's egress: a bulk TCP transfer from A to B runs within
// 10 % below the cap and never more than 5 % above it.
func TestNetns_RateCapsTCP(t *testing.T) {
	a, b := netnstest.Pair(t)
	const rate = 20_000_000
	_, p := shapeIn(t, a, shaper.Spec{Device: a.Dev, Rate: rate})
	if got := mechanisms(p)["rate"]; got != shaper.MechTbf && got != shaper.MechNetem {
		t.Fatalf("rate mechanism %q", got)
	}
	ln := listenTCP(t, b)
	got := make(chan float64, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- 0
			return
		}
		defer c.Close()
		buf := make([]byte, 64<<10)
		n, _ := c.Read(buf) // the clock starts at the first byte: no handshake, no slow start from zero
		start, total := time.Now(), 0
		for n > 0 {
			if n, err = c.Read(buf); err != nil {
				break
			}
			total += n
		}
		got <- float64(total*8) / time.Since(start).Seconds()
	}()
	c, err := dialTCP(a, ln.Addr().String(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, 5<<20) // 2 s at the cap
	if _, err := c.Write(payload); err != nil {
		t.Fatal(err)
	}
	c.Close()
	bps := <-got
	t.Logf("TCP goodput %.2f Mbit/s with a 20 Mbit/s cap (%.1f %%)", bps/1e6, bps*100/rate)
	if bps < 0.90*rate || bps > 1.05*rate {
		t.Errorf("goodput %.2f Mbit/s, want within -10 %%/+5 %% of 20 Mbit/s", bps/1e6)
	}
}

// udpEcho answers every datagram inside ns until the test ends.
func udpEcho(t *testing.T, ns *netnstest.NS) net.PacketConn {
	t.Helper()
	pc := openIn(t, ns, func() (net.PacketConn, error) { return net.ListenPacket("udp", ns.Addr.String()+":0") })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(buf[:n], from)
		}
	}()
	return pc
}

// Loss 10 % on A's egress towards B: of n UDP datagrams B sees a loss
// within 4σ of the binomial's n·p, and the rule's counter, read back by
// Show, equals what B missed.
func TestNetns_LossDropsUDP(t *testing.T) {
	a, b := netnstest.Pair(t)
	const n, p = 4000, 0.10
	// Only towards B: the rule then counts the test's datagrams alone, not
	// the IPv6 neighbour discovery the device sends on its own.
	sh, plan := shapeIn(t, a, shaper.Spec{Device: a.Dev, To: b.Addr, Loss: p * 100})
	sink := openIn(t, b, func() (net.PacketConn, error) { return net.ListenPacket("udp", b.Addr.String()+":0") })
	// A full receive buffer would add losses that are not the rule's.
	if err := sink.(*net.UDPConn).SetReadBuffer(4 << 20); err != nil {
		t.Fatal(err)
	}
	c := openIn(t, a, func() (net.Conn, error) { return net.Dial("udp", sink.LocalAddr().String()) })
	recv := make(chan int, 1)
	go func() {
		got, buf := 0, make([]byte, 64)
		for {
			sink.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			if _, _, err := sink.ReadFrom(buf); err != nil {
				recv <- got
				return
			}
			got++
		}
	}()
	for i := range n {
		c.Write([]byte("probe"))
		if i%50 == 49 {
			time.Sleep(time.Millisecond) // stay far below the receive buffer
		}
	}
	lost := n - <-recv
	sigma := math.Sqrt(n * p * (1 - p))
	t.Logf("lost %d of %d (want %.0f ± %.0f, 4σ) by %s", lost, n, n*p, 4*sigma, mechanisms(plan)["loss"])
	if math.Abs(float64(lost)-n*p) > 4*sigma {
		t.Errorf("lost %d of %d, want within 4σ (%.0f) of %.0f", lost, n, 4*sigma, n*p)
	}
	if mechanisms(plan)["loss"] != shaper.MechNumgen {
		return // netem's counters are not the rule's
	}
	st := in(t, a, sh.Show)
	want := itemWith(st, "loss", "10%")
	t.Logf("show: %+v", want)
	if want == nil || !strings.HasPrefix(want.Note, strconv.Itoa(lost)+" packets dropped") {
		t.Errorf("show's loss item %+v, want 10%% and %d packets dropped", want, lost)
	}
}

func itemWith(st shaper.State, impairment, value string) *shaper.Item {
	for _, it := range st.Items {
		if it.Impairment == impairment && it.Value == value {
			return &it
		}
	}
	return nil
}

// runDelayer plans s in ns, binds the delayer and queues the traffic to
// it; stop (called at the latest when the test ends) removes its rules
// and unbinds it.
func runDelayer(t *testing.T, ns *netnstest.NS, s shaper.Spec) (sh *shaper.Shaper, d *delayer.Delayer, stop func()) {
	t.Helper()
	sh, p := shapeIn(t, ns, s)
	if !p.Delayer {
		t.Skipf("the kernel has netem: the plan %v needs no delayer", p.Items)
	}
	err := ns.Do(func() (err error) {
		if d, err = delayer.Listen(p.DelayerConfig()); err != nil {
			return err
		}
		return sh.AttachDelayer(p, "test")
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- d.Serve(ctx, func() error { return ns.Do(func() error { return sh.DetachDelayer(p.Spec.Device) }) })
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("delayer: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return sh, d, stop
}

// rtts sends n UDP probes one at a time from a to the echo and returns
// each round trip, sorted.
func rtts(t *testing.T, a *netnstest.NS, echo net.PacketConn, n int) []time.Duration {
	t.Helper()
	c := in(t, a, func() (net.Conn, error) { return net.Dial("udp", echo.LocalAddr().String()) })
	defer c.Close()
	var out []time.Duration
	buf := make([]byte, 64)
	for range n {
		start := time.Now()
		c.Write([]byte("ping"))
		c.SetReadDeadline(time.Now().Add(time.Second))
		if _, err := c.Read(buf); err != nil {
			t.Fatalf("probe %d: %v", len(out), err)
		}
		out = append(out, time.Since(start))
	}
	slices.Sort(out)
	return out
}

// Delay 50 ms ± 10 ms on A's egress through the NFQUEUE delayer: the UDP
// round trip's median is within ±15 % + 2 ms of 50 ms plus the unshaped
// round trip, and the jitter shows in p90−p10 (uniform ±10 ms: 16 ms
// expected; between 8 and 24 ms accepted).
func TestNetns_DelayerDelaysWithJitter(t *testing.T) {
	a, b := netnstest.Pair(t)
	echo := udpEcho(t, b)
	base := rtts(t, a, echo, 20)[10]
	_, d, _ := runDelayer(t, a, shaper.Spec{Device: a.Dev, Delay: 50 * time.Millisecond, Jitter: 10 * time.Millisecond})
	got := rtts(t, a, echo, 60)
	p10, p50, p90 := got[6], got[30], got[54]
	want := 50*time.Millisecond + base
	tol := want*15/100 + 2*time.Millisecond
	t.Logf("RTT unshaped p50 %v; delayed p10 %v p50 %v p90 %v (want p50 %v ± %v); delayer %+v", base, p10, p50, p90, want, tol, d.Stats())
	if p50 < want-tol || p50 > want+tol {
		t.Errorf("p50 %v, want %v ± %v", p50, want, tol)
	}
	if spread := p90 - p10; spread < 8*time.Millisecond || spread > 24*time.Millisecond {
		t.Errorf("p90-p10 %v, want 8..24 ms for ±10 ms of jitter", spread)
	}
	if st := d.Stats(); st.Errors != 0 || st.Overflow != 0 {
		t.Errorf("delayer stats %+v, want no errors or overflow", st)
	}
}

// A partition of B seen from A cuts an established TCP connection and
// refuses new ones; healing lets new connections through again.
func TestNetns_PartitionAndHeal(t *testing.T) {
	a, b := netnstest.Pair(t)
	ln := listenTCP(t, b)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	trackConnections(t, a)
	c, err := dialTCP(a, ln.Addr().String(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := echoOnce(c, 500*time.Millisecond); err != nil {
		t.Fatalf("before the partition: %v", err)
	}
	sh := shaper.New(shaper.NewLinux())
	it := in(t, a, func() (shaper.Item, error) { return sh.Partition([]netip.Addr{b.Addr}) })
	t.Cleanup(func() { a.Do(sh.Reset) })
	t.Logf("partition: %v", it)
	if !strings.Contains(it.Note, "1 flows flushed") {
		t.Errorf("partition note %q, want the established connection's flow flushed", it.Note)
	}
	if err := echoOnce(c, 500*time.Millisecond); err == nil {
		t.Error("the established connection still echoes across the partition")
	}
	if c2, err := dialTCP(a, ln.Addr().String(), 500*time.Millisecond); err == nil {
		c2.Close()
		t.Error("a new connection crossed the partition")
	}
	if err := a.Do(sh.Heal); err != nil {
		t.Fatal(err)
	}
	c3, err := dialTCP(a, ln.Addr().String(), time.Second)
	if err != nil {
		t.Fatalf("after heal: %v", err)
	}
	defer c3.Close()
	if err := echoOnce(c3, time.Second); err != nil {
		t.Errorf("after heal: %v", err)
	}
}

// trackConnections makes ns track connections, as a container with NAT or
// stateful rules does (a namespace without them has no conntrack flows):
// a ct expression in a table of the test's own.
func trackConnections(t *testing.T, ns *netnstest.NS) {
	t.Helper()
	tbl := &nftables.Table{Family: nftables.TableFamilyINet, Name: "conntest"}
	err := ns.Do(func() error {
		c, err := nftables.New()
		if err != nil {
			return err
		}
		c.AddTable(tbl)
		ch := c.AddChain(&nftables.Chain{Name: "out", Table: tbl, Type: nftables.ChainTypeFilter,
			Hooknum: nftables.ChainHookOutput, Priority: nftables.ChainPriorityFilter})
		c.AddRule(&nftables.Rule{Table: tbl, Chain: ch, Exprs: []expr.Any{&expr.Ct{Register: 1, Key: expr.CtKeySTATE}, &expr.Counter{}}})
		return c.Flush()
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ns.Do(func() error {
			c, err := nftables.New()
			if err != nil {
				return err
			}
			c.DelTable(tbl)
			return c.Flush()
		})
	})
}

func echoOnce(c net.Conn, timeout time.Duration) error {
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte("hello")); err != nil {
		return err
	}
	buf := make([]byte, 5)
	_, err := io.ReadFull(c, buf)
	return err
}

// After every kind of impairment at once, reset leaves no qdisc, ifb
// device, nftables table or bound queue behind: read back from the kernel.
func TestNetns_ResetRemovesEverything(t *testing.T) {
	a, b := netnstest.Pair(t)
	sh, _, stopDelayer := runDelayer(t, a, shaper.Spec{Device: a.Dev, Direction: shaper.Both, Rate: 50_000_000, Loss: 1, Delay: 5 * time.Millisecond})
	in(t, a, func() (shaper.Item, error) { return sh.Partition([]netip.Addr{netip.MustParseAddr("10.199.0.9")}) })
	udpEcho(t, b)
	before := in(t, a, sh.Show)
	for _, want := range []string{"rate", "loss", "delayer", "partition"} {
		if !slices.ContainsFunc(before.Items, func(it shaper.Item) bool { return it.Impairment == want }) {
			t.Errorf("show before reset lacks %s: %+v", want, before.Items)
		}
	}
	stopDelayer()
	if err := a.Do(sh.Reset); err != nil {
		t.Fatal(err)
	}
	err := a.Do(func() error { return leftovers(a.Dev) })
	if err != nil {
		t.Error(err)
	}
}

// leftovers reads back the namespace and names anything of the shaper's.
func leftovers(dev string) error {
	var errs []error
	links, err := netlink.LinkList()
	if err != nil {
		return err
	}
	for _, l := range links {
		if strings.HasPrefix(l.Attrs().Name, shaper.IFBPrefix) {
			errs = append(errs, errors.New("ifb device "+l.Attrs().Name+" left"))
		}
		qs, err := netlink.QdiscList(l)
		if err != nil {
			return err
		}
		for _, q := range qs {
			if q.Attrs().Handle != 0 && l.Attrs().Name != "lo" {
				errs = append(errs, errors.New("qdisc "+q.Type()+" "+netlink.HandleStr(q.Attrs().Handle)+" left on "+l.Attrs().Name))
			}
		}
	}
	chains, err := shaper.NewLinux().NftList()
	if err != nil {
		return err
	}
	if len(chains) > 0 {
		errs = append(errs, errors.New("nftables chains left"))
	}
	qs, err := shaper.ReadQueues()
	if err != nil {
		return err
	}
	for _, q := range qs {
		if q.Netlab {
			errs = append(errs, errors.New("the delayer's queue is still bound"))
		}
	}
	return errors.Join(errs...)
}
