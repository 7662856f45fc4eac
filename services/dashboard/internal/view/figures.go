package view

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"strings"
)

// Figure is one headline number of a replica on the overview, with its
// sparkline.
type Figure struct {
	Key   string `json:"k"`
	Label string `json:"l"`
	Unit  string `json:"u,omitempty"` // "B/s", "/s", "s", "B" or none
	Value Num    `json:"v"`
	// Parts break the value down (by reason, by route and status), the
	// largest first.
	Parts  []Part `json:"parts,omitempty"`
	Points []Num  `json:"p,omitempty"` // snapshot: the sparkline, oldest first
}

// Part is one line of a figure's breakdown.
type Part struct {
	Label string `json:"l"`
	Value Num    `json:"v"`
}

// figureDef computes one figure over a calc's points.
type figureDef struct {
	key, label, unit string
	// metric is the series read: it names an exported metric (tests check
	// the names against what the services export).
	metric string
	kind   figureKind
	by     []string // labels of the breakdown (sum figures)
	q      float64  // quantile (quantile figures)
}

type figureKind int

const (
	sumFigure      figureKind = iota // the sum of the series (rates or gauges)
	quantileFigure                   // a percentile of a histogram
)

// Figures are the headline figures of each kind of service, by the name
// the service gives itself (netlab_build_info's service label). A kind
// not listed shows fallbackFigures.
var Figures = map[string][]figureDef{
	"tcp-echo": {
		{key: "conns", label: "connections", metric: "netlab_tcp_echo_connections_active"},
		{key: "accepted", label: "accepted", unit: "/s", metric: "netlab_tcp_echo_connections_accepted_total"},
		{key: "in", label: "bytes in", unit: "B/s", metric: "netlab_tcp_echo_bytes_received_total"},
		{key: "out", label: "bytes out", unit: "B/s", metric: "netlab_tcp_echo_bytes_sent_total"},
	},
	"udp-responder": {
		{key: "received", label: "datagrams", unit: "/s", metric: "netlab_udp_responder_datagrams_received_total"},
		{key: "replies", label: "replies", unit: "/s", metric: "netlab_udp_responder_replies_sent_total"},
		{key: "drops", label: "drops", unit: "/s", metric: "netlab_udp_responder_dropped_total", by: []string{"reason"}},
	},
	"http-hello": {
		{key: "requests", label: "requests", unit: "/s", metric: "netlab_http_hello_requests_total", by: []string{"route", "code"}},
		{key: "p50", label: "latency p50", unit: "s", metric: "netlab_http_hello_request_duration_seconds", kind: quantileFigure, q: 0.5},
		{key: "p99", label: "latency p99", unit: "s", metric: "netlab_http_hello_request_duration_seconds", kind: quantileFigure, q: 0.99},
		{key: "inflight", label: "in flight", metric: "netlab_http_hello_requests_in_flight"},
	},
	"peer": {
		{key: "up", label: "upload", unit: "B/s", metric: "netlab_peer_bytes_uploaded_total"},
		{key: "down", label: "download", unit: "B/s", metric: "netlab_peer_bytes_downloaded_total"},
		{key: "verified", label: "pieces verified", unit: "/s", metric: "netlab_peer_pieces_verified_total"},
		{key: "failed", label: "pieces failed", unit: "/s", metric: "netlab_peer_pieces_failed_total"},
		{key: "peers", label: "peers", metric: "netlab_peer_peers_connected"},
	},
}

// fallbackFigures are shown for a service the dashboard has no figures of.
var fallbackFigures = []figureDef{
	{key: "goroutines", label: "goroutines", metric: "go_goroutines"},
	{key: "rss", label: "memory", unit: "B", metric: "process_resident_memory_bytes"},
}

// FigureMetrics are the metrics the figures read, for tests that check
// each is exported.
func FigureMetrics() []string {
	var out []string
	for _, defs := range append(slices.Collect(maps.Values(Figures)), fallbackFigures) {
		for _, d := range defs {
			out = append(out, d.metric)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// compute works out the figure's values at the calc's points and its
// breakdown at the newest one.
func (d figureDef) compute(c *calc) ([]float64, []Part) {
	if d.kind == quantileFigure {
		return quantiles(c.bucketRates(d.metric), c.n, QuantileWindow, d.q)[0], nil
	}
	total := c.sum(d.metric)
	if len(d.by) == 0 {
		return total, nil
	}
	var parts []Part
	for label, vals := range c.groupBy(d.metric, d.by...) {
		if v := last(vals); v > 0 {
			parts = append(parts, Part{Label: strings.TrimSpace(label), Value: Num(v)})
		}
	}
	slices.SortFunc(parts, func(a, b Part) int {
		return cmp.Or(cmp.Compare(b.Value, a.Value), strings.Compare(a.Label, b.Label))
	})
	if len(parts) > MaxParts {
		rest := 0.0
		for _, p := range parts[MaxParts-1:] {
			rest += float64(p.Value)
		}
		parts = append(parts[:MaxParts-1], Part{Label: "other", Value: Num(rest)})
	}
	return total, parts
}

// figures computes a replica's figures over the last n points; with
// points, each keeps its sparkline.
func figures(c *calc, kind string, points bool) []Figure {
	defs, ok := Figures[kind]
	if !ok {
		defs = fallbackFigures
	}
	out := make([]Figure, 0, len(defs))
	for _, d := range defs {
		vals, parts := d.compute(c)
		f := Figure{Key: d.key, Label: d.label, Unit: d.unit, Value: Num(math.NaN()), Parts: parts}
		if len(vals) > 0 {
			f.Value = Num(last(vals))
		}
		if points {
			f.Points = nums(vals)
		}
		out = append(out, f)
	}
	return out
}
