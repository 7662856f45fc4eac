package client

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/netlab/netlab/services/platform/clientcli"
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
                    print each round trip and a summary
  --interval D      time between probes with --count (default 1s)
  --bulk SIZE       stream SIZE bytes (e.g. 1048576, 64KiB, 1MiB, 1GiB, 10MB;
                    at most 64GiB), verify the echo, report throughput
  --load            closed-loop load: on each of --connections connections
                    send a --size message, read and verify its echo,
                    repeat for --duration; report ops/s, MB/s, latency
                    percentiles and errors
  --connections C   connections with --load (1..10000, default 8)
  --size N          message size with --load (1 byte..1MiB, e.g. 64, 4KiB;
                    default 64)
  --duration D      how long --load runs once connected (100ms..1h,
                    default 10s); Ctrl-C ends it early with a summary
  --timeout D       limit for dialing and for each read or write wait (with
                    --load: for each round trip) (default 5s)
  --report-interval D
                    with --count, --bulk or --load: a line every D (10ms..1h)
                    with the round trips, throughput, latency percentiles and
                    errors of that interval; with --json one JSON object each
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
	count, conns                *int
	interval, timeout, duration *time.Duration
	report                      *clientcli.ReportFlag
	asJSON, load                *bool
}

func declareFlags() cliFlags {
	f := cliFlags{Flags: clientcli.NewFlags(prog, usage)}
	f.addr = f.String("addr", "", "")
	f.message = f.String("message", DefaultMessage, "")
	f.count = f.Int("count", 0, "")
	f.interval = f.Duration("interval", DefaultInterval, "")
	f.bulk = f.String("bulk", "", "")
	f.timeout = f.Duration("timeout", DefaultTimeout, "")
	f.asJSON = f.Bool("json", false, "")
	f.load = f.Bool("load", false, "")
	f.conns = f.Int("connections", DefaultLoadConnections, "")
	f.size = f.String("size", strconv.Itoa(DefaultLoadSize), "")
	f.duration = f.Duration("duration", DefaultLoadDuration, "")
	f.report = f.ReportInterval()
	return f
}

// run is one checked invocation: the mode and everything it needs.
type run struct {
	c      *Client
	mode   func(ctx context.Context, r *run) int
	msg    []byte
	count  CountOptions
	bulk   BulkOptions
	load   LoadOptions
	asJSON bool
	stdout io.Writer
	stderr io.Writer
}

// Main is tcp-echo-client: it runs one invocation and returns the exit
// code. Standard input is not read.
func Main(ctx context.Context, args []string, getenv func(string) string, _ io.Reader, stdout, stderr io.Writer) int {
	f := declareFlags()
	if code, ok := f.Parse(args, stdout, stderr); !ok {
		return code
	}
	r, err := f.check(getenv)
	if err != nil {
		return f.UsageError(stderr, err.Error())
	}
	r.stdout, r.stderr = clientcli.SyncWriter(stdout), stderr
	report := f.report.Reporting(r.stdout, r.asJSON)
	r.count.Report, r.bulk.Report, r.load.Report = report, report, report
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
		f.Excludes("load", "bulk", "count", "message"),
		f.Excludes("bulk", "count", "message"),
		f.Needs("connections", "load"), f.Needs("size", "load"), f.Needs("duration", "load"),
		f.Needs("interval", "count"),
		f.report.Check("count", "bulk", "load"),
		f.checkShared(),
	)
	if err != nil {
		return nil, err
	}
	r := &run{c: &Client{Addr: addr, Timeout: *f.timeout}, msg: []byte(*f.message), asJSON: *f.asJSON}
	switch {
	case *f.load:
		r.mode = runLoad
		r.load = LoadOptions{Connections: *f.conns, Duration: *f.duration}
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
	o.Size = size
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
	}
	o.Size = int(n)
	return nil
}
