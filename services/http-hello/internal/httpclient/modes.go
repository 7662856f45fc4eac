package httpclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// The modes of http-client: each runs, prints its result and returns the
// exit code.

// runOne sends one request: status line, body, timings.
func runOne(ctx context.Context, inv *invocation) int {
	c, err := New(inv.cfg)
	if err != nil {
		return inv.UsageError(err.Error())
	}
	defer c.Close()
	var (
		buf     bytes.Buffer
		printed bool
		last    = lastByte{w: inv.Stdout}
	)
	onHead := func(r Response) io.Writer {
		if inv.JSON {
			return &buf
		}
		fmt.Fprintln(inv.Stdout, r.StatusLine())
		printed = true
		return &last
	}
	res, err := c.Do(ctx, onHead)
	var se *StatusError
	if err != nil && !errors.As(err, &se) {
		if printed {
			last.endLine()
		}
		return inv.Fail(err)
	}
	_ = inv.Print(oneResult{res, c, buf.Bytes(), err, &last})
	if err != nil {
		return inv.Fail(err)
	}
	return 0
}

// oneResult is what runOne prints: the response after its status line and
// body, or the whole response as JSON.
type oneResult struct {
	res  Response
	c    *Client
	body []byte
	err  error // a *StatusError, or nil
	last *lastByte
}

func (o oneResult) WriteText(w io.Writer) error {
	o.last.endLine()
	if o.res.Truncated {
		fmt.Fprintf(w, "[body truncated after %d bytes; see --max-body]\n", o.res.Bytes)
	}
	_, err := fmt.Fprintln(w, o.res.Timings)
	return err
}

func (o oneResult) WriteJSON(w io.Writer) error {
	return o.res.WriteJSON(w, o.c.Method(), o.c.URL(), o.body, o.err)
}

// lastByte passes writes on and remembers the last byte written, so that
// the timing line starts on a line of its own.
type lastByte struct {
	w io.Writer
	n int64
	b byte
}

func (l *lastByte) Write(p []byte) (int, error) {
	n, err := l.w.Write(p)
	if n > 0 {
		l.n += int64(n)
		l.b = p[n-1]
	}
	return n, err
}

// endLine ends a body that did not end with a newline.
func (l *lastByte) endLine() {
	if l.n > 0 && l.b != '\n' {
		fmt.Fprintln(l.w)
		l.b = '\n'
	}
}

// runLoad sends the request --count times and prints the summary.
func runLoad(ctx context.Context, inv *invocation) int {
	c, err := New(inv.cfg)
	if err != nil {
		return inv.UsageError(err.Error())
	}
	defer c.Close()
	if !inv.quiet && !inv.JSON {
		inv.load.OnResult = func(r Result) { fmt.Fprintln(inv.Stdout, r) }
	}
	sum, err := c.Load(ctx, inv.load)
	if code, ok := inv.Summary(sum, err, sum.Interrupted); !ok {
		return code
	}
	switch {
	case sum.Errors > 0:
		return inv.Failf("%d of %d requests failed (%s; last: %v)", sum.Errors, sum.Requests, kinds(sum), sum.LastErr)
	case sum.Requests == 0 && err != nil:
		return inv.Fail(err)
	}
	return 0 // interrupted after some good requests is a success, as with ping
}

func kinds(s Summary) string {
	parts := make([]string, len(s.ErrorKinds))
	for i, k := range s.ErrorKinds {
		parts[i] = fmt.Sprintf("%s %d", k.Kind, k.N)
	}
	return strings.Join(parts, ", ")
}

// runRaw writes the request on a plain TCP connection and prints the bytes
// that come back.
func runRaw(ctx context.Context, inv *invocation) int {
	res, err := Raw(ctx, inv.raw, inv.Stdout)
	if err != nil {
		return inv.Fail(err)
	}
	if res.Truncated {
		inv.Notef("stopped after %d bytes (--max-body + 64KiB); the server had more to send", res.Bytes)
	}
	return 0
}
