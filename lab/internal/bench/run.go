// Package bench runs netlab's servers and the tools people use instead
// side by side on loopback, with the same load, interleaved per rep, and
// reports medians and same-rep ratios.
package bench

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/netlab/netlab/lab/internal/proc"
)

// Sample is one measurement of one target.
type Sample struct {
	Rate     float64       // throughput, in the workload's unit
	P50, P99 time.Duration // latency, when the workload measures it
	Ops      float64       // operations done (for server CPU per operation)
	CPU      time.Duration // server CPU used during the measurement
	// SendCPU and RecvCPU are, for a transfer between two programs (two
	// peer nodes, two nc), the CPU of each end; CPU is then their sum.
	SendCPU, RecvCPU time.Duration
}

// transferSample is a transfer of bytes in elapsed, with the CPU of its
// sending and receiving ends.
func transferSample(bytes int64, elapsed, send, recv time.Duration) Sample {
	return Sample{Rate: float64(bytes) / 1e6 / elapsed.Seconds(), Ops: float64(bytes) / 1e6,
		CPU: send + recv, SendCPU: send, RecvCPU: recv}
}

// Server is a started target: where the load goes, the CPU it has used,
// and how to stop it. A process of this machine or a container.
type Server struct {
	Addr    string
	Command string // the process name (comm) a profile lists functions under
	CPU     func() (time.Duration, error)
	Stop    func()
}

// procServer is the Server of a started process listening on addr.
func procServer(p *proc.Proc, addr string) *Server {
	return &Server{Addr: addr, Command: p.Command(), CPU: p.CPU, Stop: p.Stop}
}

// Target is a server under test.
type Target struct {
	Name string
	// Route is the HTTP path the load requests of this target (an HTTP
	// workload, whose DriveRoute gets it): each server's cheapest
	// hello-like answer.
	Route string
	Start func(ctx context.Context) (*Server, error)
	// Measure, when set, replaces Start and the workload's Drive: the
	// target runs whole transfers itself (a pipe of nc, two peer nodes)
	// and reports the CPU of both ends, each apart and summed.
	Measure func(ctx context.Context) (Sample, error)
	// Command is the process name (comm) of a Measure target's programs,
	// whose functions a profile lists; Start targets use their own.
	Command string
}

// Metric is what a goal compares between netlab and an anchor.
type Metric string

const (
	// Throughput: netlab's rate over the anchor's must be at least Bound.
	Throughput Metric = "throughput"
	// ServerCPU: netlab's server CPU per operation over the anchor's must
	// be at most Bound.
	ServerCPU Metric = "server CPU/op"
	// TailLatency: netlab's p99 over the anchor's must be at most Bound.
	TailLatency Metric = "p99"
	// BothEndsCPU: for a transfer, the CPU per operation of its sending
	// and receiving ends together over the anchor's must be at most Bound.
	BothEndsCPU Metric = "CPU/op of both ends"
)

// Goal is a ratio the project promises against one anchor.
type Goal struct {
	Anchor string
	Bound  float64
	Metric Metric // Throughput when empty
}

// value is the quantity a metric compares, 0 when not measured.
func (m Metric) value(s Sample) float64 {
	switch m {
	case ServerCPU, BothEndsCPU:
		if s.Ops <= 0 || s.CPU <= 0 {
			return 0
		}
		return float64(s.CPU) / s.Ops
	case TailLatency:
		return float64(s.P99)
	default:
		return s.Rate
	}
}

// atMost is true for metrics where less is better.
func (m Metric) atMost() bool { return m == ServerCPU || m == TailLatency || m == BothEndsCPU }

// Workload is one kind of load, put on every target.
type Workload struct {
	Name      string
	About     string // what the load is, for the report
	Unit      string // of Sample.Rate
	OpUnit    string // what one Sample.Ops is ("op", "MB", "req")
	Reference string // the target the ratio column divides by
	Subject   string // netlab's own target, whose goals are checked
	Goals     []Goal
	Targets   []Target
	Drive     func(ctx context.Context, addr string) (Sample, error)
	// DriveRoute, when set, replaces Drive: it is also given the target's
	// Route (an HTTP workload, whose servers answer on different paths).
	DriveRoute func(ctx context.Context, addr, route string) (Sample, error)
}

// drive puts the workload's load on addr, at route for an HTTP workload.
func (w Workload) drive(ctx context.Context, addr, route string) (Sample, error) {
	if w.DriveRoute != nil {
		return w.DriveRoute(ctx, addr, route)
	}
	return w.Drive(ctx, addr)
}

// route is the Route of the target called name ("" when it has none).
func (w Workload) route(name string) string {
	if i := slices.IndexFunc(w.Targets, func(t Target) bool { return t.Name == name }); i >= 0 {
		return w.Targets[i].Route
	}
	return ""
}

// Row is the result of one target in one workload.
type Row struct {
	Workload string        `json:"workload"`
	Target   string        `json:"target"`
	Route    string        `json:"route,omitempty"` // the HTTP path requested
	Unit     string        `json:"unit"`
	Rate     float64       `json:"rate_median"`
	RateMin  float64       `json:"rate_min"`
	RateMax  float64       `json:"rate_max"`
	P50      time.Duration `json:"p50_ns"`
	P99      time.Duration `json:"p99_ns"`
	CPUPerOp time.Duration `json:"server_cpu_per_op_ns"`
	// SendCPUPerOp and RecvCPUPerOp split CPUPerOp between the ends of a
	// transfer (medians of their own, so they need not add up exactly).
	SendCPUPerOp time.Duration `json:"send_cpu_per_op_ns,omitempty"`
	RecvCPUPerOp time.Duration `json:"receive_cpu_per_op_ns,omitempty"`
	OpUnit       string        `json:"op_unit"`
	Ratio        float64       `json:"ratio_to_reference"`
	Reference    string        `json:"reference"`
	Reps         int           `json:"reps"`
	Errors       []string      `json:"errors,omitempty"`
}

// GoalResult is a goal checked against the same-rep ratios.
type GoalResult struct {
	Workload string  `json:"workload"`
	Subject  string  `json:"subject"`
	Anchor   string  `json:"anchor"`
	Metric   Metric  `json:"metric"`
	AtMost   bool    `json:"at_most"` // the ratio must be ≤ Bound (else ≥)
	Bound    float64 `json:"goal"`
	Ratio    float64 `json:"ratio"` // median of per-rep subject/anchor
	Met      bool    `json:"met"`
	Skipped  string  `json:"skipped,omitempty"`
}

// Result is a whole run.
type Result struct {
	Started  time.Time    `json:"started"`
	Reps     int          `json:"reps"`
	Duration string       `json:"duration_per_measurement"`
	Rows     []Row        `json:"rows"`
	Goals    []GoalResult `json:"goals"`
	Skipped  []string     `json:"skipped"`
	About    []string     `json:"workloads"`
}

// Run measures every workload: it starts each workload's targets, runs
// each once as a warm-up (not counted), then for each rep measures every
// target once, in an order that rotates from rep to rep, so a ratio
// compares measurements minutes apart at most. With a
// profiler, netlab's target and each goal's anchor are then measured once
// more under perf (not counted in the result).
func Run(ctx context.Context, workloads []Workload, reps int, log io.Writer, prof *Profiler) (Result, error) {
	res := Result{Started: time.Now(), Reps: reps}
	for _, w := range workloads {
		res.About = append(res.About, w.Name+": "+w.About)
		ts, skipped := startTargets(ctx, w, log)
		res.Skipped = append(res.Skipped, skipped...)
		warmUp(ctx, w, ts, log)
		samples, errs := measureReps(ctx, w, ts, reps, log)
		if prof != nil {
			profileTargets(ctx, prof, w, ts, log)
		}
		ts.stop()
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		for _, name := range ts.names {
			res.Rows = append(res.Rows, summarize(w, name, samples, errs[name]))
		}
		res.Goals = append(res.Goals, checkGoals(w, samples)...)
	}
	return res, nil
}

// targets are a workload's targets that started: each one's name, and
// its server or, for a target that measures itself, its Measure.
type targets struct {
	names    []string
	servers  []*Server // nil for a self-measuring target
	measures map[string]func(context.Context) (Sample, error)
}

// startTargets starts every target of w, and says which could not start
// and why.
func startTargets(ctx context.Context, w Workload, log io.Writer) (targets, []string) {
	ts := targets{measures: map[string]func(context.Context) (Sample, error){}}
	var skipped []string
	for _, t := range w.Targets {
		var s *Server
		var err error
		switch {
		case t.Route != "" && w.DriveRoute == nil:
			// The table would name a route the load never requested.
			err = fmt.Errorf("route %q, but the workload's load requests no routes", t.Route)
		case t.Measure != nil:
			ts.measures[t.Name] = t.Measure
		default:
			s, err = t.Start(ctx)
		}
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("%s/%s: %v", w.Name, t.Name, err))
			fmt.Fprintf(log, "skip %s/%s: %v\n", w.Name, t.Name, err)
			continue
		}
		ts.names = append(ts.names, t.Name)
		ts.servers = append(ts.servers, s)
	}
	return ts, skipped
}

// measure measures target i once.
func (ts targets) measure(ctx context.Context, w Workload, i int) (Sample, error) {
	return measureOnce(ctx, w, ts.servers[i], w.route(ts.names[i]), ts.measures[ts.names[i]])
}

func (ts targets) stop() {
	for _, s := range ts.servers {
		if s != nil {
			s.Stop()
		}
	}
}

// measureReps measures every target once per rep, starting each rep one
// target further on. A failed measurement counts as a zero sample, and
// its error is kept under the target's name.
func measureReps(ctx context.Context, w Workload, ts targets, reps int, log io.Writer) (map[string][]Sample, map[string][]string) {
	samples := make(map[string][]Sample)
	errs := make(map[string][]string)
	for rep := range reps {
		for k := range ts.names {
			i := (k + rep) % len(ts.names)
			name := ts.names[i]
			s, err := ts.measure(ctx, w, i)
			if err != nil {
				errs[name] = append(errs[name], err.Error())
				fmt.Fprintf(log, "rep %d %s/%s: %v\n", rep+1, w.Name, name, err)
				samples[name] = append(samples[name], Sample{})
				continue
			}
			samples[name] = append(samples[name], s)
			fmt.Fprintf(log, "rep %d %s/%s: %.1f %s p50 %s p99 %s server cpu %s%s\n",
				rep+1, w.Name, name, s.Rate, w.Unit, s.P50, s.P99, s.CPU, sidesLog(s))
		}
	}
	return samples, errs
}

// measureOnce puts the workload's load on a started target once, or runs
// a self-measuring target's transfer.
func measureOnce(ctx context.Context, w Workload, p *Server, route string, measure func(context.Context) (Sample, error)) (Sample, error) {
	if measure != nil {
		return measure(ctx)
	}
	before, _ := p.CPU()
	s, err := w.drive(ctx, p.Addr, route)
	after, _ := p.CPU()
	s.CPU = after - before
	return s, err
}

// warmUp measures every target once, uncounted, before the timed reps:
// the first run of a load pays costs the later ones do not (on a virtual
// machine, memory the guest touches for the first time is backed by the
// host only then: a first 1 GiB write into /dev/shm ran at a quarter of
// the speed of the next), and which target happens to run first must not
// decide a ratio.
func warmUp(ctx context.Context, w Workload, ts targets, log io.Writer) {
	for i, name := range ts.names {
		if _, err := ts.measure(ctx, w, i); err != nil {
			fmt.Fprintf(log, "warm-up %s/%s: %v\n", w.Name, name, err)
			continue
		}
		fmt.Fprintf(log, "warm-up %s/%s: done\n", w.Name, name)
	}
}

// profileTargets measures netlab's target and every goal anchor once more
// under the profiler.
func profileTargets(ctx context.Context, prof *Profiler, w Workload, ts targets, log io.Writer) {
	want := []string{w.Subject}
	for _, g := range w.Goals {
		if !slices.Contains(want, g.Anchor) {
			want = append(want, g.Anchor)
		}
	}
	for _, name := range want {
		i := slices.Index(ts.names, name)
		if i < 0 {
			continue
		}
		comm := ""
		if ts.servers[i] != nil {
			comm = ts.servers[i].Command
		} else if t := slices.IndexFunc(w.Targets, func(t Target) bool { return t.Name == name }); t >= 0 {
			comm = w.Targets[t].Command
		}
		path, err := prof.Record(ctx, w.Name+"-"+name, comm, func() error {
			_, err := ts.measure(ctx, w, i)
			return err
		})
		if err != nil {
			fmt.Fprintf(log, "profile %s/%s: %v\n", w.Name, name, err)
			continue
		}
		fmt.Fprintf(log, "profile %s/%s: %s\n", w.Name, name, path)
	}
}

// sidesLog is the per-end CPU of a transfer sample for the log, or "".
func sidesLog(s Sample) string {
	if s.SendCPU <= 0 && s.RecvCPU <= 0 {
		return ""
	}
	return fmt.Sprintf(" (sender %s, receiver %s)", s.SendCPU, s.RecvCPU)
}

func summarize(w Workload, name string, samples map[string][]Sample, errs []string) Row {
	own := samples[name]
	row := Row{Workload: w.Name, Target: name, Route: w.route(name), Unit: w.Unit, OpUnit: w.OpUnit, Reference: w.Reference, Errors: errs}
	var rates, p50s, p99s, cpus, sends, recvs, ratios []float64
	ref := samples[w.Reference]
	for i, s := range own {
		if s.Rate <= 0 {
			continue
		}
		rates = append(rates, s.Rate)
		p50s = append(p50s, float64(s.P50))
		p99s = append(p99s, float64(s.P99))
		if s.Ops > 0 {
			cpus = append(cpus, float64(s.CPU)/s.Ops)
			if s.SendCPU > 0 || s.RecvCPU > 0 {
				sends = append(sends, float64(s.SendCPU)/s.Ops)
				recvs = append(recvs, float64(s.RecvCPU)/s.Ops)
			}
		}
		if i < len(ref) && ref[i].Rate > 0 {
			ratios = append(ratios, s.Rate/ref[i].Rate)
		}
	}
	row.Reps = len(rates)
	if len(rates) == 0 {
		return row
	}
	row.Rate = median(rates)
	row.RateMin, row.RateMax = slices.Min(rates), slices.Max(rates)
	row.P50, row.P99 = time.Duration(median(p50s)), time.Duration(median(p99s))
	if len(cpus) > 0 {
		row.CPUPerOp = time.Duration(median(cpus))
	}
	if len(sends) > 0 {
		row.SendCPUPerOp, row.RecvCPUPerOp = time.Duration(median(sends)), time.Duration(median(recvs))
	}
	if len(ratios) > 0 {
		row.Ratio = median(ratios)
	}
	return row
}

func checkGoals(w Workload, samples map[string][]Sample) []GoalResult {
	var out []GoalResult
	subj := samples[w.Subject]
	for _, g := range w.Goals {
		m := g.Metric
		if m == "" {
			m = Throughput
		}
		gr := GoalResult{Workload: w.Name, Subject: w.Subject, Anchor: g.Anchor, Metric: m, AtMost: m.atMost(), Bound: g.Bound}
		anchor, ok := samples[g.Anchor]
		if !ok || len(subj) == 0 {
			gr.Skipped = "not measured (not installed or failed to start)"
			out = append(out, gr)
			continue
		}
		var ratios []float64
		for i := range min(len(subj), len(anchor)) {
			// A failed rep (rate 0) has no latency or CPU figure either.
			if subj[i].Rate <= 0 || anchor[i].Rate <= 0 {
				continue
			}
			if a, b := m.value(subj[i]), m.value(anchor[i]); a > 0 && b > 0 {
				ratios = append(ratios, a/b)
			}
		}
		if len(ratios) == 0 {
			gr.Skipped = "no successful rep"
		} else {
			gr.Ratio = median(ratios)
			if gr.AtMost {
				gr.Met = gr.Ratio <= g.Bound
			} else {
				gr.Met = gr.Ratio >= g.Bound
			}
		}
		out = append(out, gr)
	}
	return out
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
