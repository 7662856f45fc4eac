package udpclient

import (
	"cmp"
	"context"
	"errors"
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
see --exit). With --count or --duration it sends numbered probes and
reports loss (split into upstream and downstream), reordering,
duplication, corruption, round-trip and one-way times, jitter and bit
rates. With --load it keeps one request outstanding per socket and
reports replies per second, loss and round-trip times.

Flags:
  --addr HOST:PORT   server address (default $UDP_SERVER_ADDR, else 127.0.0.1:12345)
  --message TEXT     text to send (default "Hello, server!"; 1..65507 bytes). In
                     greet mode the server answers only a message at least as
                     long as its greeting (14 bytes)
  --tries N          sends before giving up (default 3, 1..100)
  --timeout D        wait for a reply to each try; in probe mode, wait for the
                     last replies after the last probe (default 2s)
  --exit TOKEN       send "exit TOKEN" (stops a server whose SHUTDOWN_TOKEN is
                     TOKEN), print "sent exit" and wait for nothing
  --json             print the result as one JSON object

Probe mode (--count, --duration or both):
  --count N          send N probes (1..10000000)
  --duration D       send for D (10ms..24h): rate × D probes, or --count if
                     fewer; needs a rate above 0
  --rate R           probes per second over all sockets (default 1000; 0 sends
                     as fast as possible). The server drops what exceeds its
                     per-source limit (by default 2000/s, bursts of 4000)
  --bitrate B        instead of --rate: bits per second of probe payload, e.g.
                     500k, 10M, 1.5G (SI prefixes); probes per second =
                     B / (8 × --size)
  --size BYTES       probe datagram size (36..65507, default 68; also for
                     --load); the server ignores datagrams above its
                     MAX_DATAGRAM (2048 by default). From 68 bytes probes are
                     version 2: the responder's count and timestamps split
                     the loss into upstream and downstream and give one-way
                     delays (which need the two clocks in sync)
  --connections C    sockets sending in parallel, each at R/C (1..256,
                     default 1; with --load: 1..1024). --concurrency and
                     --sockets are deprecated names of it
  --max-loss P       fail when the loss exceeds P percent (0..100, default 100;
                     also for --load)
  --progress         print progress to stderr every second (default: when
                     stderr is a terminal; --progress=false turns it off)
  --report-interval D
                     in probe or load mode: a line every D (10ms..1h) with the
                     replies, bit rate, latency percentiles, loss and errors
                     of that interval; with --json one JSON object each
  --save FILE        save the run (summary, RTT histogram, per-second series,
                     open-loop schedule) for netlab compare; - writes it to
                     standard output and the report to standard error
  --label TEXT       the run's name in the saved file (default: the command)

Load mode:
  --load             each socket sends a probe of --size bytes, waits for its
                     reply or --timeout (then the request counts as lost),
                     and sends the next; replies to earlier requests are
                     ignored (counted as "late")
  --duration D       how long to send (100ms..1h; default 10s, or until
                     --count when only that is given)
  --count N          stop after N requests (whichever comes first)
  --rate R           open loop: R requests per second over all sockets on a
                     fixed timetable (--bitrate B: B / (8 × --size));
                     latency is then measured from each request's scheduled
                     start, and the summary says whether the rate was kept.
                     Default: closed loop, each socket sends when its last
                     request is done
  --timeout D        per request (1ms..1m, default 200ms)
  With --load, --connections, --size, --max-loss, --report-interval, --save
  and --json apply; --progress, --message, --tries and --exit do not. The
  server's per-source rate limit (RATE_LIMIT, RATE_BURST) counts every
  request: raise it for a load test.

  -h, --help         show this help

Flags may come in any order. Ctrl-C in probe mode stops sending, waits up
to --timeout for the replies still on their way and prints the summary; in
load mode it stops at once and prints the summary. A second Ctrl-C quits at
once.

Exit status: 0 success; 1 failure (cannot resolve, no reply; in probe mode:
nothing received, corrupted replies, or loss above --max-loss; with --load:
nothing received, or loss above --max-loss); 2 usage error.
`

// cliFlags are the flags as declared, before they are checked.
type cliFlags struct {
	*clientcli.Flags
	addr, message, exitToken, bitrate *string
	tries, count, size, conns         *int
	timeout, duration                 *time.Duration
	report                            *clientcli.ReportFlag
	save                              *clientcli.SaveFlag
	rate, maxLoss                     *float64
	progress, load                    *bool
}

func declareFlags() cliFlags {
	f := cliFlags{Flags: clientcli.NewFlags(prog, usage)}
	f.addr = f.String("addr", "", "")
	f.message = f.String("message", DefaultMessage, "")
	f.tries = f.Int("tries", DefaultTries, "")
	f.timeout = f.Duration("timeout", DefaultTimeout, "")
	f.exitToken = f.String("exit", "", "")
	f.JSON()
	f.count = f.Int("count", 0, "")
	f.rate = f.Float64("rate", DefaultRate, "")
	f.bitrate = f.String("bitrate", "", "")
	f.size = f.Int("size", DefaultSize, "")
	f.conns = f.Int("connections", DefaultConnections, "")
	f.maxLoss = f.Float64("max-loss", 100, "")
	f.progress = f.Bool("progress", false, "")
	f.load = f.Bool("load", false, "")
	f.duration = f.Duration("duration", 0, "")
	f.report = f.ReportInterval()
	f.save = f.Save()
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
	bitrate float64 // --bitrate, bits per second; 0: not given
	maxLoss float64
	line    *progressLine // nil: no progress line
	clientcli.Output
}

// Main is udp-client: it runs one invocation and returns the exit code.
// Standard input is not read.
func Main(ctx context.Context, args []string, getenv func(string) string, _ io.Reader, stdout, stderr io.Writer) int {
	f := declareFlags()
	return clientcli.Launch(ctx, f.Flags, args, stdout, stderr, func() (*invocation, error) { return f.check(getenv, stderr) })
}

// Run runs the mode; the probe and load runs report on out.
func (r *invocation) Run(ctx context.Context, out clientcli.Output) int {
	r.Output = out
	r.probe.Report, r.load.Report = out.Report, out.Report
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
	measuring := []string{"count", "duration", "load"}
	err = cmp.Or(
		f.Excludes("load", "exit", "message", "tries", "progress"),
		f.Excludes("rate", "bitrate"),
		f.Needs("rate", measuring...), f.Needs("bitrate", measuring...), f.Needs("progress", "count", "duration"),
		f.Needs("size", measuring...), f.Needs("connections", measuring...),
		f.Needs("max-loss", measuring...), f.report.Check(measuring...), f.save.Check(measuring...),
		f.Excludes("count", "message", "tries", "exit"), f.Excludes("duration", "message", "tries", "exit"),
		f.Excludes("exit", "message", "tries"),
		f.checkShared(),
	)
	if err != nil {
		return nil, err
	}
	r := &invocation{c: &Client{Addr: addr, Timeout: *f.timeout, Tries: *f.tries}, maxLoss: *f.maxLoss}
	if f.Given("bitrate") {
		if r.bitrate, err = ParseBitrate(*f.bitrate); err != nil {
			return nil, fmt.Errorf("invalid --bitrate: %v", err)
		}
		*f.rate = PacketsPerSecond(r.bitrate, *f.size)
	}
	switch {
	case *f.load:
		r.mode, err = runLoad, f.checkLoad(r)
	case f.Given("exit"):
		r.mode, r.token, err = runExit, *f.exitToken, f.checkExit()
	case f.Given("count") || f.Given("duration"):
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

// checkRate checks the rate, as given or from --bitrate, naming the flag.
func (f cliFlags) checkRate() error {
	if math.IsNaN(*f.rate) || *f.rate < 0 || *f.rate > MaxRate {
		if f.Given("bitrate") {
			return fmt.Errorf("invalid --bitrate %s: %g probes of %d bytes per second, must be at most %d", *f.bitrate, *f.rate, *f.size, MaxRate)
		}
		return fmt.Errorf("invalid --rate %g: must be between 0 and %d", *f.rate, MaxRate)
	}
	return nil
}

func (f cliFlags) checkProbe(r *invocation, stderr io.Writer) error {
	switch {
	case f.Given("count") && (*f.count < 1 || *f.count > MaxCount):
		return fmt.Errorf("invalid --count %d: must be between 1 and %d", *f.count, MaxCount)
	case f.Given("duration") && (*f.duration < MinProbeDuration || *f.duration > MaxProbeDuration):
		return fmt.Errorf("invalid --duration %s: must be between %s and %s", *f.duration, MinProbeDuration, MaxProbeDuration)
	case f.Given("duration") && *f.rate == 0:
		return errors.New("--duration needs a rate above 0 (--rate 0 has no timetable to end)")
	case *f.conns < 1 || *f.conns > MaxConnections:
		return fmt.Errorf("invalid --%s %d: must be between 1 and %d", f.As("connections"), *f.conns, MaxConnections)
	}
	if err := f.checkRate(); err != nil {
		return err
	}
	r.probe = ProbeOptions{Count: *f.count, Duration: *f.duration, Rate: *f.rate, Size: *f.size, Connections: *f.conns}
	if _, err := r.probe.normalize(); err != nil {
		return fmt.Errorf("invalid --duration: %v", err) // the only check left: too many probes
	}
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
	duration := *f.duration
	if !f.Given("duration") && !f.Given("count") {
		duration = DefaultLoadDuration
	}
	rate := 0.0 // closed loop unless a rate is given
	if f.Given("rate") || f.Given("bitrate") {
		rate = *f.rate
	}
	switch {
	case *f.conns < 1 || *f.conns > MaxLoadConnections:
		return fmt.Errorf("invalid --%s %d: must be between 1 and %d", f.As("connections"), *f.conns, MaxLoadConnections)
	case f.Given("duration") && (duration < MinLoadDuration || duration > MaxLoadDuration):
		return fmt.Errorf("invalid --duration %s: must be between %s and %s", duration, MinLoadDuration, MaxLoadDuration)
	case f.Given("count") && (*f.count < 1 || *f.count > MaxCount):
		return fmt.Errorf("invalid --count %d: must be between 1 and %d", *f.count, MaxCount)
	case timeout < MinLoadTimeout || timeout > MaxLoadTimeout:
		return fmt.Errorf("invalid --timeout %s: must be between %s and %s with --load", timeout, MinLoadTimeout, MaxLoadTimeout)
	}
	if err := f.checkRate(); err != nil {
		return err
	}
	r.c = &Client{Addr: r.c.Addr}
	r.load = LoadOptions{Connections: *f.conns, Size: *f.size, Count: *f.count, Duration: duration, Timeout: timeout, Rate: rate}
	return nil
}
