// Package peerapi is the lab's client of a peer node's admin JSON API
// (the records are services/peer/api's): add a file to a node's share,
// see the swarm, start a download and wait for it. The experiments, the
// soak and the benchmarks drive swarms through it.
package peerapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/netlab/netlab/services/peer/api"
)

// MaxAnswer bounds an answer the client reads.
const MaxAnswer = 4 << 20

// Client talks to one node's admin listener, http://HOST:PORT.
type Client struct {
	Base string
	HTTP *http.Client // nil: a client with a 10 s timeout per request
}

// New is a client of the node whose admin listener is at addr
// (HOST:PORT).
func New(addr string) *Client { return &Client{Base: "http://" + addr} }

var defaultHTTP = &http.Client{Timeout: 10 * time.Second}

// uploadHTTP has no overall timeout: a file's upload takes as long as
// its size needs, bounded by the caller's context.
var uploadHTTP = &http.Client{}

// StatusError is an answer that is not a success.
type StatusError struct {
	Code int
	Msg  string
}

func (e *StatusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Code, e.Msg) }

// do sends a request and decodes a 2xx answer into out (when not nil).
func (c *Client) do(ctx context.Context, method, path string, body io.Reader, size int64, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, body)
	if err != nil {
		return err
	}
	if size >= 0 {
		req.ContentLength = size
	}
	switch method {
	case http.MethodPost:
		req.Header.Set("Content-Type", "application/json")
	case http.MethodPut:
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	hc := c.HTTP
	switch {
	case hc == nil && method == http.MethodPut:
		hc = uploadHTTP
	case hc == nil:
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswer+1))
	if err != nil {
		return err
	}
	if len(data) > MaxAnswer {
		return fmt.Errorf("%s %s: answer larger than %d MiB", method, path, MaxAnswer>>20)
	}
	if resp.StatusCode/100 != 2 {
		var e api.Error
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(data))
		}
		return &StatusError{Code: resp.StatusCode, Msg: e.Error}
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

// Put adds size bytes from body to the node's share as name and offers
// the file to the swarm; ctx bounds how long the upload may take.
func (c *Client) Put(ctx context.Context, name string, body io.Reader, size int64) error {
	return c.do(ctx, http.MethodPut, "/api/files/"+name+"?offer=1", body, size, nil)
}

// Status is the node's summary.
func (c *Client) Status(ctx context.Context) (api.Status, error) {
	var s api.Status
	err := c.do(ctx, http.MethodGet, "/api/status", nil, -1, &s)
	return s, err
}

// Catalog is the node's own files.
func (c *Client) Catalog(ctx context.Context) ([]api.LocalFile, error) {
	var fs []api.LocalFile
	err := c.do(ctx, http.MethodGet, "/api/catalog", nil, -1, &fs)
	return fs, err
}

// Swarm is every file the node can see.
func (c *Client) Swarm(ctx context.Context) ([]api.SwarmFile, error) {
	var fs []api.SwarmFile
	err := c.do(ctx, http.MethodGet, "/api/swarm", nil, -1, &fs)
	return fs, err
}

// Peers is every address the node knows, connected or not.
func (c *Client) Peers(ctx context.Context) ([]api.Peer, error) {
	var ps []api.Peer
	err := c.do(ctx, http.MethodGet, "/api/peers", nil, -1, &ps)
	return ps, err
}

// Connected counts the other nodes the node is connected to now (not
// itself, each node once however many addresses lead to it).
func (c *Client) Connected(ctx context.Context) (int, error) {
	ps, err := c.Peers(ctx)
	if err != nil {
		return 0, err
	}
	ids := map[string]bool{}
	for _, p := range ps {
		if p.Connected && !p.Self && p.NodeID != "" {
			ids[p.NodeID] = true
		}
	}
	return len(ids), nil
}

// Download is one download's progress.
func (c *Client) Download(ctx context.Context, id string) (api.Download, error) {
	var d api.Download
	err := c.do(ctx, http.MethodGet, "/api/downloads/"+id, nil, -1, &d)
	return d, err
}

// StartWhenSeen asks the node to download ref, asking again every poll
// while the node has not heard of it yet (404).
func (c *Client) StartWhenSeen(ctx context.Context, ref string, poll time.Duration) (api.Download, error) {
	for {
		d, err := c.Start(ctx, ref)
		if !IsNotFound(err) {
			return d, err
		}
		if err := sleep(ctx, poll); err != nil {
			return d, fmt.Errorf("%s: %s never appeared in the swarm: %w", c.Base, ref, err)
		}
	}
}

// Start asks the node to download ref (a file id or name).
func (c *Client) Start(ctx context.Context, ref string) (api.Download, error) {
	body, err := json.Marshal(api.DownloadRequest{Ref: ref})
	if err != nil {
		return api.Download{}, err
	}
	var d api.Download
	err = c.do(ctx, http.MethodPost, "/api/downloads", bytes.NewReader(body), int64(len(body)), &d)
	return d, err
}

// WaitSwarm waits until the node sees name in the swarm held by at least
// holders connected peers, polling every poll.
func (c *Client) WaitSwarm(ctx context.Context, name string, holders int, poll time.Duration) (api.SwarmFile, error) {
	for {
		fs, err := c.Swarm(ctx)
		if err == nil {
			for _, f := range fs {
				if f.Name == name && len(f.Holders) >= holders {
					return f, nil
				}
			}
		}
		if err := sleep(ctx, poll); err != nil {
			return api.SwarmFile{}, fmt.Errorf("%s: %s not in the swarm with %d holders: %w", c.Base, name, holders, err)
		}
	}
}

// Wait polls download id every poll until it is complete; a failed
// download, or one not complete when ctx ends, is an error saying how
// far it got. A poll that fails is tried again at the next one (the
// node may sit behind an impaired link); the last failure is in the
// error when ctx ends.
func (c *Client) Wait(ctx context.Context, id string, poll time.Duration) (api.Download, error) {
	var last api.Download
	var lastErr error
	for {
		d, err := c.Download(ctx, id)
		switch {
		case err != nil:
			lastErr = err
		case d.State == api.StateComplete:
			return d, nil
		case d.State == api.StateFailed:
			return d, fmt.Errorf("download %s failed: %s", id, d.Error)
		default:
			last, lastErr = d, nil
		}
		if err := sleep(ctx, poll); err != nil {
			if lastErr != nil {
				err = fmt.Errorf("%w (last poll: %v)", err, lastErr)
			}
			return last, fmt.Errorf("download %s: %s, %d of %d bytes (%s): %w", id, last.State, last.Bytes, last.Size, last.Stalled, err)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// IsNotFound says whether err is a 404 answer (a name not in the swarm).
func IsNotFound(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == http.StatusNotFound
}
