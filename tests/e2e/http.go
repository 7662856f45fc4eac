package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// HTTPResponse is a response read to the end.
type HTTPResponse struct {
	Code   int
	Header http.Header
	Body   []byte
}

// HTTPGet returns the status code and body of GET url, within 5 seconds.
func HTTPGet(ctx context.Context, url string) (int, string, error) {
	resp, err := httpSend(ctx, http.DefaultClient, http.MethodGet, url, 5*time.Second)
	return resp.Code, string(resp.Body), err
}

// HTTPDo sends one request with a client of its own (no pooled connections
// shared between tests) and reads the whole response within timeout.
func HTTPDo(ctx context.Context, method, url string, timeout time.Duration) (HTTPResponse, error) {
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	defer c.CloseIdleConnections()
	return httpSend(ctx, c, method, url, timeout)
}

// httpSend sends one request with c and reads the whole response within
// timeout; when the body breaks off, it returns what came with the error.
func httpSend(ctx context.Context, c *http.Client, method, url string, timeout time.Duration) (HTTPResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return HTTPResponse{}, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return HTTPResponse{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	r := HTTPResponse{Code: resp.StatusCode, Header: resp.Header, Body: body}
	if err != nil {
		return r, fmt.Errorf("%s %s: read body: %w", method, url, err)
	}
	return r, nil
}

// RawHTTP writes req on a new connection to addr (while reading, so a
// server that answers before reading everything does not deadlock the
// test) and returns the response, with its body read.
func RawHTTP(t testing.TB, addr string, req []byte) *http.Response {
	t.Helper()
	conn := Dial(t, addr)
	_ = conn.SetDeadline(time.Now().Add(IOTimeout))
	go func() { _, _ = conn.Write(req) }() // the server may close before reading it all
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp
}
