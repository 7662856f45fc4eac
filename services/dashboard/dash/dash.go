// Package dash is netlab's dashboard: it polls the services' admin
// listeners every round, keeps a bounded history, and serves pages that
// draw it live from server-sent events. The dashboard service runs it in
// a container on the stack's network; `netlab dashboard` runs the same
// code on the host.
package dash

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/netlab/netlab/services/dashboard/internal/history"
	"github.com/netlab/netlab/services/dashboard/internal/poller"
	"github.com/netlab/netlab/services/dashboard/internal/view"
	"github.com/netlab/netlab/services/dashboard/internal/web"
	"github.com/netlab/netlab/services/platform/netserve"
)

// Dashboard polls the targets and serves the pages.
type Dashboard struct {
	opts    Options
	log     *zap.Logger
	poller  *poller.Poller
	store   *history.Store
	hub     *web.Hub
	client  *http.Client
	ln      net.Listener
	srv     *http.Server
	round   atomic.Pointer[poller.Round]
	metrics *metrics
}

// New checks opts, listens on opts.Listen and registers the dashboard's
// own metrics with reg. Serve starts polling and answering.
func New(opts Options, log *zap.Logger, reg prometheus.Registerer) (*Dashboard, error) {
	if err := opts.Validate(func(s string) string { return s }); err != nil {
		return nil, err
	}
	targets, _ := poller.ParseTargets(opts.Targets)
	store, err := history.New(history.Limits{Points: opts.Points(), MaxSeries: opts.MaxSeries})
	if err != nil {
		return nil, err
	}
	// Keep-alive connections to every replica: a round is a handful of
	// requests to each, every second.
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: 2, MaxIdleConns: 2 * opts.MaxReplicas, IdleConnTimeout: 30 * time.Second,
		DialContext: (&net.Dialer{Timeout: opts.Timeout}).DialContext, ResponseHeaderTimeout: opts.Timeout,
	}}
	d := &Dashboard{opts: opts, log: log, store: store, client: client}
	d.poller = poller.New(poller.Options{
		Targets: targets, Timeout: opts.Timeout, MaxReplicas: opts.MaxReplicas, MaxBytes: opts.MaxBytes,
		Expiry: opts.Expiry, Resolver: net.DefaultResolver, Client: client, Parallel: 16,
	})
	d.hub = web.NewHub(d, opts.MaxClients)
	if d.metrics, err = newMetrics(reg, d); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	d.ln = ln
	// No write timeout: the event streams stay open.
	d.srv = netserve.HTTPServer(web.New(d.hub, d, log), log, 0)
	return d, nil
}

// Addr is the address the pages are served on.
func (d *Dashboard) Addr() net.Addr { return d.ln.Addr() }

// Serve polls every Interval and answers browsers until ctx is canceled,
// then ends the event streams and drains other requests within
// ShutdownTimeout.
func (d *Dashboard) Serve(ctx context.Context) error {
	streams, endStreams := context.WithCancel(context.WithoutCancel(ctx))
	defer endStreams()
	d.srv.BaseContext = func(net.Listener) context.Context { return streams }
	d.srv.RegisterOnShutdown(endStreams)
	errc := make(chan error, 1)
	go func() { errc <- d.srv.Serve(d.ln) }()
	defer d.client.CloseIdleConnections()

	tick := time.NewTicker(d.opts.Interval)
	defer tick.Stop()
	d.poll(ctx)
	for {
		select {
		case <-tick.C:
			d.poll(ctx)
		case err := <-errc:
			return fmt.Errorf("serve: %w", err)
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.opts.ShutdownTimeout)
			defer cancel()
			if err := d.srv.Shutdown(sctx); err != nil {
				_ = d.srv.Close()
				return fmt.Errorf("shutdown: %w", err)
			}
			return nil
		}
	}
}

// poll runs one round, records it and sends the pages their update.
func (d *Dashboard) poll(ctx context.Context) {
	round := d.poller.Poll(ctx, time.Now())
	if ctx.Err() != nil {
		return
	}
	scrapes := map[string]history.Scrape{}
	for _, svc := range round.Services {
		for _, r := range svc.Replicas {
			scrapes[r.Key] = history.Scrape{Result: r.Metrics}
		}
	}
	d.store.Append(round.Time, scrapes)
	d.round.Store(&round)
	d.metrics.observe(round)
	d.hub.Publish()
}

// Build builds a page's message (web.Source).
func (d *Dashboard) Build(p web.Page, snapshot bool) ([]byte, string, error) {
	round := d.round.Load()
	if round == nil {
		round = &poller.Round{Time: time.Now()}
	}
	var (
		v     any
		shape string
	)
	d.store.Read(func(r history.Reader) {
		in := view.Input{Round: *round, History: r, Interval: d.opts.Interval, Window: d.opts.History, Notes: d.notes(*round)}
		switch p.Kind {
		case "overview":
			v, shape = view.BuildOverview(in, snapshot)
		case "service":
			v, shape = view.BuildService(in, p.Service, p.Replica, snapshot)
		default:
			v = view.BuildSwarm(in, d.opts.MaxFiles)
		}
	})
	data, err := json.Marshal(v)
	return data, shape, err
}

// notes are the limits that are cutting something off now.
func (d *Dashboard) notes(round poller.Round) []string {
	var out []string
	if st := d.store.Stats(); st.Dropped > 0 {
		out = append(out, fmt.Sprintf("%d series not kept: MAX_SERIES (%d) are held", st.Dropped, d.opts.MaxSeries))
	}
	if round.Untracked > 0 {
		out = append(out, fmt.Sprintf("%d replicas not polled: MAX_REPLICAS (%d) are tracked", round.Untracked, d.opts.MaxReplicas))
	}
	return out
}

// maxFetchAnswer bounds a node's answer to a fetch.
const maxFetchAnswer = 64 << 10

// Fetch asks the peer node with replica key node to fetch ref
// (web.Fetcher). Only replicas of the last round are asked: the browser
// names a node, never an address.
func (d *Dashboard) Fetch(ctx context.Context, node, ref string) (int, []byte, error) {
	var addr string
	if round := d.round.Load(); round != nil {
		for _, svc := range round.Services {
			for _, r := range svc.Replicas {
				if r.Key == node && r.Kind == "peer" && r.State != poller.StateDown {
					addr = r.Addr
				}
			}
		}
	}
	if addr == "" {
		d.metrics.fetches.WithLabelValues("404").Inc()
		return http.StatusNotFound, nil, fmt.Errorf("no peer node %q is up", node)
	}
	body, _ := json.Marshal(map[string]string{"ref": ref})
	status, answer, err := d.post(ctx, "http://"+addr+"/api/downloads", body)
	if err != nil {
		d.metrics.fetches.WithLabelValues("502").Inc()
		return http.StatusBadGateway, nil, fmt.Errorf("node %s: %w", node, err)
	}
	d.metrics.fetches.WithLabelValues(strconv.Itoa(status)).Inc()
	return status, answer, nil
}

func (d *Dashboard) post(ctx context.Context, url string, body []byte) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	answer, err := readLimited(resp.Body, maxFetchAnswer)
	if err != nil {
		return 0, nil, err
	}
	if !json.Valid(answer) {
		return 0, nil, errors.New("answer is not JSON")
	}
	return resp.StatusCode, answer, nil
}

// readLimited reads r to the end, failing past limit bytes.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("answer over %d bytes", limit)
	}
	return b, nil
}
