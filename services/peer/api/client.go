package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxAnswer bounds a JSON answer the client reads (a swarm listing of
// many files is the largest).
const MaxAnswer = 16 << 20

// requestTimeout bounds a JSON request when Client.HTTP is nil.
const requestTimeout = 10 * time.Second

// Client calls one node's JSON API on its admin listener. peerctl and
// the lab both drive nodes through it.
type Client struct {
	Base string // http://HOST:PORT
	// HTTP is nil for a client with a 10 s timeout per JSON request and
	// none for a file's upload or copy, which take as long as the file's
	// size needs, bounded by the caller's context.
	HTTP *http.Client
}

// NewClient is a client of the node at node, HOST:PORT or
// http://HOST:PORT.
func NewClient(node string) (*Client, error) {
	if !strings.Contains(node, "://") {
		node = "http://" + node
	}
	u, err := url.Parse(node)
	if err != nil || u.Scheme != "http" || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("invalid node address %q: want host:port or http://host:port", node)
	}
	return &Client{Base: "http://" + u.Host}, nil
}

var (
	jsonHTTP   = &http.Client{Timeout: requestTimeout}
	streamHTTP = &http.Client{}
)

// StatusError is an answer that is not a success. Its message is the
// node's own JSON error, or for anything else that answered (a proxy,
// another web server) the URL, the status and the answer's first line.
type StatusError struct {
	Code int
	Msg  string
}

func (e *StatusError) Error() string { return e.Msg }

// IsNotFound says whether err is a 404 answer (a name not in the swarm,
// an unknown download).
func IsNotFound(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == http.StatusNotFound
}

// send sends a request; the caller closes the body of a 2xx answer, and
// any other answer is a *StatusError.
func (c *Client) send(ctx context.Context, method, path string, body io.Reader, size int64, stream bool) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, body)
	if err != nil {
		return nil, err
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
	case hc == nil && stream:
		hc = streamHTTP
	case hc == nil:
		hc = jsonHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", c.Base, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswer))
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", c.Base, err)
	}
	var e Error
	if json.Unmarshal(data, &e) == nil && e.Error != "" {
		return nil, &StatusError{Code: resp.StatusCode, Msg: e.Error}
	}
	return nil, &StatusError{Code: resp.StatusCode, Msg: notANode(resp, data)}
}

// do sends a request and decodes a 2xx answer into out (when not nil).
func (c *Client) do(ctx context.Context, method, path string, body io.Reader, size int64, out any) error {
	resp, err := c.send(ctx, method, path, body, size, method == http.MethodPut)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswer+1))
	switch {
	case err != nil:
		return fmt.Errorf("node %s: %w", c.Base, err)
	case len(data) > MaxAnswer:
		return fmt.Errorf("%s %s: answer larger than %d MiB", method, path, MaxAnswer>>20)
	case out == nil:
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("bad answer from node %s: %w", c.Base, err)
	}
	return nil
}

// maxQuoted bounds how much of an answer that is not the node's JSON
// error goes into the message.
const maxQuoted = 120

// notANode describes an answer without the node's JSON error by its
// status and the first line of its body, so the message is never empty
// and never a page of markup.
func notANode(resp *http.Response, body []byte) string {
	msg := fmt.Sprintf("%s answered %s", resp.Request.URL.Redacted(), resp.Status)
	first, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
	if first = strings.TrimSpace(first); first == "" {
		return msg + " with no body (is this a peer node's admin address?)"
	}
	if len(first) > maxQuoted {
		n := maxQuoted
		for n > 0 && !utf8.RuneStart(first[n]) { // cut between runes
			n--
		}
		first = first[:n] + "…"
	}
	return fmt.Sprintf("%s: %q", msg, first)
}

// get decodes the answer to GET path into a new T.
func get[T any](ctx context.Context, c *Client, path string) (T, error) {
	var v T
	err := c.do(ctx, http.MethodGet, path, nil, -1, &v)
	return v, err
}

// Status is the node's summary.
func (c *Client) Status(ctx context.Context) (Status, error) {
	return get[Status](ctx, c, "/api/status")
}

// Catalog is the node's own files.
func (c *Client) Catalog(ctx context.Context) ([]LocalFile, error) {
	return get[[]LocalFile](ctx, c, "/api/catalog")
}

// Swarm is every file the node can see.
func (c *Client) Swarm(ctx context.Context) ([]SwarmFile, error) {
	return get[[]SwarmFile](ctx, c, "/api/swarm")
}

// Peers is every address the node knows, connected or not.
func (c *Client) Peers(ctx context.Context) ([]Peer, error) {
	return get[[]Peer](ctx, c, "/api/peers")
}

// Downloads is every download the node knows.
func (c *Client) Downloads(ctx context.Context) ([]Download, error) {
	return get[[]Download](ctx, c, "/api/downloads")
}

// Download is one download's progress.
func (c *Client) Download(ctx context.Context, id string) (Download, error) {
	return get[Download](ctx, c, "/api/downloads/"+url.PathEscape(id))
}

// Start asks the node to download ref (a file id or name).
func (c *Client) Start(ctx context.Context, ref string) (Download, error) {
	body, err := json.Marshal(DownloadRequest{Ref: ref})
	if err != nil {
		return Download{}, err
	}
	var d Download
	err = c.do(ctx, http.MethodPost, "/api/downloads", bytes.NewReader(body), int64(len(body)), &d)
	return d, err
}

// Put adds size bytes from body (size -1: unknown, sent chunked) to the
// node's share as name and offers the file to the swarm.
func (c *Client) Put(ctx context.Context, name string, body io.Reader, size int64) (LocalFile, error) {
	var lf LocalFile
	err := c.do(ctx, http.MethodPut, "/api/files/"+url.PathEscape(name)+"?offer=1", body, size, &lf)
	return lf, err
}

// File copies the node's shared file name into w.
func (c *Client) File(ctx context.Context, name string, w io.Writer) (int64, error) {
	resp, err := c.send(ctx, http.MethodGet, "/api/files/"+url.PathEscape(name), nil, -1, true)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return io.Copy(w, resp.Body)
}
