package runner

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/netlab/netlab/lab/internal/exp/filedist"
	"github.com/netlab/netlab/lab/internal/exp/result"
	"github.com/netlab/netlab/lab/internal/exp/spec"
	"github.com/netlab/netlab/lab/internal/prom"
	"github.com/netlab/netlab/services/peer/api"
)

// krOutcome is what the nodes' downloads gave, in seconds from the
// start signal.
type krOutcome struct {
	done, started, first []float64
	poll                 float64
}

// pollEvery is how often progress is polled: a twentieth of the bound,
// from 0.1 to 1 s, so that polling costs the nodes little CPU. The
// completion times are the nodes' own, not the polls'.
func (d *distribution) pollEvery() time.Duration {
	return min(max(time.Duration(d.bound/20*float64(time.Second)), 100*time.Millisecond), time.Second)
}

// silentFor is how long no node may answer a poll before the
// distribution is given up.
const silentFor = 15 * time.Second

// wait polls every node's download until all are complete, adding each
// node's bytes to the series.
func (d *distribution) wait(ctx context.Context, t0 time.Time) (krOutcome, error) {
	wctx, cancel := context.WithDeadline(ctx, t0.Add(time.Duration(d.w.Seconds*float64(time.Second))))
	defer cancel()
	poll := d.pollEvery()
	o := krOutcome{poll: poll.Seconds()}
	done := map[string]api.Download{}
	first := map[string]float64{}
	var mu sync.Mutex
	answered := time.Now()
	for len(done) < len(d.nodes) {
		err := eachNode(d.nodes, func(nd *krNode) error {
			mu.Lock()
			_, over := done[nd.label]
			mu.Unlock()
			if over {
				return nil
			}
			dl, err := nd.api.Download(wctx, nd.dl)
			if err != nil {
				return nil // a poll that failed is tried again
			}
			mu.Lock()
			answered = time.Now()
			mu.Unlock()
			now := time.Since(t0).Seconds()
			d.e.Add(result.Row{Source: "workload:" + d.w.Name + "/" + nd.label, T: d.e.Since(), Metric: "bytes", V: float64(dl.Bytes)})
			mu.Lock()
			defer mu.Unlock()
			if _, ok := first[nd.label]; !ok && dl.Bytes > 0 {
				first[nd.label] = now
			}
			switch dl.State {
			case api.StateFailed:
				return fmt.Errorf("the download failed: %s", dl.Error)
			case api.StateComplete:
				done[nd.label] = dl
			}
			return nil
		})
		if err != nil {
			return o, err
		}
		if len(done) == len(d.nodes) {
			break
		}
		// Every node gone silent is the machine's trouble (its network
		// reconfigured under the run), not a slow distribution.
		if time.Since(answered) > silentFor {
			return o, fmt.Errorf("no node answered its API for %v (%d of %d copies complete)", silentFor, len(done), len(d.nodes))
		}
		if err := sleep(wctx, poll); err != nil {
			return o, fmt.Errorf("%d of %d copies complete %gs after the signal: %w", len(done), len(d.nodes), d.w.Seconds, err)
		}
	}
	for _, nd := range d.nodes {
		dl := done[nd.label]
		o.done = append(o.done, dl.Finished.Sub(t0).Seconds())
		o.started = append(o.started, dl.Started.Sub(t0).Seconds())
		f, ok := first[nd.label]
		if !ok { // complete at its first poll
			f = o.done[len(o.done)-1]
		}
		o.first = append(o.first, f)
	}
	return o, nil
}

// krSnapshot is what every node (and the server) uploaded so far, and
// the CPU seconds they used.
type krSnapshot struct {
	server, peers, cpu float64
}

// snapshot reads the server's and every node's status and /metrics.
func (d *distribution) snapshot(ctx context.Context) (krSnapshot, error) {
	var s krSnapshot
	var mu sync.Mutex
	read := func(c *api.Client, server bool) error {
		st, err := c.Status(ctx)
		if err != nil {
			return err
		}
		m, err := prom.Scrape(ctx, c.Base+"/metrics")
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		if server {
			s.server += float64(st.BytesUploaded)
		} else {
			s.peers += float64(st.BytesUploaded)
		}
		s.cpu += m.Sum("process_cpu_seconds_total")
		return nil
	}
	if err := read(d.srv, true); err != nil {
		return s, fmt.Errorf("%s: %w", d.server.Label(), err)
	}
	return s, eachNode(d.nodes, func(nd *krNode) error { return read(nd.api, false) })
}

// verify reads every node's copy back and compares it with the file.
func (d *distribution) verify(ctx context.Context) error {
	want, err := seededSum(d.seed, d.w.Bytes)
	if err != nil {
		return err
	}
	return eachNode(d.nodes, func(nd *krNode) error {
		sum, n, err := fileSum(ctx, nd.api.Base, d.name)
		if err != nil || n != d.w.Bytes || sum != want {
			return fmt.Errorf("the copy read back does not match (%d bytes, %v)", n, err)
		}
		return nil
	})
}

// cpus is how many CPUs the Docker host has: the nodes share them.
func (d *distribution) cpus(ctx context.Context) float64 {
	out, err := d.e.Docker.Run(ctx, "info", "--format", "{{.NCPU}}")
	n, perr := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil || perr != nil || n < 1 {
		return math.NaN()
	}
	return float64(n)
}

// figures are the last and the median node's times (the last against
// the arm's bound, within its tolerance) and what the diagnosis reads.
func (d *distribution) figures(ctx context.Context, o krOutcome, before, after krSnapshot, formed float64) []Figure {
	last, med := maxOf(o.done), median(o.done)
	bound := d.bound
	lo, hi := bound*(1-filedist.Tolerance), bound*(1+filedist.Tolerance)
	st, _ := spec.PeerSettingsOf(d.e.Spec)
	us, u := float64(st.UploadRate), float64(d.w.PeerRate)
	obs := filedist.Obs{Arm: d.w.Arm, Last: last, Bound: bound, StartSkew: maxOf(o.started), FirstBytes: maxOf(o.first),
		ServerUtil: (after.server - before.server) / (us * last),
		AllUtil:    (after.server - before.server + after.peers - before.peers) / ((us + float64(d.n)*u) * last),
		CPUBusy:    (after.cpu - before.cpu) / (d.cpus(ctx) * last),
		Poll:       o.poll, Term: d.term,
		Overhead: (after.server-before.server+after.peers-before.peers)/(float64(d.n)*float64(d.w.Bytes)) - 1}
	extra := map[string]float64{filedist.Bound: bound, filedist.Nodes: float64(d.n), filedist.Form: formed,
		filedist.StartSkew: obs.StartSkew, filedist.FirstBytes: obs.FirstBytes, filedist.ServerUtil: obs.ServerUtil,
		filedist.AllUtil: obs.AllUtil, filedist.CPUBusy: obs.CPUBusy, filedist.Overhead: obs.Overhead, filedist.Poll: o.poll}
	d.say("last %.2fs, median %.2fs, bound %.2fs (ratio %.3f): %s", last, med, bound, last/bound, filedist.Diagnose(obs))
	label := "D_cs = max(NF/us, F/dmin)"
	if d.w.Arm == spec.ArmPeerToPeer {
		label = "D_P2P ≥ max(F/us, F/dmin, NF/(us + Σui))"
	}
	return []Figure{
		{Figure: result.Figure{Metric: filedist.MetricLast, Unit: "s", Value: last, Samples: d.n,
			Theory: &bound, TheoryLabel: label, BandLow: &lo, BandHigh: &hi}, Extra: extra},
		{Figure: result.Figure{Metric: filedist.MetricMedian, Unit: "s", Value: med, Samples: d.n}},
	}
}

func maxOf(xs []float64) float64 {
	m := math.Inf(-1)
	for _, x := range xs {
		m = math.Max(m, x)
	}
	return m
}
