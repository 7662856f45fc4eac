// Package pagetime is the theory of the http-rtt experiment: the round
// trips a page of K small objects takes over HTTP/1.1 without and with
// persistent connections and over multiplexed HTTP/2 (Kurose and Ross,
// Computer Networking: A Top-Down Approach, 8th ed., §2.2.2 and the
// section on HTTP/2 after it), the round-trip time under an added delay,
// and the tolerance a measured page time is held to.
package pagetime

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/netlab/netlab/lab/internal/exp/result"
	"github.com/netlab/netlab/lab/internal/exp/stats"
)

// How a page's objects are fetched.
const (
	// NonPersistent is HTTP/1.1 with a connection per object, one after
	// another (no parallel connections).
	NonPersistent = "non-persistent"
	// Persistent is HTTP/1.1 on one kept-alive connection, a request at
	// a time (no pipelining).
	Persistent = "persistent"
	// Multiplexed is HTTP/2 (h2c) on one connection, every object's
	// request in a stream of its own at once.
	Multiplexed = "multiplexed"
)

// Connections are the ways a page may be fetched.
var Connections = []string{NonPersistent, Persistent, Multiplexed}

// RTTs is the round trips a page of k objects takes over conn:
// non-persistent 2k (each object a TCP handshake, then its request and
// response), persistent k+1 (one handshake, then a request and response
// at a time), multiplexed 2 (one handshake, then every request at once).
// 0 for an unknown conn.
func RTTs(conn string, k int) float64 {
	switch conn {
	case NonPersistent:
		return 2 * float64(k)
	case Persistent:
		return float64(k) + 1
	case Multiplexed:
		return 2
	}
	return 0
}

// formulas are the counts as a legend writes them.
var formulas = map[string]string{NonPersistent: "2K·RTT", Persistent: "(K+1)·RTT", Multiplexed: "2·RTT"}

// Label names a page's theory in a legend: "non-persistent: 2K·RTT, K = 10".
func Label(conn string, k int) string {
	return fmt.Sprintf("%s: %s, K = %d", conn, formulas[conn], k)
}

// Model is what the theory needs of a run, in milliseconds.
type Model struct {
	// Base is RTT₀, the round-trip time with no delay added: the
	// median TCP connect time measured at delay 0.
	Base float64
	// Ways is how often an added delay lies on a round trip: 1 when it
	// is added in one direction, 2 in both.
	Ways float64
	// RateMbit is the link's cap, which sets the transmission time; 0:
	// none (a container's veth moves a small object in microseconds).
	RateMbit float64
}

// RTT is the round-trip time at added delay d: RTT₀ + ways × d.
func (m Model) RTT(d float64) float64 { return m.Base + m.Ways*d }

// Transmission is the time to send k objects of the given size each at
// the cap, K·L/R; 0 without one.
func (m Model) Transmission(k int, bytes float64) float64 {
	if m.RateMbit <= 0 {
		return 0
	}
	return float64(k) * bytes * 8 / (m.RateMbit * 1e3)
}

// Page is the theory's page time at delay d: RTTs × RTT(d) + K·L/R.
func (m Model) Page(conn string, k int, bytes, d float64) float64 {
	return RTTs(conn, k)*m.RTT(d) + m.Transmission(k, bytes)
}

// The tolerance of a measured page time: at least the theory (no page
// beats its round trips), at most Slope × the theory plus PerObject for
// each object (the client's and the server's work on a request, which no
// delay changes).
const (
	Slope     = 1.25
	PerObject = 2.0 // ms
)

// Band is the tolerance around a page's theory.
func Band(theory float64, k int) (low, high float64) {
	return theory, Slope*theory + PerObject*float64(k)
}

// The series of the http-page client: a repetition's figure and its
// extras.
const (
	MetricPage    = "page_ms"      // the median page time of the repetition
	MetricConnect = "connect_ms"   // the median TCP connect time
	MetricBytes   = "object_bytes" // body bytes per object
)

// ModelOf is the model of a run whose workloads (their names) measured
// the rows, with the delay added in direction (egress, ingress, both)
// and the cap rateMbit (0: none); ok is false without an RTT₀, and n is
// the connect times it is the median of.
func ModelOf(rows []result.Row, workloads []string, direction string, rateMbit float64) (m Model, n int, ok bool) {
	m.Base, n, ok = BaseRTT(rows, workloads)
	m.Ways, m.RateMbit = 1, rateMbit
	if direction == "both" {
		m.Ways = 2
	}
	return m, n, ok
}

// BaseRTT is RTT₀: the median of the connect times the workloads
// measured at delay 0 (their summary rows), and how many there were; ok
// is false when there were none.
func BaseRTT(rows []result.Row, workloads []string) (ms float64, n int, ok bool) {
	var xs []float64
	for _, r := range rows {
		if r.Value != 0 || r.Metric != MetricConnect {
			continue
		}
		if w, ok := strings.CutPrefix(r.Source, result.SummaryPrefix); ok && slices.Contains(workloads, w) {
			xs = append(xs, r.V)
		}
	}
	if len(xs) == 0 {
		return 0, 0, false
	}
	return stats.Median(xs), len(xs), true
}

// ObjectBytes is the body bytes per object a workload measured at point
// i (their mean over its repetitions; NaN when none).
func ObjectBytes(rows []result.Row, i int, workload string) float64 {
	return Extra(rows, i, workload, MetricBytes)
}

// Extra is the mean over its repetitions of a workload's summary figure
// at point i; NaN when there is none.
func Extra(rows []result.Row, i int, workload, metric string) float64 {
	var xs []float64
	for _, r := range rows {
		if r.Point == i && r.Source == result.SummaryPrefix+workload && r.Metric == metric {
			xs = append(xs, r.V)
		}
	}
	if len(xs) == 0 {
		return math.NaN()
	}
	return stats.Summarize(xs).Mean
}

// PageTimes are the times of every page (ms) of each workload at each
// point: point → workload → times, from the clients' series rows.
func PageTimes(rows []result.Row) map[int]map[string][]float64 {
	out := map[int]map[string][]float64{}
	for _, r := range rows {
		w, ok := strings.CutPrefix(r.Source, "workload:")
		if !ok || r.Metric != MetricPage {
			continue
		}
		if out[r.Point] == nil {
			out[r.Point] = map[string][]float64{}
		}
		out[r.Point][w] = append(out[r.Point][w], r.V)
	}
	return out
}
