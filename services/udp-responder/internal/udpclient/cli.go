package udpclient

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/platform/term"
	"github.com/netlab/netlab/services/udp-responder/probe"
)

const prog = "udp-client"

const usage = `Usage: udp-client [flags]

Sends a datagram to a udp-responder and prints the reply. With no flags it
does what the tutorial client does: sends "Hello, server!" and prints
Received: Hello, client!
It does not send "exit" afterwards (the server ignores it without a token;
see --exit). With --count it sends numbered probes and reports loss,
reordering, duplication, corruption, round-trip times and jitter. With
--load it keeps one request outstanding per socket for a fixed time and
reports replies per second, loss and round-trip times.

Flags:
  --addr HOST:PORT   server address (default $UDP_SERVER_ADDR, else 127.0.0.1:12345)
  --message TEXT     text to send (default "Hello, server!"; 1..65507 bytes). In
                     greet mode the server answers only a message at least as
                     long as its greeting (14 bytes)
  --tries N          sends before giving up (default 3, 1..100)
  --timeout D        wait for a reply to each try; with --count, wait for the
                     last replies after the last probe (default 2s)
  --exit TOKEN       send "exit TOKEN" (stops a server whose SHUTDOWN_TOKEN is
                     TOKEN), print "sent exit" and wait for nothing
  --json             print the result as one JSON object

Probe mode:
  --count N          send N probes (1..10000000)
  --rate R           probes per second over all sockets (default 1000; 0 sends
                     as fast as possible). The server drops what exceeds its
                     per-source limit (by default 2000/s, bursts of 4000)
  --size BYTES       probe datagram size (36..65507, default 64; also for
                     --load); the server ignores datagrams above its
                     MAX_DATAGRAM (2048 by default)
  --connections C    sockets sending in parallel, each at R/C (1..256,
                     default 1; with --load: 1..1024). --concurrency and
                     --sockets are deprecated names of it
  --max-loss P       fail when the loss exceeds P percent (0..100, default 100;
                     also for --load)
  --progress         print progress to stderr every second (default: when
                     stderr is a terminal; --progress=false turns it off)
  --report-interval D
                     with --count or --load: a line every D (10ms..1h) with the
                     replies, latency percentiles, loss and errors of that
                     interval; with --json one JSON object each

Load mode (closed loop):
  --load             each socket sends a probe of --size bytes, waits for its
                     reply or --timeout (then the request counts as lost),
                     and sends the next at once, for --duration; replies to
                     earlier requests are ignored (counted as "late")
  --duration D       how long to send (100ms..1h, default 10s)
  --timeout D        with --load: per request (1ms..1m, default 200ms)
  With --load, --connections, --size, --max-loss, --report-interval and
  --json apply; --count, --rate, --progress, --message, --tries and --exit
  do not. The server's per-source rate limit (RATE_LIMIT, RATE_BURST)
  counts every request: raise it for a load test.

  -h, --help         show this help

Flags may come in any order. Ctrl-C in probe mode stops sending, waits up
to --timeout for the replies still on their way and prints the summary; in
load mode it stops at once and prints the summary. A second Ctrl-C quits at
once.

Exit status: 0 success; 1 failure (cannot resolve, no reply; with --count:
nothing received, corrupted replies, or loss above --max-loss; with --load:
nothing received, or loss above --max-loss); 2 usage error.
`

// cliFlags are the flags as declared, before they are checked.
type cliFlags struct {
	*clientcli.Flags
	addr, message, exitToken  *string
	tries, count, size, conns *int
	timeout, duration         *time.Duration
	report                    *clientcli.ReportFlag
	rate, maxLoss             *float64
	asJSON, progress, load    *bool
}

func declareFlags() cliFlags {
	f := cliFlags{Flags: clientcli.NewFlags(prog, usage)}
	f.addr = f.String("addr", "", "")
	f.message = f.String("message", DefaultMessage, "")
	f.tries = f.Int("tries", DefaultTries, "")
	f.timeout = f.Duration("timeout", DefaultTimeout, "")
	f.exitToken = f.String("exit", "", "")
	f.asJSON = f.Bool("json", false, "")
	f.count = f.Int("count", 0, "")
	f.rate = f.Float64("rate", DefaultRate, "")
	f.size = f.Int("size", DefaultSize, "")
	f.conns = f.Int("connections", DefaultConnections, "")
	f.maxLoss = f.Float64("max-loss", 100, "")
	f.progress = f.Bool("progress", false, "")
	f.load = f.Bool("load", false, "")
	f.duration = f.Duration("duration", DefaultLoadDuration, "")
	f.report = f.ReportInterval()
	f.Alias("concurrency", "connections")
	f.Alias("sockets", "connections")
	return f
}

// invocation is one checked run of the client: the mode and everything it needs.
type invocation struct {
	c       *Client
	mode    func(ctx context.Context, r *invocation) int
	msg     []byte
	token   string
	probe   ProbeOptions
	load    LoadOptions
	maxLoss float64
	line    *progressLine // nil: no progress line
	asJSON  bool
	stdout  io.Writer
	stderr  io.Writer
}

// Main is udp-client: it runs one invocation and returns the exit code.
// Standard input is not read.
func Main(ctx context.Context, args []string, getenv func(string) string, _ io.Reader, stdout, stderr io.Writer) int {
	f := declareFlags()
	if code, ok := f.Parse(args, stdout, stderr); !ok {
		return code
	}
	r, err := f.check(getenv, stderr)
	if err != nil {
		return f.UsageError(stderr, err.Error())
	}
	r.stdout, r.stderr = clientcli.SyncWriter(stdout), stderr
	report := f.report.Reporting(r.stdout, r.asJSON)
	r.probe.Report, r.load.Report = report, report
	return r.mode(ctx, r)
}

// check turns the flags into a run, or says which flag is wrong.
func (f cliFlags) check(getenv func(string) string, stderr io.Writer) (*invocation, error) {
	if len(f.Args()) > 0 {
		return nil, fmt.Errorf("unexpected argument %q", f.Args()[0])
	}
	addr, err := clientcli.ResolveAddr(*f.addr, f.Given("addr"), getenv, AddrEnv, DefaultAddr)
	if err != nil {
		return nil, err
	}
	err = cmp.Or(
		f.Excludes("load", "count", "exit", "message", "tries", "rate", "progress"),
		f.Needs("duration", "load"),
		f.Needs("rate", "count"), f.Needs("progress", "count"),
		f.Needs("size", "count", "load"), f.Needs("connections", "count", "load"),
		f.Needs("max-loss", "count", "load"), f.report.Check("count", "load"),
		f.Excludes("count", "message", "tries", "exit"), f.Excludes("exit", "message", "tries"),
		f.checkShared(),
	)
	if err != nil {
		return nil, err
	}
	r := &invocation{c: &Client{Addr: addr, Timeout: *f.timeout, Tries: *f.tries}, maxLoss: *f.maxLoss, asJSON: *f.asJSON}
	switch {
	case *f.load:
		r.mode, err = runLoad, f.checkLoad(r)
	case f.Given("exit"):
		r.mode, r.token, err = runExit, *f.exitToken, f.checkExit()
	case f.Given("count"):
		r.mode, err = runProbe, f.checkProbe(r, stderr)
	default:
		r.mode, r.msg, err = runSend, []byte(*f.message), f.checkSend()
	}
	return r, err
}

func (f cliFlags) checkShared() error {
	switch {
	case math.IsNaN(*f.maxLoss) || *f.maxLoss < 0 || *f.maxLoss > 100:
		return fmt.Errorf("invalid --max-loss %g: must be between 0 and 100", *f.maxLoss)
	case *f.size < probe.HeaderSize || *f.size > probe.MaxSize:
		return fmt.Errorf("invalid --size %d: must be between %d and %d", *f.size, probe.HeaderSize, probe.MaxSize)
	case !*f.load && *f.timeout <= 0:
		return fmt.Errorf("invalid --timeout %s: must be positive", *f.timeout)
	}
	return nil
}

func (f cliFlags) checkSend() error {
	switch {
	case *f.tries < 1 || *f.tries > MaxTries:
		return fmt.Errorf("invalid --tries %d: must be between 1 and %d", *f.tries, MaxTries)
	case len(*f.message) == 0 || len(*f.message) > MaxMessageSize:
		return fmt.Errorf("invalid --message: must be 1 to %d bytes, got %d", MaxMessageSize, len(*f.message))
	}
	return nil
}

func (f cliFlags) checkExit() error {
	if t := *f.exitToken; t == "" || strings.ContainsAny(t, " \t\r\n") || len(t) > MaxMessageSize-len("exit ") {
		return fmt.Errorf("invalid --exit: the token must be 1 or more characters without spaces")
	}
	return nil
}

func (f cliFlags) checkProbe(r *invocation, stderr io.Writer) error {
	switch {
	case *f.count < 1 || *f.count > MaxCount:
		return fmt.Errorf("invalid --count %d: must be between 1 and %d", *f.count, MaxCount)
	case math.IsNaN(*f.rate) || *f.rate < 0 || *f.rate > MaxRate:
		return fmt.Errorf("invalid --rate %g: must be between 0 and %d", *f.rate, MaxRate)
	case *f.conns < 1 || *f.conns > MaxConnections:
		return fmt.Errorf("invalid --%s %d: must be between 1 and %d", f.As("connections"), *f.conns, MaxConnections)
	}
	r.probe = ProbeOptions{Count: *f.count, Rate: *f.rate, Size: *f.size, Connections: *f.conns}
	if f.Given("progress") && *f.progress || !f.Given("progress") && term.IsTerminal(stderr) {
		r.line = &progressLine{w: stderr}
		r.probe.Progress = r.line.update
	}
	return nil
}

func (f cliFlags) checkLoad(r *invocation) error {
	timeout := *f.timeout
	if !f.Given("timeout") {
		timeout = DefaultLoadTimeout
	}
	switch {
	case *f.conns < 1 || *f.conns > MaxLoadConnections:
		return fmt.Errorf("invalid --%s %d: must be between 1 and %d", f.As("connections"), *f.conns, MaxLoadConnections)
	case *f.duration < MinLoadDuration || *f.duration > MaxLoadDuration:
		return fmt.Errorf("invalid --duration %s: must be between %s and %s", *f.duration, MinLoadDuration, MaxLoadDuration)
	case timeout < MinLoadTimeout || timeout > MaxLoadTimeout:
		return fmt.Errorf("invalid --timeout %s: must be between %s and %s with --load", timeout, MinLoadTimeout, MaxLoadTimeout)
	}
	r.c = &Client{Addr: r.c.Addr}
	r.load = LoadOptions{Connections: *f.conns, Size: *f.size, Duration: *f.duration, Timeout: timeout}
	return nil
}
