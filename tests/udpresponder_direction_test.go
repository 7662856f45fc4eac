package tests_test

// udp-client's per-direction loss (probe version 2) against udp-responder
// on the compose stack, with loss injected on one direction only.

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/netlab/netlab/tests/e2e"
)

// directionReport is the part of the client's --json summary that splits
// the loss.
type directionReport struct {
	Sent       int64 `json:"sent"`
	Lost       int64 `json:"lost"`
	Directions *struct {
		Exact             bool  `json:"exact"`
		CountQueries      int64 `json:"count_queries"`
		ResponderReceived int64 `json:"responder_received"`
		UpstreamLost      int64 `json:"upstream_lost"`
		DownstreamLost    int64 `json:"downstream_lost"`
		NegativeOneWay    int64 `json:"negative_one_way"`
		OneWayUp          struct {
			N     int64 `json:"n"`
			MinNs int64 `json:"min_ns"`
		} `json:"one_way_up"`
	} `json:"directions"`
}

// TestUDPResponder_SplitsLossByDirection drops each reply on its way out
// of the responder with probability p (iptables OUTPUT, in the container's
// network namespace), then each request on its way in (INPUT), and checks
// that udp-client puts the loss on the right side: the other side about
// zero, this one within 4 binomial standard deviations of p, and exactly
// what the responder's side counted — less the client's final count
// queries (or their answers) that were dropped, which are all its queries
// but the one answered.
//
// What the responder's side counted: for requests, the INPUT rule's drop
// counter. For replies, the responder's own count of replies it could not
// send (dropped_total{reason="write_error"}), not the OUTPUT rule's: a
// netfilter drop of a local packet fails its send with EPERM, and when
// that happens in the middle of a sendmmsg batch the kernel only says the
// batch stopped there, so the responder sends that reply once more (and
// counts it as failed only if that fails too). The rule then sees more
// drops than replies lost, and the reply loss runs a little below p; at
// 500 probes a second from one client batches of more than one are rare.
func TestUDPResponder_SplitsLossByDirection(t *testing.T) {
	e2e.RequireNetTools(t)
	s := e2e.NewStack(t, e2e.StackConfig{Services: []string{e2e.UDPResponder}})
	ctr := s.Service(e2e.UDPResponder).Container()
	const (
		count = 2000
		p     = 0.2
	)
	for _, tc := range []struct {
		name, chain string
		match       []string // the rule's interface and port: eth0 only, so the healthcheck over loopback is spared
		downstream  bool     // which direction loses
	}{
		{"replies dropped", "OUTPUT", []string{"-o", "eth0", "-p", "udp", "--sport", fmt.Sprint(udpPort)}, true},
		{"requests dropped", "INPUT", []string{"-i", "eth0", "-p", "udp", "--dport", fmt.Sprint(udpPort)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rule := append([]string{tc.chain}, append(tc.match,
				"-m", "statistic", "--mode", "random", "--probability", fmt.Sprint(p), "-j", "DROP")...)
			e2e.InNetns(t, ctr, append([]string{"iptables", "-A"}, rule...)...)
			e2e.UndoInNetns(t, ctr, append([]string{"iptables", "-D"}, rule...)...)

			admin := s.Service(e2e.UDPResponder).AdminAddr()
			failedBefore := e2e.Scrape(t, admin).Value(udpDropped, droppedFor("write_error"))
			// 500/s is a quarter of the per-source RATE_LIMIT: no drop is the limiter's.
			_, res, err := probeRun(t, s, "--count", fmt.Sprint(count), "--rate", "500", "--timeout", "2s")
			if err != nil {
				t.Fatal(err)
			}
			var rep directionReport
			if err := json.NewDecoder(strings.NewReader(res.Stdout)).Decode(&rep); err != nil || rep.Directions == nil {
				t.Fatalf("no directions in the report (%v):\n%s", err, res)
			}
			d := rep.Directions
			drops := e2e.ChainDrops(t, ctr, tc.chain, "statistic")
			failed := int64(e2e.Scrape(t, admin).Value(udpDropped, droppedFor("write_error")) - failedBefore)
			lossy, clean, n := d.UpstreamLost, d.DownstreamLost, rep.Sent
			if tc.downstream {
				lossy, clean, n = d.DownstreamLost, d.UpstreamLost, d.ResponderReceived
			}
			mean, sigma := p*float64(n), math.Sqrt(float64(n)*p*(1-p))
			t.Logf("FIGURE direction udp-responder %s injected=%.2f sent=%d responder_received=%d upstream_lost=%d downstream_lost=%d rule_drops=%d replies_failed=%d queries=%d expected=%.0f sigma=%.1f one_way_up_min_ns=%d",
				tc.chain, p, rep.Sent, d.ResponderReceived, d.UpstreamLost, d.DownstreamLost, drops, failed, d.CountQueries, mean, sigma, d.OneWayUp.MinNs)
			if !d.Exact || rep.Sent != count || d.UpstreamLost+d.DownstreamLost != rep.Lost {
				t.Fatalf("exact %v, sent %d, up %d + down %d != lost %d", d.Exact, rep.Sent, d.UpstreamLost, d.DownstreamLost, rep.Lost)
			}
			if clean > count/1000 {
				t.Errorf("the direction without loss lost %d of %d", clean, count)
			}
			if dev := float64(lossy) - mean; math.Abs(dev) > 4*sigma {
				t.Errorf("lost %d of %d, want %.0f ± %.0f (4 sigma of a binomial with p=%.2f)", lossy, n, mean, 4*sigma, p)
			}
			counted, what := drops, "the INPUT rule dropped"
			if tc.downstream {
				counted, what = failed, "the responder failed to send"
			}
			if want := lossy + d.CountQueries - 1; counted != want {
				t.Errorf("%s %d packets; the client counts %d lost and %d count queries: want %d", what, counted, lossy, d.CountQueries, want)
			}
			if d.NegativeOneWay != 0 || d.OneWayUp.N == 0 {
				t.Errorf("one-way delays on one machine: %d negative, %d measured", d.NegativeOneWay, d.OneWayUp.N)
			}
		})
	}
}
