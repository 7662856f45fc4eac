// Command http-client talks to an http-hello server (or any HTTP server): by
// default it GETs a URL and prints the status, the body and a timing
// breakdown; --count runs many requests with --concurrency and summarises
// them; --raw writes an HTTP/1.1 request on a plain TCP socket and prints the
// bytes that come back — what the tutorial's socket client meant to do.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/netlab/netlab/services/http-hello/internal/httpclient"

	"github.com/netlab/netlab/services/platform/clientcli"
)

const prog = "http-client"

const usage = `Usage: http-client [flags] [URL]

Sends HTTP requests and shows what came back. With no flags it GETs the URL
and prints the status line, the body and a timing breakdown:
  HTTP/1.1 200 OK
  Hello, World!
  dns - connect 0.2ms tls - first-byte 1.1ms total 1.3ms
(- for a step that did not happen: no DNS lookup for an IP address, no TLS
for http://). A URL without a scheme gets http://.

Flags:
  --url URL          the URL (or as the argument; default $HTTP_HELLO_URL,
                     else http://127.0.0.1:8000/)
  --method M         request method (default GET, or POST with --data)
  --header 'K: V'    add a request header (repeatable; Host sets the host)
  --data TEXT        send TEXT as the request body
  --timeout D        limit for each request, from dial to the end of the
                     body (default 10s)
  --expect CODE      the status that counts as success (default 200)
  --max-body SIZE    read at most SIZE body bytes per response (default 1MiB,
                     at most 1GiB; e.g. 65536, 64KiB); the rest is cut off
  --http1            speak HTTP/1.1 only (also over TLS)
  --h2c              speak cleartext HTTP/2 with prior knowledge (http:// only)
  --insecure         do not verify TLS certificates
  --json             print the result as one JSON object

Load mode:
  --count N          send N requests (1..10000000), print one line per request
                     and a summary: status codes, errors by kind, new and
                     reused connections, total and first-byte latency
                     min/avg/p50/p90/p99/max, requests/s
  --concurrency C    requests in flight at once (1..10000, default 1)
  --rate R           requests per second over all workers (default 0: as fast
                     as the workers go)
  --quiet            print only the summary

Raw mode:
  --raw              open a TCP connection to the URL's host:port, write
                       GET <path> HTTP/1.1
                       Host: <host>
                       User-Agent: netlab-http-client
                       Connection: close
                     (with --method, --header and --data as given) and print
                     exactly the bytes that come back, until the server closes
                     the connection, --timeout runs out or --max-body + 64KiB
                     bytes were read. http:// URLs only.

  -h, --help         show this help

Ctrl-C in load mode stops, waits for nothing and prints the summary so far; a
second Ctrl-C quits at once.

Exit status: 0 success; 1 failure (cannot reach the server, timeout, a status
other than --expect; with --count: any failed request); 2 usage error.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop) // a second signal kills at once
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// headerFlag collects repeated --header flags.
type headerFlag struct{ h http.Header }

func (f *headerFlag) String() string { return "" }

func (f *headerFlag) Set(s string) error {
	k, v, err := httpclient.ParseHeader(s)
	if err != nil {
		return err
	}
	f.h.Add(k, v)
	return nil
}

// loadFlags are the flags that only mean something with --count; rawConflicts
// those that mean nothing with --raw.
var (
	loadFlags    = []string{"concurrency", "rate", "quiet"}
	rawConflicts = []string{"count", "json", "h2c", "http1", "insecure", "expect"}
)

// run is the whole program; it returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(prog, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	headers := &headerFlag{h: http.Header{}}
	fs.Var(headers, "header", "")
	var (
		rawURL      = fs.String("url", "", "")
		method      = fs.String("method", "", "")
		data        = fs.String("data", "", "")
		timeout     = fs.Duration("timeout", httpclient.DefaultTimeout, "")
		expect      = fs.Int("expect", httpclient.DefaultExpect, "")
		maxBodyText = fs.String("max-body", "1MiB", "")
		http1       = fs.Bool("http1", false, "")
		h2c         = fs.Bool("h2c", false, "")
		insecure    = fs.Bool("insecure", false, "")
		asJSON      = fs.Bool("json", false, "")
		count       = fs.Int("count", 0, "")
		concurrency = fs.Int("concurrency", 1, "")
		rate        = fs.Float64("rate", 0, "")
		quiet       = fs.Bool("quiet", false, "")
		raw         = fs.Bool("raw", false, "")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return 0
		}
		return usageError(stderr, err.Error())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	// The URL: the argument or --url, else the environment, else the default.
	target, from := *rawURL, "--url"
	switch {
	case fs.NArg() > 1:
		return usageError(stderr, fmt.Sprintf("unexpected argument %q", fs.Arg(1)))
	case fs.NArg() == 1 && set["url"]:
		return usageError(stderr, "give the URL as an argument or with --url, not both")
	case fs.NArg() == 1:
		target, from = fs.Arg(0), "the argument"
	case !set["url"]:
		if target = getenv(httpclient.URLEnv); target != "" {
			from = httpclient.URLEnv
		} else {
			target, from = httpclient.DefaultURL, "the default"
		}
	}
	u, err := httpclient.ParseURL(target)
	if err != nil {
		return usageError(stderr, fmt.Sprintf("%v (from %s)", err, from))
	}

	maxBody, err := httpclient.ParseSize(*maxBodyText)
	if err != nil {
		return usageError(stderr, "--max-body: "+err.Error())
	}
	var body []byte
	if set["data"] {
		body = []byte(*data)
		if !set["method"] {
			*method = http.MethodPost
		}
	}
	switch {
	case set["method"] && !httpclient.IsToken(*method):
		return usageError(stderr, fmt.Sprintf("invalid --method %q", *method))
	case *timeout <= 0:
		return usageError(stderr, fmt.Sprintf("invalid --timeout %s: must be positive", *timeout))
	case *expect < 100 || *expect > 599:
		return usageError(stderr, fmt.Sprintf("invalid --expect %d: must be between 100 and 599", *expect))
	case maxBody > httpclient.MaxMaxBody:
		return usageError(stderr, fmt.Sprintf("invalid --max-body %s: must be at most 1GiB", *maxBodyText))
	case *http1 && *h2c:
		return usageError(stderr, "--http1 cannot be combined with --h2c")
	case *h2c && u.Scheme != "http":
		return usageError(stderr, "--h2c needs an http:// URL (over TLS, HTTP/2 is negotiated by default)")
	}
	if !set["count"] {
		for _, name := range loadFlags {
			if set[name] {
				return usageError(stderr, fmt.Sprintf("--%s needs --count", name))
			}
		}
	}

	if *raw {
		for _, name := range rawConflicts {
			if set[name] {
				return usageError(stderr, fmt.Sprintf("--raw cannot be combined with --%s", name))
			}
		}
		if u.Scheme != "http" {
			return usageError(stderr, "--raw needs an http:// URL (it speaks plain TCP)")
		}
		return runRaw(ctx, httpclient.RawOptions{
			URL: u, Method: *method, Header: headers.h, Body: body,
			Timeout: *timeout, Max: maxBody + httpclient.RawSlack,
		}, stdout, stderr)
	}

	cfg := httpclient.Config{
		URL: u, Method: *method, Header: headers.h, Body: body, Timeout: *timeout,
		MaxBody: maxBody, Expect: *expect, Insecure: *insecure,
	}
	switch {
	case *http1:
		cfg.Proto = httpclient.ProtoHTTP1
	case *h2c:
		cfg.Proto = httpclient.ProtoH2C
	}
	c, err := httpclient.New(cfg)
	if err != nil {
		return usageError(stderr, err.Error())
	}
	defer c.Close()

	if set["count"] {
		switch {
		case *count < 1 || *count > httpclient.MaxCount:
			return usageError(stderr, fmt.Sprintf("invalid --count %d: must be between 1 and %d", *count, httpclient.MaxCount))
		case *concurrency < 1 || *concurrency > httpclient.MaxConcurrency:
			return usageError(stderr, fmt.Sprintf("invalid --concurrency %d: must be between 1 and %d", *concurrency, httpclient.MaxConcurrency))
		case math.IsNaN(*rate) || *rate < 0 || *rate > httpclient.MaxRate:
			return usageError(stderr, fmt.Sprintf("invalid --rate %g: must be between 0 and %d", *rate, httpclient.MaxRate))
		}
		opts := httpclient.LoadOptions{Count: *count, Concurrency: *concurrency, Rate: *rate}
		if !*quiet && !*asJSON {
			opts.OnResult = func(r httpclient.Result) { fmt.Fprintln(stdout, r) }
		}
		return runLoad(ctx, c, opts, *asJSON, stdout, stderr)
	}
	return runOne(ctx, c, *asJSON, stdout, stderr)
}

// runOne sends one request: status line, body, timings.
func runOne(ctx context.Context, c *httpclient.Client, asJSON bool, stdout, stderr io.Writer) int {
	var (
		buf     bytes.Buffer
		printed bool
		last    lastByte
	)
	onHead := func(r httpclient.Response) io.Writer {
		if asJSON {
			return &buf
		}
		fmt.Fprintln(stdout, r.StatusLine())
		printed = true
		last.w = stdout
		return &last
	}
	res, err := c.Do(ctx, onHead)
	var se *httpclient.StatusError
	if err != nil && !errors.As(err, &se) {
		if printed && last.n > 0 && last.b != '\n' {
			fmt.Fprintln(stdout) // end the partial body
		}
		return failure(stderr, err)
	}
	if asJSON {
		_ = res.WriteJSON(stdout, c.Method(), c.URL(), buf.Bytes(), err)
	} else {
		if last.n > 0 && last.b != '\n' {
			fmt.Fprintln(stdout)
		}
		if res.Truncated {
			fmt.Fprintf(stdout, "[body truncated after %d bytes; see --max-body]\n", res.Bytes)
		}
		fmt.Fprintln(stdout, res.Timings)
	}
	if err != nil {
		return failure(stderr, err)
	}
	return 0
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

func runLoad(ctx context.Context, c *httpclient.Client, opts httpclient.LoadOptions, asJSON bool, stdout, stderr io.Writer) int {
	sum, err := c.Load(ctx, opts)
	if err != nil && !sum.Interrupted {
		return failure(stderr, err)
	}
	if asJSON {
		_ = sum.WriteJSON(stdout)
	} else {
		_ = sum.WriteText(stdout)
	}
	switch {
	case sum.Errors > 0:
		fmt.Fprintf(stderr, "%s: %d of %d requests failed (%s; last: %v)\n", prog, sum.Errors, sum.Requests, kinds(sum), sum.LastErr)
		return 1
	case sum.Requests == 0 && err != nil:
		return failure(stderr, err)
	}
	return 0 // interrupted after some good requests is a success, as with ping
}

func kinds(s httpclient.Summary) string {
	parts := make([]string, len(s.ErrorKinds))
	for i, k := range s.ErrorKinds {
		parts[i] = fmt.Sprintf("%s %d", k.Kind, k.N)
	}
	return strings.Join(parts, ", ")
}

func runRaw(ctx context.Context, opts httpclient.RawOptions, stdout, stderr io.Writer) int {
	res, err := httpclient.Raw(ctx, opts, stdout)
	if err != nil {
		return failure(stderr, err)
	}
	if res.Truncated {
		fmt.Fprintf(stderr, "%s: stopped after %d bytes (--max-body + 64KiB); the server had more to send\n", prog, res.Bytes)
	}
	return 0
}

func failure(stderr io.Writer, err error) int { return clientcli.Failure(stderr, prog, err) }

func usageError(stderr io.Writer, msg string) int { return clientcli.UsageError(stderr, prog, msg) }
