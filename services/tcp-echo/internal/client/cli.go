package client

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/platform/loadgen"
)

const prog = "tcp-echo-client"

const usage = `Usage: tcp-echo-client [flags]

Sends a message to a tcp-echo server and checks the echo. With no flags it
does what the tutorial client does: sends "Hello, world" and prints
Received b'Hello, world'.

Flags:
  --addr HOST:PORT  server address (default $TCP_ECHO_ADDR, else 127.0.0.1:65432)
  --message TEXT    message to send (default "Hello, world"; at most 1 MiB)
  --count N         send the message N times on one connection (1..10000000),
                    print each round trip and a summary; with --load: the
                    round trips in all, over every connection
  --interval D      time between probes with --count (default 1s)
  --bulk SIZE       stream SIZE bytes (e.g. 1048576, 64KiB, 1MiB, 1GiB, 10MB;
                    at most 64GiB), verify the echo, report throughput and,
                    on Linux, the kernel's TCP figures (retransmits,
                    congestion window, RTT, delivery rate)
  --parallel N      with --bulk: N streams at once (1..128), each on its own
                    connection and each moving SIZE bytes, so N × SIZE in
                    all (iperf3 -P -n counts n over all streams instead);
                    per-stream and total figures (default 1)
  --load            request/response load: on each of --connections
                    connections send a --size message, read and verify its
                    echo, repeat for --duration or --count round trips;
                    report ops/s, MB/s, latency percentiles and a histogram,
                    TCP figures (Linux) and errors
  --connections C   connections with --load (1..10000, default 8)
  --size N          message size with --load (1 byte..1MiB, e.g. 64, 4KiB;
                    default 64)
  --duration D      how long --load runs once connected (100ms..1h,
                    default 10s, or no limit when --count is given alone;
                    with both, whichever ends first); Ctrl-C ends it early
                    with a summary
  --rate R          with --load: open loop, R round trips per second over
                    all connections on a fixed timetable; latency is then
                    measured from each round trip's scheduled start
                    (corrected for coordinated omission) beside the rtt from
                    its actual start, and the summary says whether the rate
                    was kept, how many round trips were late or never
                    started (default 0: closed loop, as fast as the echoes
                    come back)
  --timeout D       limit for dialing and for each read or write wait (with
                    --load: for each round trip) (default 5s)
  --report-interval D
                    with --count, --bulk or --load: a line every D (10ms..1h)
                    with the round trips, throughput, latency percentiles and
                    errors of that interval, and with --bulk or --load the
                    TCP figures (retransmits in the interval); with --json
                    one JSON object each
  --save FILE       with --load or --bulk: save the run (summary, latency
                    histogram, per-second series, schedule) for netlab
                    compare; - writes it to standard output and the report
                    to standard error
  --label TEXT      the run's name in the saved file (default: the command)
  --json            print the result as one JSON object
  -h, --help        show this help

Flags may come in any order. Ctrl-C ends a run early with its summary; a
second Ctrl-C quits at once.

Exit status: 0 success, 1 failure (unreachable, timeout, mismatch, failed
probes; with --load: any connection failed, or no round trip completed),
2 usage error.
`

// cliFlags are the flags as declared, before they are checked.
type cliFlags struct {
	*clientcli.Flags
	addr, message, bulk, size   *string
	count, conns, parallel      *int
	rate                        *float64
	interval, timeout, duration *time.Duration
	report                      *clientcli.ReportFlag
	save                        *clientcli.SaveFlag
	load                        *bool
}

func declareFlags() cliFlags {
	f := cliFlags{Flags: clientcli.NewFlags(prog, usage)}
	f.addr = f.String("addr", "", "")
	f.message = f.String("message", DefaultMessage, "")
	f.count = f.Int("count", 0, "")
	f.interval = f.Duration("interval", DefaultInterval, "")
	f.bulk = f.String("bulk", "", "")
	f.timeout = f.Duration("timeout", DefaultTimeout, "")
	f.JSON()
	f.load = f.Bool("load", false, "")
	f.conns = f.Int("connections", DefaultLoadConnections, "")
	f.size = f.String("size", strconv.Itoa(DefaultLoadSize), "")
	f.duration = f.Duration("duration", DefaultLoadDuration, "")
	f.rate = f.Float64("rate", 0, "")
	f.parallel = f.Int("parallel", 1, "")
	f.report = f.ReportInterval()
	f.save = f.Save()
	return f
}

// run is one checked invocation: the mode and everything it needs.
type run struct {
	c     *Client
	mode  func(ctx context.Context, r *run) int
	msg   []byte
	count CountOptions
	bulk  BulkOptions
	load  LoadOptions
	clientcli.Output
}

// Main is tcp-echo-client: it runs one invocation and returns the exit
// code. Standard input is not read.
func Main(ctx context.Context, args []string, getenv func(string) string, _ io.Reader, stdout, stderr io.Writer) int {
	f := declareFlags()
	return clientcli.Launch(ctx, f.Flags, args, stdout, stderr, func() (*run, error) { return f.check(getenv) })
}

// Run runs the mode, every one of them reporting on out.
func (r *run) Run(ctx context.Context, out clientcli.Output) int {
	r.Output = out
	r.count.Report, r.bulk.Report, r.load.Report = out.Report, out.Report, out.Report
	return r.mode(ctx, r)
}

// check turns the flags into a run, or says which flag is wrong.
func (f cliFlags) check(getenv func(string) string) (*run, error) {
	if len(f.Args()) > 0 {
		return nil, fmt.Errorf("unexpected argument %q", f.Args()[0])
	}
	addr, err := clientcli.ResolveAddr(*f.addr, f.Given("addr"), getenv, AddrEnv, DefaultAddr)
	if err != nil {
		return nil, err
	}
	err = cmp.Or(
		f.Excludes("load", "bulk", "message", "interval"),
		f.Excludes("bulk", "count", "message"),
		f.Needs("connections", "load"), f.Needs("size", "load"), f.Needs("duration", "load"),
		f.Needs("rate", "load"), f.Needs("parallel", "bulk"),
		f.Needs("interval", "count"),
		f.report.Check("count", "bulk", "load"), f.save.Check("load", "bulk"),
		f.checkShared(),
	)
	if err != nil {
		return nil, err
	}
	r := &run{c: &Client{Addr: addr, Timeout: *f.timeout}, msg: []byte(*f.message)}
	switch {
	case *f.load:
		r.mode = runLoad
		r.load = LoadOptions{Connections: *f.conns, Duration: *f.duration, Rate: *f.rate}
		err = f.checkLoad(&r.load)
	case f.Given("bulk"):
		r.mode = runBulk
		err = f.checkBulk(&r.bulk)
	case f.Given("count"):
		r.mode = runCount
		r.count = CountOptions{Message: r.msg, Count: *f.count, Interval: *f.interval}
		err = f.checkCount()
	default:
		r.mode = runEcho
	}
	return r, err
}

func (f cliFlags) checkShared() error {
	switch {
	case *f.timeout <= 0:
		return fmt.Errorf("invalid --timeout %s: must be positive", *f.timeout)
	case len(*f.message) == 0 || len(*f.message) > MaxMessageSize:
		return fmt.Errorf("invalid --message: must be 1 to %d bytes, got %d", MaxMessageSize, len(*f.message))
	}
	return nil
}

func (f cliFlags) checkCount() error {
	switch {
	case *f.count < 1 || *f.count > MaxCount:
		return fmt.Errorf("invalid --count %d: must be between 1 and %d", *f.count, MaxCount)
	case *f.interval < 0:
		return fmt.Errorf("invalid --interval %s: must not be negative", *f.interval)
	}
	return nil
}

func (f cliFlags) checkBulk(o *BulkOptions) error {
	size, err := clientcli.ParseSize(*f.bulk)
	switch {
	case err != nil:
		return errors.New("--bulk: " + err.Error())
	case size < 1 || size > MaxBulkSize:
		return fmt.Errorf("invalid --bulk %s: must be between 1 byte and 64GiB", *f.bulk)
	}
	if *f.parallel < 1 || *f.parallel > MaxParallel {
		return fmt.Errorf("invalid --parallel %d: must be between 1 and %d", *f.parallel, MaxParallel)
	}
	o.Size, o.Parallel = size, *f.parallel
	return nil
}

func (f cliFlags) checkLoad(o *LoadOptions) error {
	n, err := clientcli.ParseSize(*f.size)
	switch {
	case o.Connections < 1 || o.Connections > MaxLoadConnections:
		return fmt.Errorf("invalid --connections %d: must be between 1 and %d", o.Connections, MaxLoadConnections)
	case err != nil:
		return errors.New("--size: " + err.Error())
	case n < 1 || n > MaxLoadSize:
		return fmt.Errorf("invalid --size %s: must be between 1 byte and 1MiB", *f.size)
	case o.Duration < MinLoadDuration || o.Duration > MaxLoadDuration:
		return fmt.Errorf("invalid --duration %s: must be between 100ms and 1h", o.Duration)
	case f.Given("count") && (*f.count < 1 || int64(*f.count) > MaxLoadCount):
		return fmt.Errorf("invalid --count %d: must be between 1 and %d", *f.count, int64(MaxLoadCount))
	case math.IsNaN(o.Rate) || o.Rate < 0 || o.Rate > loadgen.MaxRate:
		return fmt.Errorf("invalid --rate %g: must be between 0 (closed loop) and %d", o.Rate, loadgen.MaxRate)
	}
	o.Size = int(n)
	if f.Given("count") {
		o.Count = int64(*f.count)
		if !f.Given("duration") {
			o.Duration = 0 // the count alone bounds the run
		}
	}
	return nil
}
