// Package view builds what each page of the dashboard shows from the last
// poll round and the history: the overview (every replica's state and
// headline figures), a service's page (every metric as a chart) and the
// swarm (peer nodes, links and piece maps). A view is built whole as a
// snapshot (with the history of every line) or as an update (the newest
// values only); its Shape changes when an update no longer fits the
// snapshot the browser holds, and a new snapshot is due.
package view

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/netlab/netlab/services/dashboard/internal/history"
	"github.com/netlab/netlab/services/dashboard/internal/poller"
)

// Limits of what a view holds, so every message has a bounded size.
const (
	// SparkPoints is how many points an overview sparkline has (2 min at
	// the default 1 s interval).
	SparkPoints = 120
	// ChartPoints is the most points a service page chart starts with;
	// a longer history is averaged into that many.
	ChartPoints = 300
	// MaxLines is the most lines a chart draws; further series are
	// summed into one "other" line.
	MaxLines = 8
	// MaxParts is the most parts a figure's breakdown lists.
	MaxParts = 6
	// QuantileWindow is how many poll intervals a percentile covers: a
	// percentile of one second's requests jumps about too much to read.
	QuantileWindow = 10
	// DistWindow is how many poll intervals a histogram's distribution
	// covers.
	DistWindow = 60
	// MapCells is the most cells a piece map has; a file of more pieces
	// shows the share held of each cell's pieces.
	MapCells = 64
)

// Input is what a view is built from.
type Input struct {
	Round    poller.Round
	History  history.Reader
	Interval time.Duration
	// Window is how far back the history goes (HISTORY).
	Window time.Duration
	// Notes are shown on every page (e.g. that the series limit was hit).
	Notes []string
}

// Num is a number in a view's JSON: NaN (no value) is null, and values
// have 5 significant digits, plenty for a chart and small on the wire.
type Num float64

// MarshalJSON writes n.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', 5, 64), nil
}

// nums converts values.
func nums(v []float64) []Num {
	out := make([]Num, len(v))
	for i, x := range v {
		out[i] = Num(x)
	}
	return out
}

// last is the last element of v, NaN when empty.
func last(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	return v[len(v)-1]
}

// Replica is a replica's state as every page shows it.
type Replica struct {
	Key      string `json:"key"`
	Name     string `json:"name"`
	Addr     string `json:"addr"`
	Kind     string `json:"kind,omitempty"`
	State    string `json:"state"`
	Err      string `json:"error,omitempty"`
	Since    int64  `json:"since"`               // unix ms: in State since
	LastSeen int64  `json:"last_seen,omitempty"` // unix ms of the last answer
	Version  string `json:"version,omitempty"`
	Commit   string `json:"commit,omitempty"`
	Uptime   Num    `json:"uptime_s"` // at the round; null when unknown
	InDNS    bool   `json:"in_dns"`
}

// replicaOf describes r at the round's time.
func replicaOf(r poller.Replica, now time.Time) Replica {
	out := Replica{Key: r.Key, Name: r.Name, Addr: r.Addr, Kind: r.Kind, State: r.State, Err: r.Err,
		Since: r.Since.UnixMilli(), Version: r.Version.Version, Commit: short(r.Version.Commit, 12),
		Uptime: Num(math.NaN()), InDNS: r.Resolved}
	if !r.LastSeen.IsZero() {
		out.LastSeen = r.LastSeen.UnixMilli()
	}
	if !r.Started.IsZero() && r.State != poller.StateDown {
		out.Uptime = Num(now.Sub(r.Started).Seconds())
	}
	return out
}

func short(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// header is what every page's message starts with.
type header struct {
	Page     string   `json:"page"`
	T        int64    `json:"t"` // the round's time, unix ms
	TookMS   Num      `json:"took_ms"`
	Interval int64    `json:"interval_ms"`
	Window   int64    `json:"window_ms"` // how far back the history goes
	Snapshot bool     `json:"snapshot"`
	Notes    []string `json:"notes,omitempty"`
}

func headerOf(page string, in Input, snapshot bool) header {
	return header{Page: page, T: in.Round.Time.UnixMilli(), TookMS: Num(in.Round.Took.Seconds() * 1000),
		Interval: in.Interval.Milliseconds(), Window: in.Window.Milliseconds(), Snapshot: snapshot, Notes: in.Notes}
}

// shape joins the parts that make a view's shape.
func shape(parts []string) string { return strings.Join(parts, "\x00") }
