// Package result is what an experiment run leaves: result.json (the
// points, each workload's repetitions, their mean and interval, and the
// theory to compare against) and series.csv (every per-interval figure of
// the clients and every /metrics scrape, plus each repetition's summary
// figure, from which result.json's figures are computed).
package result

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"time"

	"github.com/netlab/netlab/lab/internal/exp/stats"
)

// Schema names result.json's format; a reader refuses any other.
const Schema = "netlab-exp/1"

// Result is one run of one experiment.
type Result struct {
	Schema      string            `json:"schema"`
	Name        string            `json:"name"`
	Title       string            `json:"title"`
	Parameter   string            `json:"parameter"` // loss, rate, delay
	Unit        string            `json:"unit"`      // of the parameter
	Quick       bool              `json:"quick"`
	Seed        int64             `json:"seed"`
	Project     string            `json:"compose_project"`
	Started     time.Time         `json:"started"`
	Finished    time.Time         `json:"finished"`
	Environment map[string]string `json:"environment"`
	// Mechanisms are the impairments as applied, each with what carried
	// it (netem, tbf, nft numgen...), as netlab shape reported them.
	Mechanisms []string `json:"mechanisms"`
	Points     []Point  `json:"points"`
	Notes      []string `json:"notes,omitempty"`
}

// Point is one value of the swept parameter.
type Point struct {
	Value    float64   `json:"value"`
	Measures []Measure `json:"measures"`
}

// Measure is one workload's figure at one point over the repetitions.
type Measure struct {
	Workload string        `json:"workload"`
	Client   string        `json:"client"`
	Metric   string        `json:"metric"` // the series' name of the per-repetition figure
	Unit     string        `json:"unit"`
	Reps     []float64     `json:"repetitions"`
	Summary  stats.Summary `json:"summary"`
	// Samples is what one repetition's figure is measured over (probes
	// sent, for a loss): the band's n.
	Samples int `json:"samples,omitempty"`
	// Theory is the figure theory gives at this point; absent when none.
	// TheoryLabel names it in the plot's legend ("D_cs = max(NF/us, F/dmin)").
	Theory      *float64 `json:"theory,omitempty"`
	TheoryLabel string   `json:"theory_label,omitempty"`
	// BandLow and BandHigh bound each repetition's figure (theory ± 4σ
	// for a loss, the tolerance around a bound); Within says whether
	// every repetition is inside.
	BandLow  *float64 `json:"band_low,omitempty"`
	BandHigh *float64 `json:"band_high,omitempty"`
	Within   *bool    `json:"within_band,omitempty"`
	// Ratio is the mean over the theory, when both are there.
	Ratio *float64 `json:"ratio,omitempty"`
}

// Analyze fills every measure's summary and its comparison with theory
// from its repetitions.
func (r *Result) Analyze() {
	for i := range r.Points {
		p := &r.Points[i]
		for j := range p.Measures {
			analyze(r.Parameter, p.Value, &p.Measures[j])
		}
	}
}

func analyze(param string, v float64, m *Measure) {
	// A repetition without a figure (NaN) has no place in result.json.
	m.Reps = slices.DeleteFunc(m.Reps, math.IsNaN)
	m.Summary = stats.Summarize(m.Reps)
	m.Ratio, m.Within = nil, nil
	slack := 0.0
	if th, ok := Theory(param, m.Metric, v); ok {
		m.Theory, m.BandLow, m.BandHigh = &th, nil, nil
		if param == "loss" && m.Samples > 0 {
			k := 4 * stats.LossSigma(v, m.Samples)
			m.BandLow, m.BandHigh = ptr(math.Max(0, v-k)), ptr(math.Min(100, v+k))
			// A measured count is whole probes: allow one probe either way.
			slack = 100 / float64(m.Samples)
		}
	}
	if m.Theory != nil && *m.Theory != 0 {
		m.Ratio = ptr(m.Summary.Mean / *m.Theory)
	}
	if m.BandLow != nil && m.BandHigh != nil {
		in := len(m.Reps) > 0
		for _, x := range m.Reps {
			in = in && x >= *m.BandLow-slack && x <= *m.BandHigh+slack
		}
		m.Within = &in
	}
}

func ptr(v float64) *float64 { return &v }

// Theory is the figure theory gives for metric at parameter value v:
// a loss set to p is measured as p (y = p); a cap of c Mbit/s passes at
// most c Mbit/s.
func Theory(param, metric string, v float64) (float64, bool) {
	switch {
	case param == "loss" && metric == MetricLoss:
		return v, true
	case param == "rate" && (metric == MetricTCPMbit || metric == MetricUDPMbit || metric == MetricPeerMbit):
		return v, true
	}
	return 0, false
}

// Figure is one repetition's figure of a workload, as a client measured
// it, with the theory it is compared against when the client knows it.
type Figure struct {
	Metric      string   `json:"metric"`
	Unit        string   `json:"unit"`
	Value       float64  `json:"value"`
	Samples     int      `json:"samples,omitempty"`
	Theory      *float64 `json:"theory,omitempty"`
	TheoryLabel string   `json:"theory_label,omitempty"`
	BandLow     *float64 `json:"band_low,omitempty"`
	BandHigh    *float64 `json:"band_high,omitempty"`
}

// Add puts repetition rep (of reps) of a workload's figure into the
// point's measure of that workload and metric, made on first use.
func (p *Point) Add(workload, client string, f Figure, rep, reps int) {
	i := slices.IndexFunc(p.Measures, func(m Measure) bool { return m.Workload == workload && m.Metric == f.Metric })
	if i < 0 {
		p.Measures = append(p.Measures, Measure{Workload: workload, Client: client, Metric: f.Metric, Unit: f.Unit, Reps: nanSlice(reps)})
		i = len(p.Measures) - 1
	}
	m := &p.Measures[i]
	if rep >= 0 && rep < len(m.Reps) {
		m.Reps[rep] = f.Value
	}
	m.Samples = max(m.Samples, f.Samples)
	if f.Theory != nil {
		m.Theory, m.TheoryLabel, m.BandLow, m.BandHigh = f.Theory, f.TheoryLabel, f.BandLow, f.BandHigh
	}
}

// nanSlice is n repetitions not run yet (NaN is left out of a summary).
func nanSlice(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = math.NaN()
	}
	return out
}

// The per-repetition figures of the clients.
const (
	MetricLoss    = "loss_percent"      // udp-probe: probes without a reply, %
	MetricTCPMbit = "echoed_mbit_per_s" // tcp-bulk: echoed rate
	MetricUDPMbit = "received_mbit_per_s"
	// tcp-bulk: segments the sender retransmitted (TCP_INFO)
	MetricRetransmits = "tcp_retransmits"
	// peer-transfer: one file from one node to another, verified
	MetricPeerMbit = "peer_mbit_per_s"
)

// Units of the metrics.
var Units = map[string]string{MetricLoss: "%", MetricTCPMbit: "Mbit/s", MetricUDPMbit: "Mbit/s", MetricRetransmits: "segments", MetricPeerMbit: "Mbit/s"}

// WriteJSON writes r indented.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// MaxResultSize bounds a result.json a reader accepts.
const MaxResultSize = 16 << 20

// ReadFile reads a result.json.
func ReadFile(path string) (*Result, error) {
	var r Result
	if err := ReadJSONFile(path, MaxResultSize, &r); err != nil {
		return nil, err
	}
	if r.Schema != Schema {
		return nil, fmt.Errorf("%s: schema %q, want %q", path, r.Schema, Schema)
	}
	return &r, nil
}

// ReadJSONFile decodes the JSON file at path into v, refusing one larger
// than limit bytes; errors name the file.
func ReadJSONFile(path string, limit int64, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return err
	}
	if int64(len(data)) > limit {
		return fmt.Errorf("%s: larger than %d MiB", path, limit>>20)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
