package poller

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/netlab/netlab/services/dashboard/internal/scrape"
	"github.com/netlab/netlab/services/platform/version"
)

// pollReplica reads one replica's admin listener and records what it
// found in r.
func (p *Poller) pollReplica(ctx context.Context, r *Replica, now time.Time) {
	r.Metrics, r.Peer = nil, nil
	base := "http://" + r.Addr
	body, code, err := p.get(ctx, base+"/readyz")
	if err != nil {
		msg := "readyz: " + shortError(err)
		if !r.Resolved {
			msg += " (no longer in DNS)"
		}
		setState(r, StateDown, msg, now)
		return
	}
	r.LastSeen = now
	state, msg := StateUp, ""
	if code != http.StatusOK {
		state, msg = StateNotReady, fmt.Sprintf("readyz: %d %s", code, bytes.TrimSpace(body))
	}
	// The version is read again only when the process is new.
	prevStart := r.Started
	if res, err := p.metrics(ctx, base); err != nil {
		msg = join(msg, "metrics: "+shortError(err))
	} else {
		r.Metrics = res
		r.Kind, r.Started = describe(res)
	}
	if r.Version.Version == "" || !r.Started.Equal(prevStart) {
		var v version.Info
		if err := p.getJSON(ctx, base+"/version", &v); err != nil {
			msg = join(msg, "version: "+shortError(err))
		} else {
			r.Version = v
		}
	}
	if r.Kind == "peer" {
		info, err := p.peerInfo(ctx, base)
		if err != nil {
			msg = join(msg, "api: "+shortError(err))
		}
		r.Peer = info
	}
	setState(r, state, msg, now)
}

// describe reads what a scrape says of the process: the service it is
// (netlab_build_info's service label) and when it started.
func describe(res *scrape.Result) (kind string, started time.Time) {
	for _, s := range res.Samples {
		switch s.Name {
		case "netlab_build_info":
			kind = scrape.Label(s.Labels, "service")
		case "process_start_time_seconds":
			started = time.UnixMilli(int64(s.Value * 1000))
		}
	}
	return kind, started
}

// metrics reads and parses /metrics.
func (p *Poller) metrics(ctx context.Context, base string) (*scrape.Result, error) {
	body, code, err := p.get(ctx, base+"/metrics")
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("status %d", code)
	}
	res, err := scrape.Parse(bytes.NewReader(body), p.opts.MaxBytes)
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// peerInfo reads a peer node's JSON API; what it could read is returned
// with the first error.
func (p *Poller) peerInfo(ctx context.Context, base string) (*PeerInfo, error) {
	info := &PeerInfo{}
	return info, errors.Join(
		p.getJSON(ctx, base+"/api/status", &info.Status),
		p.getJSON(ctx, base+"/api/peers", &info.Peers),
		p.getJSON(ctx, base+"/api/downloads", &info.Downloads),
		p.getJSON(ctx, base+"/api/catalog", &info.Catalog),
	)
}

// get fetches url and reads at most MaxBytes of the answer.
func (p *Poller) get(ctx context.Context, url string) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := p.opts.Client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, p.opts.MaxBytes+1))
	if err != nil {
		return nil, 0, err
	}
	if int64(len(body)) > p.opts.MaxBytes {
		return nil, 0, fmt.Errorf("answer over %d bytes", p.opts.MaxBytes)
	}
	return body, resp.StatusCode, nil
}

// getJSON fetches url and decodes its JSON answer into v.
func (p *Poller) getJSON(ctx context.Context, url string, v any) error {
	body, code, err := p.get(ctx, url)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("%s: status %d", url[len("http://"):], code)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%s: %w", url[len("http://"):], err)
	}
	return nil
}

// shortError drops the request line net/http puts before a transport
// error ("Get \"http://…\": dial tcp …" becomes "dial tcp …").
func shortError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer in time (timeout)"
	}
	return err.Error()
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
