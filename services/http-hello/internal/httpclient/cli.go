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

Load mode:
  --count N          send N requests (1..10000000), print one line per request
                     and a summary: status codes, errors by kind, new and
                     reused connections, total and first-byte latency
                     min/avg/p50/p90/p99/p99.9/max, requests/s
  --connections C    requests in flight at once, each worker on a keep-alive
                     connection of its own (1..10000, default 1; HTTP/2
                     streams may share one). --concurrency is a deprecated
                     name of it
  --rate R           requests per second over all workers (default 0: as fast
                     as the workers go)
  --quiet            print only the summary
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
	headers                      *headerFlag
	url, method, data, maxBody   *string
	timeout                      *time.Duration
	report                       *clientcli.ReportFlag
	expect, count, conns         *int
	rate                         *float64
	http1, h2c, insecure, asJSON *bool
	quiet, raw                   *bool
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
	f.asJSON = f.Bool("json", false, "")
	f.count = f.Int("count", 0, "")
	f.conns = f.Int("connections", 1, "")
	f.rate = f.Float64("rate", 0, "")
	f.quiet = f.Bool("quiet", false, "")
	f.raw = f.Bool("raw", false, "")
	f.report = f.ReportInterval()
	f.Alias("concurrency", "connections")
	return f
}

// invocation is one checked run of the client: the mode and what it needs.
type invocation struct {
	mode   func(ctx context.Context, inv *invocation) int
	cfg    Config
	load   LoadOptions
	raw    RawOptions
	asJSON bool
	quiet  bool
	stdout io.Writer
	stderr io.Writer
}

// Main is http-client: it runs one invocation and returns the exit code.
// Standard input is not read.
func Main(ctx context.Context, args []string, getenv func(string) string, _ io.Reader, stdout, stderr io.Writer) int {
	f := declareFlags()
	if code, ok := f.Parse(args, stdout, stderr); !ok {
		return code
	}
	inv, err := f.check(getenv)
	if err != nil {
		return f.UsageError(stderr, err.Error())
	}
	inv.stdout, inv.stderr = clientcli.SyncWriter(stdout), stderr
	inv.load.Report = f.report.Reporting(inv.stdout, inv.asJSON)
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
		f.Needs("connections", "count"), f.Needs("rate", "count"), f.Needs("quiet", "count"),
		f.report.Check("count"),
		f.Excludes("raw", "count", "json", "h2c", "http1", "insecure", "expect"),
		f.Excludes("http1", "h2c"),
		f.checkRequest(u, maxBody),
	)
	if err != nil {
		return nil, err
	}
	inv := &invocation{asJSON: *f.asJSON, quiet: *f.quiet}
	var body []byte
	if f.Given("data") {
		body = []byte(*f.data)
	}
	inv.cfg = Config{URL: u, Method: *f.method, Header: f.headers.h, Body: body, Timeout: *f.timeout,
		MaxBody: maxBody, Expect: *f.expect, Insecure: *f.insecure}
	switch {
	case *f.raw:
		inv.mode = runRaw
		inv.raw = RawOptions{URL: u, Method: *f.method, Header: f.headers.h, Body: body, Timeout: *f.timeout, Max: maxBody + RawSlack}
		if u.Scheme != "http" {
			return nil, errors.New("--raw needs an http:// URL (it speaks plain TCP)")
		}
	case f.Given("count"):
		inv.mode = runLoad
		inv.load = LoadOptions{Count: *f.count, Connections: *f.conns, Rate: *f.rate}
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
	case *f.count < 1 || *f.count > MaxCount:
		return fmt.Errorf("invalid --count %d: must be between 1 and %d", *f.count, MaxCount)
	case *f.conns < 1 || *f.conns > MaxConnections:
		return fmt.Errorf("invalid --%s %d: must be between 1 and %d", f.As("connections"), *f.conns, MaxConnections)
	case math.IsNaN(*f.rate) || *f.rate < 0 || *f.rate > MaxRate:
		return fmt.Errorf("invalid --rate %g: must be between 0 and %d", *f.rate, MaxRate)
	}
	return nil
}
