package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/netlab/netlab/lab/internal/exp/pagetime"
	"github.com/netlab/netlab/lab/internal/exp/result"
	"github.com/netlab/netlab/lab/internal/exp/spec"
	"github.com/netlab/netlab/lab/internal/exp/stats"
	"github.com/netlab/netlab/lab/internal/stack"
	"github.com/netlab/netlab/services/platform/clientcli"
)

// pageClient is http-client --pages against http-hello: a repetition is
// the workload's Count pages of Objects objects, fetched the
// Connection way; its figure is the median page time. Its theory needs
// the base RTT measured at delay 0, so Finish sets it after the sweep.
type pageClient struct{}

func (pageClient) Run(ctx context.Context, e *Env, w spec.Workload) ([]Figure, error) {
	ip, err := serviceIP(e.Stack, "http-hello", e.Network)
	if err != nil {
		return nil, err
	}
	began := e.Since()
	rec, err := e.RunClient(ctx, PageInvocation(w, ip, e.Spec.Interval.D()))
	if err != nil {
		return nil, err
	}
	f, pages, err := MeasurePage(w, rec)
	if err != nil {
		return nil, err
	}
	e.RecordRun(w.Name, began, rec)
	// Each page's time, for the report's medians over every page.
	rows := make([]result.Row, len(pages))
	t := began
	for i, ms := range pages {
		t += ms / 1e3
		rows[i] = result.Row{Source: "workload:" + w.Name, T: t, Metric: pagetime.MetricPage, V: ms}
	}
	e.Add(rows...)
	return []Figure{f}, nil
}

// serviceIP is the address of a service's first container on network.
// The client dials it, not the name: a name would cost every new
// connection a lookup at Docker's resolver, a round trip the page's
// count does not have (a browser has the name cached).
func serviceIP(cs []stack.Container, service, network string) (string, error) {
	for _, c := range cs {
		if c.Service == service && c.Number == 1 && c.IPs[network] != "" {
			return c.IPs[network], nil
		}
	}
	return "", fmt.Errorf("no %s container with an address on %s", service, network)
}

// PageInvocation is http-client fetching w's pages from the server at ip.
func PageInvocation(w spec.Workload, ip string, interval time.Duration) Invocation {
	url := "http://" + ip + ":8000/"
	if w.ObjectBytes > 0 {
		url += "bytes/" + strconv.Itoa(w.ObjectBytes)
	}
	k := strconv.Itoa(w.Objects)
	args := []string{url, "--count", k, "--pages", strconv.Itoa(w.Count)}
	switch w.Connection {
	case pagetime.NonPersistent:
		args = append(args, "--http1", "--new-conn")
	case pagetime.Persistent:
		args = append(args, "--http1")
	case pagetime.Multiplexed:
		args = append(args, "--h2c", "--streams", k)
	}
	args = append(args, "--quiet", "--report-interval", interval.String(), "--save", "-", "--label", w.Name)
	return Invocation{Service: "http-hello", Entrypoint: "/http-client", Args: args}
}

// pageRun is the part of http-client's paged summary MeasurePage reads.
type pageRun struct {
	Requests, Errors, Bytes int64
	Connect                 struct {
		N   int64 `json:"n"`
		P50 int64 `json:"p50_ns"`
	}
	Pages []struct {
		DurationNs int64 `json:"duration_ns"`
		Requests   int64 `json:"requests"`
		Errors     int64 `json:"errors"`
		NewConns   int64 `json:"new_conns"`
	}
	LastError string `json:"last_error"`
}

// MeasurePage reads a paged run: its figure (the median page time, with
// the median connect time and the bytes per object as extras) and each
// page's time in ms. A run whose pages did not go as its connection says
// (a failed request, a page on more or fewer connections) is an error:
// its time would not be the count's.
func MeasurePage(w spec.Workload, rec clientcli.Record) (Figure, []float64, error) {
	var r pageRun
	if err := json.Unmarshal(rec.Result, &r); err != nil {
		return Figure{}, nil, err
	}
	switch {
	case r.Errors > 0:
		return Figure{}, nil, fmt.Errorf("http-client: %d of %d requests failed (last: %s)", r.Errors, r.Requests, r.LastError)
	case len(r.Pages) != w.Count:
		return Figure{}, nil, fmt.Errorf("http-client: %d pages, want %d", len(r.Pages), w.Count)
	}
	wantNew := int64(1)
	if w.Connection == pagetime.NonPersistent {
		wantNew = int64(w.Objects)
	}
	ms := make([]float64, len(r.Pages))
	for i, p := range r.Pages {
		if p.Requests != int64(w.Objects) || p.NewConns != wantNew || p.DurationNs <= 0 {
			return Figure{}, nil, fmt.Errorf("http-client page %d: %d requests on %d new connections in %dns; want %d on %d",
				i+1, p.Requests, p.NewConns, p.DurationNs, w.Objects, wantNew)
		}
		ms[i] = float64(p.DurationNs) / 1e6
	}
	if r.Requests == 0 {
		return Figure{}, nil, errors.New("http-client made no request")
	}
	sorted := slices.Sorted(slices.Values(ms))
	f := Figure{Figure: result.Figure{Metric: pagetime.MetricPage, Unit: "ms", Value: stats.Median(ms), Samples: len(ms)},
		Extra: map[string]float64{pagetime.MetricBytes: float64(r.Bytes) / float64(r.Requests),
			"page_min_ms": sorted[0], "page_max_ms": sorted[len(sorted)-1]}}
	if r.Connect.N > 0 {
		f.Extra[pagetime.MetricConnect] = float64(r.Connect.P50) / 1e6
	}
	return f, ms, nil
}

// Finish sets the theory and band of every http-page measure: RTT(d) =
// RTT₀ + ways × d, with RTT₀ the median connect time at delay 0. Without
// one there is no theory, and a note says why.
func (pageClient) Finish(s *spec.Spec, res *result.Result, rows []result.Row) error {
	m, n, ok := PageModel(s, rows)
	if !ok {
		res.Notes = append(res.Notes, "no theory for the pages: no TCP connect time was measured at delay 0, so the base RTT is unknown")
		return nil
	}
	for i := range res.Points {
		p := &res.Points[i]
		for j := range p.Measures {
			me := &p.Measures[j]
			k := slices.IndexFunc(s.Workloads, func(w spec.Workload) bool { return w.Name == me.Workload })
			if me.Client != spec.HTTPPage || me.Metric != pagetime.MetricPage || k < 0 {
				continue
			}
			w := s.Workloads[k]
			th := m.Page(w.Connection, w.Objects, pagetime.ObjectBytes(rows, i, w.Name), p.Value)
			lo, hi := pagetime.Band(th, w.Objects)
			me.Theory, me.TheoryLabel, me.BandLow, me.BandHigh = &th, pagetime.Label(w.Connection, w.Objects), &lo, &hi
		}
	}
	res.Notes = append(res.Notes, fmt.Sprintf("pages: RTT(d) = RTT₀ + %g·d with RTT₀ = %.3f ms, the median TCP connect time at delay 0 over %d runs", m.Ways, m.Base, n))
	return nil
}

// PageModel is the theory's model of a run of s (pagetime.ModelOf).
func PageModel(s *spec.Spec, rows []result.Row) (m pagetime.Model, n int, ok bool) {
	return pagetime.ModelOf(rows, s.WorkloadNames(spec.HTTPPage), s.Impairment.Direction, s.Impairment.RateMbit)
}
