// Package peerctl is the command line of a peer node: it drives a node
// through its JSON API on the admin listener (ls, get, status, peers, and
// the tutorial's send / receive).
package peerctl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/netlab/netlab/services/peer/api"
)

// NodeEnv names the variable holding the node's admin address.
const NodeEnv = "PEER_NODE"

// DefaultNode is the admin address of a node running on this host.
const DefaultNode = "127.0.0.1:9090"

// client calls one node's API.
type client struct {
	base string // http://host:port
	http *http.Client
}

// newClient accepts host:port or an http:// URL.
func newClient(node string) (*client, error) {
	if !strings.Contains(node, "://") {
		node = "http://" + node
	}
	u, err := url.Parse(node)
	if err != nil || u.Scheme != "http" || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("invalid node address %q: want host:port or http://host:port", node)
	}
	return &client{base: "http://" + u.Host, http: &http.Client{}}, nil
}

// apiError is an answer other than the one expected.
type apiError struct {
	Status  int
	Message string
}

func (e *apiError) Error() string { return e.Message }

func (c *client) do(ctx context.Context, method, path string, body io.Reader, want int, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("node %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	return decode(resp, want, out)
}

func decode(resp *http.Response, want int, out any) error {
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		var e api.Error
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return &apiError{Status: resp.StatusCode, Message: e.Error}
		}
		return &apiError{Status: resp.StatusCode, Message: notANode(resp, data)}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("bad answer from node: %w", err)
	}
	return nil
}

// maxQuoted bounds how much of an answer that is not the node's JSON
// error goes into the message.
const maxQuoted = 120

// notANode describes an answer without the node's JSON error: whatever
// answered on that address (a proxy, another web server) is named by its
// status and the first line of its body, so the message is never empty
// and never a page of markup.
func notANode(resp *http.Response, body []byte) string {
	msg := fmt.Sprintf("%s answered %s", resp.Request.URL.Redacted(), resp.Status)
	first, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
	if first = strings.TrimSpace(first); first == "" {
		return msg + " with no body (is this a peer node's admin address?)"
	}
	if len(first) > maxQuoted {
		first = first[:maxQuoted] + "…"
	}
	return fmt.Sprintf("%s: %q", msg, first)
}

func (c *client) status(ctx context.Context) (api.Status, error) {
	var s api.Status
	return s, c.do(ctx, http.MethodGet, "/api/status", nil, http.StatusOK, &s)
}

func (c *client) swarm(ctx context.Context) ([]api.SwarmFile, error) {
	var s []api.SwarmFile
	return s, c.do(ctx, http.MethodGet, "/api/swarm", nil, http.StatusOK, &s)
}

func (c *client) peers(ctx context.Context) ([]api.Peer, error) {
	var p []api.Peer
	return p, c.do(ctx, http.MethodGet, "/api/peers", nil, http.StatusOK, &p)
}

func (c *client) downloads(ctx context.Context) ([]api.Download, error) {
	var d []api.Download
	return d, c.do(ctx, http.MethodGet, "/api/downloads", nil, http.StatusOK, &d)
}

func (c *client) startDownload(ctx context.Context, ref string) (api.Download, error) {
	body, _ := json.Marshal(api.DownloadRequest{Ref: ref})
	var d api.Download
	return d, c.do(ctx, http.MethodPost, "/api/downloads", bytes.NewReader(body), http.StatusAccepted, &d)
}

func (c *client) download(ctx context.Context, id string) (api.Download, error) {
	var d api.Download
	return d, c.do(ctx, http.MethodGet, "/api/downloads/"+url.PathEscape(id), nil, http.StatusOK, &d)
}

// putFile uploads the file at path ("-": stdin) into the node's share as
// name.
func (c *client) putFile(ctx context.Context, path string, stdin io.Reader, name string, offer bool) (api.LocalFile, error) {
	var (
		body io.Reader = stdin
		size int64     = -1 // unknown: sent chunked
	)
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return api.LocalFile{}, err
		}
		defer f.Close()
		info, err := f.Stat()
		if err != nil {
			return api.LocalFile{}, err
		}
		if !info.Mode().IsRegular() {
			return api.LocalFile{}, fmt.Errorf("%s is not a regular file", path)
		}
		body, size = f, info.Size()
	}
	u := c.base + "/api/files/" + url.PathEscape(name)
	if offer {
		u += "?offer=1"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u, body)
	if err != nil {
		return api.LocalFile{}, err
	}
	req.ContentLength = size
	resp, err := c.http.Do(req)
	if err != nil {
		return api.LocalFile{}, fmt.Errorf("node %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	var lf api.LocalFile
	return lf, decode(resp, http.StatusCreated, &lf)
}

// fetchFile streams a shared file of the node into w.
func (c *client) fetchFile(ctx context.Context, name string, w io.Writer) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/api/files/"+url.PathEscape(name), nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("node %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, decode(resp, http.StatusOK, nil)
	}
	return io.Copy(w, resp.Body)
}

func isStatus(err error, code int) bool {
	var e *apiError
	return errors.As(err, &e) && e.Status == code
}
