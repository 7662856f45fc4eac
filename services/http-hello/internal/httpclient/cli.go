package httpclient

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"time"

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

Load mode (--count, --duration or both):
  --count N          send N requests (1..10000000), print one line per request
                     and a summary: status codes, errors by kind, new and
                     reused connections, total, first-byte and connect latency
                     min/avg/p50/p90/p99/p99.9/max, a latency histogram,
                     requests/s
  --duration D       send requests for D (1ms..24h); with --count, stop at
                     whichever comes first
  --connections C    connections (1..10000, default 1): over HTTP/1.1 each
                     has one request in flight at a time. --concurrency is a
                     deprecated name of it
  --streams S        with --h2c: requests in flight at once on each connection
                     (HTTP/2 streams; 1..1000, default 1; C × S at most 10000)
  --new-conn         a new connection for every request (no keep-alive), so
                     each request shows its connect time
  --pages P          with --count N: P pages (1..10000) of N requests each,
                     one after another, each on new connections (a browser's
                     first visit); the summary adds each page's time, from
                     its first request's start to its last response's end,
                     and its new connections (closed loop, no --duration)
  --rate R           open loop: R requests per second over all workers on a
                     fixed timetable; latency is then measured from each
                     request's scheduled start (corrected for coordinated
                     omission) beside the uncorrected figures, and the summary
                     says whether the rate was kept, how many requests were
                     late or never started (default 0: closed loop, as fast
                     as the workers go)
  --quiet            print only the summary
  --save FILE        save the run (summary, latency histogram, per-second
                     series, schedule) for netlab compare; - writes it to
                     standard output and the report to standard error
  --label TEXT       the run's name in the saved file (default: the command)
  --report-interval D
                     a line every D (10ms..1h) with the requests, latency
                     percentiles and errors of that interval; with --json one
                     JSON object each

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

Flags may come before or after the URL; "--" ends the flags. Ctrl-C in load
mode stops, waits for nothing and prints the summary so far; a second Ctrl-C
quits at once.

Exit status: 0 success; 1 failure (cannot reach the server, timeout, a status
other than --expect; with --count: any failed request); 2 usage error.
`

// headerFlag collects repeated --header flags.
type headerFlag struct{ h http.Header }

func (f *headerFlag) String() string { return "" }

func (f *headerFlag) Set(s string) error {
	k, v, err := ParseHeader(s)
	if err != nil {
		return err
	}
	f.h.Add(k, v)
	return nil
}

// cliFlags are the flags as declared, before they are checked.
type cliFlags struct {
	*clientcli.Flags
	headers                       *headerFlag
	url, method, data, maxBody    *string
	timeout                       *time.Duration
	report                        *clientcli.ReportFlag
	expect, count, conns, streams *int
	pages                         *int
	rate                          *float64
	duration                      *time.Duration
	http1, h2c, insecure          *bool
	quiet, raw, newConn           *bool
	save                          *clientcli.SaveFlag
}

func declareFlags() cliFlags {
	f := cliFlags{Flags: clientcli.NewFlags(prog, usage), headers: &headerFlag{h: http.Header{}}}
	f.Var(f.headers, "header", "")
	f.url = f.String("url", "", "")
	f.method = f.String("method", "", "")
	f.data = f.String("data", "", "")
	f.timeout = f.Duration("timeout", DefaultTimeout, "")
	f.expect = f.Int("expect", DefaultExpect, "")
	f.maxBody = f.String("max-body", "1MiB", "")
	f.http1 = f.Bool("http1", false, "")
	f.h2c = f.Bool("h2c", false, "")
	f.insecure = f.Bool("insecure", false, "")
	f.JSON()
	f.count = f.Int("count", 0, "")
	f.conns = f.Int("connections", 1, "")
	f.rate = f.Float64("rate", 0, "")
	f.duration = f.Duration("duration", 0, "")
	f.streams = f.Int("streams", 1, "")
	f.newConn = f.Bool("new-conn", false, "")
	f.pages = f.Int("pages", 0, "")
	f.save = f.Save()
	f.quiet = f.Bool("quiet", false, "")
	f.raw = f.Bool("raw", false, "")
	f.report = f.ReportInterval()
	f.Alias("concurrency", "connections")
	return f
}

// invocation is one checked run of the client: the mode and what it needs.
type invocation struct {
	mode  func(ctx context.Context, inv *invocation) int
	cfg   Config
	load  LoadOptions
	raw   RawOptions
	quiet bool
	clientcli.Output
}

// Main is http-client: it runs one invocation and returns the exit code.
// Standard input is not read.
func Main(ctx context.Context, args []string, getenv func(string) string, _ io.Reader, stdout, stderr io.Writer) int {
	f := declareFlags()
	return clientcli.Launch(ctx, f.Flags, args, stdout, stderr, func() (*invocation, error) { return f.check(getenv) })
}

// Run runs the mode; a load run reports on out.
func (inv *invocation) Run(ctx context.Context, out clientcli.Output) int {
	inv.Output = out
	inv.load.Report = out.Report
	return inv.mode(ctx, inv)
}

// check turns the flags into an invocation, or says which flag is wrong.
func (f cliFlags) check(getenv func(string) string) (*invocation, error) {
	u, err := f.target(getenv)
	if err != nil {
		return nil, err
	}
	maxBody, err := clientcli.ParseSize(*f.maxBody)
	if err != nil {
		return nil, errors.New("--max-body: " + err.Error())
	}
	err = cmp.Or(
		f.Needs("connections", "count", "duration"), f.Needs("rate", "count", "duration"),
		f.Needs("quiet", "count", "duration"), f.Needs("streams", "h2c"),
		f.Needs("pages", "count"), f.Excludes("pages", "duration", "rate"),
		f.report.Check("count", "duration"), f.save.Check("count", "duration"),
		f.Excludes("raw", "count", "duration", "json", "h2c", "http1", "insecure", "expect", "new-conn"),
		f.Excludes("http1", "h2c"),
		f.checkRequest(u, maxBody),
	)
	if err != nil {
		return nil, err
	}
	inv := &invocation{quiet: *f.quiet}
	var body []byte
	if f.Given("data") {
		body = []byte(*f.data)
	}
	inv.cfg = Config{URL: u, Method: *f.method, Header: f.headers.h, Body: body, Timeout: *f.timeout,
		MaxBody: maxBody, Expect: *f.expect, Insecure: *f.insecure, NewConn: *f.newConn}
	switch {
	case *f.raw:
		inv.mode = runRaw
		inv.raw = RawOptions{URL: u, Method: *f.method, Header: f.headers.h, Body: body, Timeout: *f.timeout, Max: maxBody + RawSlack}
		if u.Scheme != "http" {
			return nil, errors.New("--raw needs an http:// URL (it speaks plain TCP)")
		}
	case f.Given("count") || f.Given("duration"):
		inv.mode = runLoad
		inv.load = LoadOptions{Count: *f.count, Duration: *f.duration, Connections: *f.conns, Streams: *f.streams, Rate: *f.rate, Pages: *f.pages}
		err = f.checkLoad()
	default:
		inv.mode = runOne
	}
	switch {
	case *f.http1:
		inv.cfg.Proto = ProtoHTTP1
	case *f.h2c:
		inv.cfg.Proto = ProtoH2C
	}
	return inv, err
}

// target is the URL: the argument or --url, else the environment, else the
// default; a bad one is reported with where it came from.
func (f cliFlags) target(getenv func(string) string) (*url.URL, error) {
	target, from := *f.url, "--url"
	switch args := f.Args(); {
	case len(args) > 1:
		return nil, fmt.Errorf("unexpected argument %q", args[1])
	case len(args) == 1 && f.Given("url"):
		return nil, errors.New("give the URL as an argument or with --url, not both")
	case len(args) == 1:
		target, from = args[0], "the argument"
	case !f.Given("url"):
		if target = getenv(URLEnv); target != "" {
			from = URLEnv
		} else {
			target, from = DefaultURL, "the default"
		}
	}
	u, err := ParseURL(target)
	if err != nil {
		return nil, fmt.Errorf("%v (from %s)", err, from)
	}
	return u, nil
}

func (f cliFlags) checkRequest(u *url.URL, maxBody int64) error {
	if f.Given("data") && !f.Given("method") {
		*f.method = http.MethodPost
	}
	switch {
	case f.Given("method") && !IsToken(*f.method):
		return fmt.Errorf("invalid --method %q", *f.method)
	case *f.timeout <= 0:
		return fmt.Errorf("invalid --timeout %s: must be positive", *f.timeout)
	case *f.expect < 100 || *f.expect > 599:
		return fmt.Errorf("invalid --expect %d: must be between 100 and 599", *f.expect)
	case maxBody > MaxMaxBody:
		return fmt.Errorf("invalid --max-body %s: must be at most 1GiB", *f.maxBody)
	case *f.h2c && u.Scheme != "http":
		return errors.New("--h2c needs an http:// URL (over TLS, HTTP/2 is negotiated by default)")
	}
	return nil
}

func (f cliFlags) checkLoad() error {
	switch {
	case f.Given("count") && (*f.count < 1 || *f.count > MaxCount):
		return fmt.Errorf("invalid --count %d: must be between 1 and %d", *f.count, MaxCount)
	case f.Given("duration") && (*f.duration < time.Millisecond || *f.duration > MaxDuration):
		return fmt.Errorf("invalid --duration %s: must be between 1ms and 24h", *f.duration)
	case *f.streams < 1 || *f.streams > MaxStreams:
		return fmt.Errorf("invalid --streams %d: must be between 1 and %d", *f.streams, MaxStreams)
	case *f.conns**f.streams > MaxConnections:
		return fmt.Errorf("invalid --connections %d × --streams %d: at most %d requests in flight", *f.conns, *f.streams, MaxConnections)
	case *f.conns < 1 || *f.conns > MaxConnections:
		return fmt.Errorf("invalid --%s %d: must be between 1 and %d", f.As("connections"), *f.conns, MaxConnections)
	case math.IsNaN(*f.rate) || *f.rate < 0 || *f.rate > MaxRate:
		return fmt.Errorf("invalid --rate %g: must be between 0 and %d", *f.rate, MaxRate)
	case f.Given("pages") && (*f.pages < 1 || *f.pages > MaxPages):
		return fmt.Errorf("invalid --pages %d: must be between 1 and %d", *f.pages, MaxPages)
	case int64(*f.count)*int64(max(*f.pages, 1)) > MaxCount:
		return fmt.Errorf("invalid --count %d × --pages %d: at most %d requests", *f.count, *f.pages, MaxCount)
	}
	return nil
}
