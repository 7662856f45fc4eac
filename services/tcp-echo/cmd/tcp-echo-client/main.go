// Command tcp-echo-client talks to a tcp-echo server: by default it does what
// the Python tutorial client does (send "Hello, world", print the echo); it
// can also measure round trips (--count), throughput (--bulk) and
// request/response load over many connections (--load).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/netlab/netlab/services/tcp-echo/internal/client"

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
  --json            print the result as one JSON object
  -h, --help        show this help

Exit status: 0 success, 1 failure (unreachable, timeout, mismatch, failed
probes; with --load: any connection failed, or no round trip completed),
2 usage error.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop) // a second signal kills at once
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program; it returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(prog, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var (
		addr     = fs.String("addr", "", "")
		message  = fs.String("message", client.DefaultMessage, "")
		count    = fs.Int("count", 0, "")
		interval = fs.Duration("interval", client.DefaultInterval, "")
		bulk     = fs.String("bulk", "", "")
		timeout  = fs.Duration("timeout", client.DefaultTimeout, "")
		asJSON   = fs.Bool("json", false, "")
		load     = fs.Bool("load", false, "")
		conns    = fs.Int("connections", client.DefaultLoadConnections, "")
		size     = fs.String("size", strconv.Itoa(client.DefaultLoadSize), "")
		duration = fs.Duration("duration", client.DefaultLoadDuration, "")
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

	if fs.NArg() > 0 {
		return usageError(stderr, fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	resolved, err := clientcli.ResolveAddr(*addr, set["addr"], getenv, client.AddrEnv, client.DefaultAddr)
	if err != nil {
		return usageError(stderr, err.Error())
	}
	*addr = resolved
	if *timeout <= 0 {
		return usageError(stderr, fmt.Sprintf("invalid --timeout %s: must be positive", *timeout))
	}
	if set["count"] && (*count < 1 || *count > client.MaxCount) {
		return usageError(stderr, fmt.Sprintf("invalid --count %d: must be between 1 and %d", *count, client.MaxCount))
	}
	if set["interval"] && !set["count"] {
		return usageError(stderr, "--interval needs --count")
	}
	if *interval < 0 {
		return usageError(stderr, fmt.Sprintf("invalid --interval %s: must not be negative", *interval))
	}
	if len(*message) == 0 || len(*message) > client.MaxMessageSize {
		return usageError(stderr, fmt.Sprintf("invalid --message: must be 1 to %d bytes, got %d", client.MaxMessageSize, len(*message)))
	}
	c := &client.Client{Addr: *addr, Timeout: *timeout}

	if *load {
		for _, f := range []string{"bulk", "count", "message"} {
			if set[f] {
				return usageError(stderr, "--load cannot be combined with --"+f)
			}
		}
		opts, msg := loadOptions(*conns, *size, *duration)
		if msg != "" {
			return usageError(stderr, msg)
		}
		return runLoad(ctx, c, opts, *asJSON, stdout, stderr)
	}
	for _, f := range []string{"connections", "size", "duration"} {
		if set[f] {
			return usageError(stderr, "--"+f+" needs --load")
		}
	}

	if set["bulk"] {
		if set["count"] || set["message"] {
			return usageError(stderr, "--bulk cannot be combined with --count or --message")
		}
		size, err := client.ParseSize(*bulk)
		if err != nil {
			return usageError(stderr, "--bulk: "+err.Error())
		}
		if size < 1 || size > client.MaxBulkSize {
			return usageError(stderr, fmt.Sprintf("invalid --bulk %s: must be between 1 byte and 64GiB", *bulk))
		}
		return runBulk(ctx, c, size, *asJSON, stdout, stderr)
	}
	if set["count"] {
		return runCount(ctx, c, client.CountOptions{
			Message:  []byte(*message),
			Count:    *count,
			Interval: *interval,
		}, *asJSON, stdout, stderr)
	}

	res, err := c.Echo(ctx, []byte(*message))
	if err != nil {
		return failure(stderr, err)
	}
	if *asJSON {
		err = res.WriteJSON(stdout)
	} else {
		err = res.WriteText(stdout)
	}
	if err != nil {
		return failure(stderr, err)
	}
	return 0
}

func runCount(ctx context.Context, c *client.Client, opts client.CountOptions, asJSON bool, stdout, stderr io.Writer) int {
	if !asJSON {
		opts.OnProbe = func(p client.Probe) { fmt.Fprintln(stdout, p) }
	}
	res, err := c.Count(ctx, opts)
	if err != nil && !res.Interrupted {
		return failure(stderr, err) // first dial failed: nothing to summarise
	}
	if asJSON {
		_ = res.WriteJSON(stdout)
	} else {
		_ = res.WriteText(stdout)
	}
	switch {
	case res.Errors > 0:
		fmt.Fprintf(stderr, "%s: %d of %d probes failed (last: %v)\n", prog, res.Errors, res.Sent, res.LastErr)
		return 1
	case res.Interrupted && res.OK == 0:
		return failure(stderr, err)
	}
	return 0 // interrupted after some good probes is a success, as with ping
}

func runBulk(ctx context.Context, c *client.Client, size int64, asJSON bool, stdout, stderr io.Writer) int {
	res, err := c.Bulk(ctx, size)
	var de *client.DialError
	if errors.As(err, &de) || (err != nil && res.Sent == 0) {
		return failure(stderr, err) // nothing was transferred: nothing to report
	}
	if asJSON {
		_ = res.WriteJSON(stdout)
	} else {
		_ = res.WriteText(stdout)
	}
	if err != nil {
		return failure(stderr, err)
	}
	return 0
}

// loadOptions checks the --load flags; msg names the bad one.
func loadOptions(conns int, size string, duration time.Duration) (opts client.LoadOptions, msg string) {
	if conns < 1 || conns > client.MaxLoadConnections {
		return opts, fmt.Sprintf("invalid --connections %d: must be between 1 and %d", conns, client.MaxLoadConnections)
	}
	n, err := client.ParseSize(size)
	if err != nil {
		return opts, "--size: " + err.Error()
	}
	if n < 1 || n > client.MaxLoadSize {
		return opts, fmt.Sprintf("invalid --size %s: must be between 1 byte and 1MiB", size)
	}
	if duration < client.MinLoadDuration || duration > client.MaxLoadDuration {
		return opts, fmt.Sprintf("invalid --duration %s: must be between 100ms and 1h", duration)
	}
	return client.LoadOptions{Connections: conns, Size: int(n), Duration: duration}, ""
}

// runLoad prints the summary whatever happened (a harness reads it), then
// says on stderr why the run failed, if it did.
func runLoad(ctx context.Context, c *client.Client, opts client.LoadOptions, asJSON bool, stdout, stderr io.Writer) int {
	res, err := c.Load(ctx, opts)
	if err != nil && !res.Interrupted {
		return failure(stderr, err) // invalid options: checked above, so not reached
	}
	if asJSON {
		_ = res.WriteJSON(stdout)
	} else {
		_ = res.WriteText(stdout)
	}
	switch {
	case res.Failed > 0:
		fmt.Fprintf(stderr, "%s: %d of %d connections failed (first: %v)\n", prog, res.Failed, res.Connections, res.FirstErr)
		return 1
	case res.Ops == 0 && err != nil:
		return failure(stderr, err) // interrupted before any round trip
	case res.Ops == 0:
		return failure(stderr, errors.New("no round trip completed"))
	}
	return 0 // interrupted after some good round trips is a success, as with --count
}

func failure(stderr io.Writer, err error) int { return clientcli.Failure(stderr, prog, err) }

func usageError(stderr io.Writer, msg string) int { return clientcli.UsageError(stderr, prog, msg) }
