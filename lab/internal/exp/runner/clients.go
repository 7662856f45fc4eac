package runner

import (
	"context"
	"io"
	"math/rand/v2"
	"time"

	"github.com/netlab/netlab/lab/internal/exp/result"
	"github.com/netlab/netlab/lab/internal/exp/spec"
	"github.com/netlab/netlab/lab/internal/shape"
	"github.com/netlab/netlab/lab/internal/stack"
	"github.com/netlab/netlab/services/platform/clientcli"
)

// A Client runs one workload of a spec at one point and repetition, and
// returns its figures. spec.Clients holds how its fields are checked.
type Client interface {
	Run(ctx context.Context, e *Env, w spec.Workload) ([]Figure, error)
}

// Clients are the workload clients, by the name a spec gives.
var Clients = map[string]Client{
	spec.UDPProbe:      savedRunClient{},
	spec.TCPBulk:       savedRunClient{},
	spec.UDPBitrate:    savedRunClient{},
	spec.PeerTransfer:  peerTransfer{},
	spec.LatencyMatrix: matrixClient{},
	spec.HTTPPage:      pageClient{},

	spec.PartitionHeal: partitionClient{},
	spec.KuroseRoss:    kuroseClient{},
}

// A Finisher is a client whose theory needs what the whole sweep
// measured (a baseline taken at another point): Finish sets its
// measures' theory and band once every point has run, before the result
// is analyzed.
type Finisher interface {
	Finish(s *spec.Spec, res *result.Result, rows []result.Row) error
}

// Env is what a client may use at one point of one repetition: the
// stack, its network and containers, the shaper, the run's random
// source and clock, and the series.
type Env struct {
	Spec     *spec.Spec
	Project  *Project
	Docker   shape.Docker
	Network  string            // the project's network, for containers of the client's own
	Stack    []stack.Container // the project's containers
	Admin    map[string]string // host address of each container's admin listener, by ID
	Shaper   shape.Runner      // shapes, partitions and heals the project's containers
	Rand     *rand.Rand        // seeded: the run's random choices
	Progress io.Writer

	Point, Rep int
	Value      float64 // the swept parameter's value at this point
	t0         time.Time
	run        *run
}

// Since is the time since the run began, in seconds: the series' clock.
func (e *Env) Since() float64 { return time.Since(e.t0).Seconds() }

// Image is the image of a compose service of the project.
func (e *Env) Image(service string) string {
	return e.Project.Prefix + "/" + service + ":" + e.Project.Tag
}

// RunClient runs inv in a container of its own on the project's network
// (removed at the end, and by teardown) and returns its saved run.
func (e *Env) RunClient(ctx context.Context, inv Invocation) (clientcli.Record, error) {
	return RunClient(ctx, e.Project.Name, e.Image(inv.Service), e.Network, inv)
}

// Add adds rows to the series (their point, value and repetition are set
// here).
func (e *Env) Add(rows ...result.Row) {
	for i := range rows {
		rows[i].Point, rows[i].Value, rows[i].Rep = e.Point, e.Value, e.Rep
	}
	e.run.mu.Lock()
	e.run.rows = append(e.run.rows, rows...)
	e.run.mu.Unlock()
}

// RecordRun adds a saved run's intervals to the series under the
// workload's name, placed on the series' clock from began (Since when
// the client started).
func (e *Env) RecordRun(workload string, began float64, rec clientcli.Record) {
	src := "workload:" + workload
	var rows []result.Row
	for _, iv := range rec.Intervals {
		t := began + iv.EndSeconds
		add := func(metric string, x float64) {
			rows = append(rows, result.Row{Source: src, T: t, Metric: metric, V: x})
		}
		add("ops_per_second", iv.OpsPerSecond)
		add("bits_per_second", iv.BitsPerSecond)
		add("lost", float64(iv.Lost))
		add("errors", float64(iv.Errors))
		add("latency_p50_ns", float64(iv.Latency.P50Ns))
		add("latency_p99_ns", float64(iv.Latency.P99Ns))
		if iv.TCP != nil {
			add("tcp_retransmits", float64(iv.TCP.Retransmits))
		}
	}
	e.Add(rows...)
}

// RecordShapes adds what carried a client's own shapes (Shaper.Shape's
// results) to the result's mechanisms, as the runner records the spec's
// impairment.
func (e *Env) RecordShapes(results []shape.Result) { e.run.record(results) }

// savedRunClient is a project client run once in a container with
// --save -: udp-probe, tcp-bulk, udp-bitrate.
type savedRunClient struct{}

func (savedRunClient) Run(ctx context.Context, e *Env, w spec.Workload) ([]Figure, error) {
	inv := Invoke(e.Spec, w, e.Value, e.Spec.Interval.D())
	began := e.Since()
	rec, err := e.RunClient(ctx, inv)
	if err != nil {
		return nil, err
	}
	f, err := Measure(w, rec)
	if err != nil {
		return nil, err
	}
	e.RecordRun(w.Name, began, rec)
	figs := []Figure{f}
	// A bulk transfer's retransmissions are a figure of their own: what
	// the loss or the cap cost TCP.
	if n, ok := f.Extra["tcp_retransmits"]; ok && w.Client == spec.TCPBulk {
		figs = append(figs, Figure{Figure: result.Figure{Metric: result.MetricRetransmits, Value: n}})
		delete(figs[0].Extra, "tcp_retransmits") // one summary row of it
	}
	return figs, nil
}
