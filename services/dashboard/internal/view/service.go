package view

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/netlab/netlab/services/dashboard/internal/history"
	"github.com/netlab/netlab/services/dashboard/internal/scrape"
	"github.com/netlab/netlab/services/dashboard/internal/stats"
)

// ServicePage is a service's page: every metric as a chart, summed over
// its replicas or of one replica.
type ServicePage struct {
	header
	Service  string    `json:"service"`
	Replica  string    `json:"replica,omitempty"` // the replica shown; "" for all
	Replicas []Replica `json:"replicas"`
	Times    []int64   `json:"times,omitempty"` // snapshot: the charts' times, unix ms
	Charts   []Chart   `json:"charts"`
}

// Chart is one metric family over time: a counter as its rate, a gauge as
// it is, a summary's quantiles, a histogram's percentiles and its
// distribution.
type Chart struct {
	ID    string `json:"id"` // the family name
	Help  string `json:"help,omitempty"`
	Type  string `json:"type"`
	Unit  string `json:"u,omitempty"`
	Lines []Line `json:"lines"`
	// Dist is a histogram's observations in each bucket over the last
	// DistWindow intervals (not cumulative).
	Dist []Bar `json:"dist,omitempty"`
}

// Line is one series of a chart.
type Line struct {
	Label  string `json:"l"`
	Value  Num    `json:"v"`
	Points []Num  `json:"p,omitempty"` // snapshot: one per time
}

// Bar is one bucket of a distribution.
type Bar struct {
	Le    string `json:"le"`
	Value Num    `json:"v"`
}

// chartAcc gathers a chart's series over the replicas shown.
type chartAcc struct {
	fam     scrape.Family
	lines   map[string][]float64
	buckets map[float64][]float64
}

// BuildService builds the page of service, of every replica (replica "")
// or one. A snapshot holds the history, averaged into at most ChartPoints
// points. Its shape is the charts and their lines.
func BuildService(in Input, service, replica string, snapshot bool) (ServicePage, string) {
	out := ServicePage{header: headerOf("service", in, snapshot), Service: service, Replicas: []Replica{}, Charts: []Chart{}}
	var keys []string
	for _, svc := range in.Round.Services {
		if svc.Name != service {
			continue
		}
		for _, r := range svc.Replicas {
			out.Replicas = append(out.Replicas, replicaOf(r, in.Round.Time))
			if replica == "" || r.Key == replica {
				keys = append(keys, r.Key)
			}
		}
	}
	if replica != "" && len(keys) == 1 {
		out.Replica = replica
	}
	n := min(DistWindow, in.History.Len())
	if snapshot {
		n = in.History.Len()
	}
	accs := gather(in.History, keys, n)
	var groups []int
	if snapshot {
		groups = stats.Groups(n, ChartPoints)
		times := in.History.Times(n)
		for _, end := range groups {
			out.Times = append(out.Times, times[end-1])
		}
	}
	parts := []string{"svc:" + service, "rep:" + out.Replica}
	for _, id := range chartOrder(accs) {
		ch := accs[id].chart(n, in.Interval.Seconds(), groups, snapshot)
		parts = append(parts, "c:"+ch.ID)
		for _, l := range ch.Lines {
			parts = append(parts, "l:"+l.Label)
		}
		out.Charts = append(out.Charts, ch)
	}
	return out, shape(parts)
}

// gather sums every series of the replicas by family and line.
func gather(r history.Reader, keys []string, n int) map[string]*chartAcc {
	accs := map[string]*chartAcc{}
	var buf []float32
	for _, key := range keys {
		fams := r.Families(key)
		r.Each(key, func(s *history.Series) {
			fam, ok := fams[s.Family]
			if !ok || s.Family == "netlab_build_info" { // the version, on every page already
				return
			}
			acc := accs[fam.Name]
			if acc == nil {
				acc = &chartAcc{fam: fam, lines: map[string][]float64{}, buckets: map[float64][]float64{}}
				accs[fam.Name] = acc
			}
			buf = r.Values(s, n, buf[:0])
			acc.add(s, buf, n)
		})
	}
	return accs
}

// add adds one series' values to the chart.
func (a *chartAcc) add(s *history.Series, vals []float32, n int) {
	switch a.fam.Type {
	case scrape.Histogram:
		if s.Name != a.fam.Name+"_bucket" {
			return // _sum and _count: the percentiles say more
		}
		le, err := strconv.ParseFloat(scrape.Label(s.Labels, "le"), 64)
		if err != nil {
			return
		}
		if a.buckets[le] == nil {
			a.buckets[le] = nanSlice(n)
		}
		addInto(a.buckets[le], vals)
	case scrape.Summary:
		if s.Name != a.fam.Name {
			return
		}
		label := strings.Trim(scrape.Without(s.Labels, "quantile")+" q"+scrape.Label(s.Labels, "quantile"), " ")
		if a.lines[label] == nil {
			a.lines[label] = nanSlice(n)
		}
		maxInto(a.lines[label], vals) // quantiles of replicas do not add up
	default:
		if a.lines[s.Labels] == nil {
			a.lines[s.Labels] = nanSlice(n)
		}
		addInto(a.lines[s.Labels], vals)
	}
}

func maxInto(dst []float64, vals []float32) {
	for i, v := range vals {
		if f := float64(v); !math.IsNaN(f) && (math.IsNaN(dst[i]) || f > dst[i]) {
			dst[i] = f
		}
	}
}

// chartOrder puts netlab's own metrics first, then the process's, then
// Go's, each by name.
func chartOrder(accs map[string]*chartAcc) []string {
	rank := func(id string) int {
		switch {
		case strings.HasPrefix(id, "netlab_"):
			return 0
		case strings.HasPrefix(id, "process_"):
			return 1
		}
		return 2
	}
	ids := slices.Collect(maps.Keys(accs))
	slices.SortFunc(ids, func(a, b string) int { return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(a, b)) })
	return ids
}

// chart turns the gathered series into lines (and a distribution).
func (a *chartAcc) chart(n int, interval float64, groups []int, snapshot bool) Chart {
	ch := Chart{ID: a.fam.Name, Help: a.fam.Help, Type: a.fam.Type, Unit: unitOf(a.fam)}
	lines := a.lines
	if a.fam.Type == scrape.Histogram {
		lines = map[string][]float64{}
		qs := quantiles(a.buckets, n, QuantileWindow, 0.5, 0.9, 0.99)
		lines["p50"], lines["p90"], lines["p99"] = qs[0], qs[1], qs[2]
		ch.Dist = distribution(a.buckets, n, interval)
	}
	for _, label := range capLines(lines) {
		vals := lines[label]
		l := Line{Label: label, Value: Num(last(vals))}
		if label == "" {
			l.Label = a.fam.Name
		}
		if snapshot {
			l.Points = downsample(vals, groups)
		}
		ch.Lines = append(ch.Lines, l)
	}
	return ch
}

// capLines keeps at most MaxLines lines in label order, summing the rest
// into "other" (which it adds to lines).
func capLines(lines map[string][]float64) []string {
	labels := slices.Sorted(maps.Keys(lines))
	if len(labels) <= MaxLines {
		return labels
	}
	keep, rest := labels[:MaxLines-1], labels[MaxLines-1:]
	other := nanSlice(len(lines[rest[0]]))
	for _, l := range rest {
		for i, v := range lines[l] {
			if math.IsNaN(v) {
				continue
			}
			if math.IsNaN(other[i]) {
				other[i] = 0
			}
			other[i] += v
		}
	}
	name := "other (" + strconv.Itoa(len(rest)) + ")"
	lines[name] = other
	return append(slices.Clone(keep), name)
}

// distribution is how many observations fell in each bucket over the last
// DistWindow intervals.
func distribution(buckets map[float64][]float64, n int, interval float64) []Bar {
	bounds := slices.Sorted(maps.Keys(buckets))
	out := make([]Bar, 0, len(bounds))
	below := 0.0
	for _, le := range bounds {
		cum := windowSum(buckets[le], n-1, DistWindow) * interval
		out = append(out, Bar{Le: strconv.FormatFloat(le, 'g', -1, 64), Value: Num(math.Max(0, cum-below))})
		below = math.Max(below, cum)
	}
	return out
}

// downsample averages vals over each group (ends from stats.Groups).
func downsample(vals []float64, groups []int) []Num {
	out := make([]Num, len(groups))
	start := 0
	for i, end := range groups {
		sum, k := 0.0, 0
		for _, v := range vals[start:end] {
			if !math.IsNaN(v) {
				sum += v
				k++
			}
		}
		out[i] = Num(math.NaN())
		if k > 0 {
			out[i] = Num(sum / float64(k))
		}
		start = end
	}
	return out
}

// unitOf guesses a family's unit from its name, as Prometheus names them.
func unitOf(f scrape.Family) string {
	name := f.Name
	rate := f.Type == scrape.Counter
	switch {
	case strings.Contains(name, "bytes") && rate:
		return "B/s"
	case strings.Contains(name, "bytes"):
		return "B"
	case strings.HasSuffix(name, "seconds_total"):
		return "s/s"
	case strings.Contains(name, "seconds"):
		return "s"
	case rate:
		return "/s"
	}
	return ""
}
