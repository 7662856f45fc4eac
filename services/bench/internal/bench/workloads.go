package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Config says where things are and how long each measurement runs.
type Config struct {
	Bin      string        // netlab's binaries (make build)
	Self     string        // this program, for the Go anchors
	Duration time.Duration // per measurement
	WorkDir  string        // scratch space (nginx config)
	// Containers, when set, adds a netlab-container row to each workload:
	// the service's image on a bridge network.
	Containers *Containers
}

// withContainer puts the container row after netlab's own.
func (c Config) withContainer(ts []Target, service, port string, env ...string) []Target {
	if c.Containers == nil {
		return ts
	}
	t := Target{Name: "netlab-container", Start: func(ctx context.Context) (*Proc, error) {
		p, _, err := c.Containers.Start(ctx, service, port, append([]string{"LOG_LEVEL=warn"}, env...))
		return p, err
	}}
	return append(ts[:1:1], append([]Target{t}, ts[1:]...)...)
}

// lookTool finds an anchor tool on PATH or in ~/go/bin.
func lookTool(name string) (string, bool) {
	if p, err := exec.LookPath(name); err == nil {
		return p, true
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, "go", "bin", name)
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
	}
	return "", false
}

func missing(name, how string) Target {
	return Target{Name: name, Start: func(context.Context) (*Proc, error) {
		return nil, fmt.Errorf("%s is not installed (%s)", name, how)
	}}
}

func portAddr() (string, error) {
	p, err := FreePort()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("127.0.0.1:%d", p), nil
}

// tcpEchoTargets are netlab's tcp-echo and the echo servers it competes with.
func (c Config) tcpEchoTargets() []Target {
	ts := []Target{
		{Name: "netlab", Start: func(ctx context.Context) (*Proc, error) {
			addr, err := portAddr()
			if err != nil {
				return nil, err
			}
			admin, _ := portAddr()
			return StartProc(ctx, "netlab tcp-echo", addr,
				[]string{"LISTEN_ADDR=" + addr, "ADMIN_ADDR=" + admin, "LOG_LEVEL=warn", "MAX_CONNS=20000"},
				nil, filepath.Join(c.Bin, "tcp-echo"))
		}},
		{Name: "go-copy", Start: func(ctx context.Context) (*Proc, error) {
			addr, err := portAddr()
			if err != nil {
				return nil, err
			}
			return StartProc(ctx, "go io.Copy echo", addr, nil, nil, c.Self, "serve", "tcp-copy", addr)
		}},
	}
	if fortio, ok := lookTool("fortio"); ok {
		ts = append(ts, Target{Name: "fortio", Start: func(ctx context.Context) (*Proc, error) {
			addr, err := portAddr()
			if err != nil {
				return nil, err
			}
			return StartProc(ctx, "fortio tcp-echo", addr, nil, nil, fortio, "tcp-echo", "-loglevel", "Warning", "-tcp-port", addr)
		}})
	} else {
		ts = append(ts, missing("fortio", "make bench-tools: go install fortio.org/fortio@v1.68.2"))
	}
	if socat, ok := lookTool("socat"); ok {
		ts = append(ts, Target{Name: "socat", Start: func(ctx context.Context) (*Proc, error) {
			addr, err := portAddr()
			if err != nil {
				return nil, err
			}
			_, port, _ := strings.Cut(addr, ":")
			return StartProc(ctx, "socat", addr, nil, nil, socat,
				"TCP-LISTEN:"+port+",bind=127.0.0.1,reuseaddr,fork,backlog=1024", "PIPE")
		}})
	} else {
		ts = append(ts, missing("socat", "make bench-tools: apt-get install socat"))
	}
	return c.withContainer(ts, "tcp-echo", "65432", "MAX_CONNS=20000")
}

// runJSON runs a netlab client and decodes its --json output.
func runJSON(ctx context.Context, out any, argv ...string) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", filepath.Base(argv[0]), err, strings.TrimSpace(stderr.String()))
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		return fmt.Errorf("%s: bad JSON: %w", filepath.Base(argv[0]), err)
	}
	return nil
}

// TCPBulk streams a large payload over one connection and checks the echo.
func (c Config) TCPBulk() Workload {
	size := "1GiB"
	return Workload{
		Name: "tcp-bulk", Unit: "MB/s", OpUnit: "MB", Reference: "go-copy", Subject: "netlab",
		About:   "tcp-echo-client --bulk " + size + ": one connection, echo verified",
		Goals:   []Goal{{"go-copy", 1.0, Throughput}, {"fortio", 2.4, Throughput}},
		Targets: c.tcpEchoTargets(),
		Drive: func(ctx context.Context, addr string) (Sample, error) {
			var r struct {
				Bytes int64   `json:"bytes"`
				MBps  float64 `json:"mb_per_s"`
				Match bool    `json:"match"`
			}
			if err := runJSON(ctx, &r, filepath.Join(c.Bin, "tcp-echo-client"), "--addr", addr, "--bulk", size, "--json", "--timeout", "30s"); err != nil {
				return Sample{}, err
			}
			if !r.Match {
				return Sample{}, fmt.Errorf("echo did not match")
			}
			return Sample{Rate: r.MBps, Ops: float64(r.Bytes) / 1e6}, nil
		},
	}
}

// TCPRequestResponse is 64-byte request/response over conns connections.
func (c Config) TCPRequestResponse(conns int) Workload {
	return Workload{
		Name: fmt.Sprintf("tcp-rr-%d", conns), Unit: "ops/s", OpUnit: "op", Reference: "go-copy", Subject: "netlab",
		About:   fmt.Sprintf("tcp-echo-client --load: %d connections, 64 B request/response, one outstanding each", conns),
		Goals:   []Goal{{"go-copy", 1.0, Throughput}, {"go-copy", 1.0, ServerCPU}, {"fortio", 1.0, TailLatency}},
		Targets: c.tcpEchoTargets(),
		Drive: func(ctx context.Context, addr string) (Sample, error) {
			var r struct {
				Ops       float64 `json:"ops"`
				OpsPerSec float64 `json:"ops_per_second"`
				Latency   struct {
					P50 float64 `json:"p50"`
					P99 float64 `json:"p99"`
				} `json:"latency_us"`
			}
			err := runJSON(ctx, &r, filepath.Join(c.Bin, "tcp-echo-client"), "--addr", addr, "--load",
				"--connections", strconv.Itoa(conns), "--size", "64", "--duration", c.Duration.String(), "--json")
			if err != nil {
				return Sample{}, err
			}
			return Sample{Rate: r.OpsPerSec, Ops: r.Ops,
				P50: time.Duration(r.Latency.P50 * float64(time.Microsecond)),
				P99: time.Duration(r.Latency.P99 * float64(time.Microsecond))}, nil
		},
	}
}

// HTTPHello is GET / with 50 keep-alive connections.
func (c Config) HTTPHello() Workload {
	w := Workload{
		Name: "http-hello", Unit: "req/s", OpUnit: "req", Reference: "nginx", Subject: "netlab",
		Goals: []Goal{{"nginx", 0.8, Throughput}},
	}
	w.Targets = []Target{
		{Name: "netlab", Start: func(ctx context.Context) (*Proc, error) {
			addr, err := portAddr()
			if err != nil {
				return nil, err
			}
			admin, _ := portAddr()
			return StartProc(ctx, "netlab http-hello", addr,
				[]string{"LISTEN_ADDR=" + addr, "ADMIN_ADDR=" + admin, "LOG_LEVEL=warn", "ACCESS_LOG=false", "MAX_CONCURRENT=100000"},
				nil, filepath.Join(c.Bin, "http-hello"))
		}},
		{Name: "go-net-http", Start: func(ctx context.Context) (*Proc, error) {
			addr, err := portAddr()
			if err != nil {
				return nil, err
			}
			return StartProc(ctx, "go net/http hello", addr, nil, nil, c.Self, "serve", "http-hello", addr)
		}},
	}
	if nginx, ok := lookTool("nginx"); ok {
		w.Targets = append(w.Targets, Target{Name: "nginx", Start: func(ctx context.Context) (*Proc, error) {
			addr, err := portAddr()
			if err != nil {
				return nil, err
			}
			dir, err := os.MkdirTemp(c.WorkDir, "nginx-")
			if err != nil {
				return nil, err
			}
			conf, err := nginxConfig(dir, addr)
			if err != nil {
				return nil, err
			}
			return StartProc(ctx, "nginx", addr, nil, nil, nginx, "-p", dir, "-c", conf)
		}})
	} else {
		w.Targets = append(w.Targets, missing("nginx", "make bench-tools: apt-get install nginx-light"))
		w.Reference = "go-net-http"
	}
	w.Targets = c.withContainer(w.Targets, "http-hello", "8000", "ACCESS_LOG=false", "MAX_CONCURRENT=100000")
	if wrk, ok := lookTool("wrk"); ok {
		w.About = fmt.Sprintf("wrk -t1 -c50 -d%s GET / (the load generator of the goal's reference figures)", c.Duration)
		w.Drive = func(ctx context.Context, addr string) (Sample, error) {
			return runWrk(ctx, wrk, addr, c.Duration)
		}
	} else {
		w.About = "http-client --count 100000 --concurrency 50 GET / (wrk not installed)"
		w.Drive = func(ctx context.Context, addr string) (Sample, error) {
			var r struct {
				Requests float64 `json:"requests"`
				Errors   int     `json:"errors"`
				RPS      float64 `json:"requests_per_second"`
				Total    struct {
					P50 int64 `json:"p50_ns"`
					P99 int64 `json:"p99_ns"`
				} `json:"total"`
			}
			err := runJSON(ctx, &r, filepath.Join(c.Bin, "http-client"), "--count", "100000", "--concurrency", "50",
				"--quiet", "--json", "http://"+addr+"/")
			if err != nil {
				return Sample{}, err
			}
			return Sample{Rate: r.RPS, Ops: r.Requests, P50: time.Duration(r.Total.P50), P99: time.Duration(r.Total.P99)}, nil
		}
	}
	return w
}

var (
	wrkRate = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkPct  = regexp.MustCompile(`^\s+(50|99)%\s+([0-9.]+)(us|ms|s)`)
	wrkReqs = regexp.MustCompile(`([0-9]+) requests in`)
)

func runWrk(ctx context.Context, wrk, addr string, d time.Duration) (Sample, error) {
	secs := max(1, int(d.Seconds()))
	cmd := exec.CommandContext(ctx, wrk, "-t1", "-c50", fmt.Sprintf("-d%ds", secs), "--latency", "http://"+addr+"/")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return Sample{}, fmt.Errorf("wrk: %w: %s", err, out)
	}
	return parseWrk(string(out))
}

func parseWrk(out string) (Sample, error) {
	var s Sample
	m := wrkRate.FindStringSubmatch(out)
	if m == nil {
		return s, fmt.Errorf("wrk output has no Requests/sec: %q", out)
	}
	s.Rate, _ = strconv.ParseFloat(m[1], 64)
	if m := wrkReqs.FindStringSubmatch(out); m != nil {
		s.Ops, _ = strconv.ParseFloat(m[1], 64)
	}
	if strings.Contains(out, "Non-2xx") || strings.Contains(out, "Socket errors") {
		return s, fmt.Errorf("wrk saw errors: %q", out)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		m := wrkPct.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		v, _ := strconv.ParseFloat(m[2], 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[m[3]]
		d := time.Duration(v * float64(unit))
		if m[1] == "50" {
			s.P50 = d
		} else {
			s.P99 = d
		}
	}
	return s, nil
}

// UDPRequestReply is 64-byte request/reply with K sockets, one request
// outstanding per socket.
func (c Config) UDPRequestReply(sockets int) Workload {
	w := Workload{
		Name: fmt.Sprintf("udp-rr-%d", sockets), Unit: "replies/s", OpUnit: "reply", Reference: "go", Subject: "netlab",
		About: fmt.Sprintf("udp-client --load: %d sockets, 64 B probes, one outstanding each", sockets),
		Goals: []Goal{{"python", 1.3, Throughput}, {"python", 0.5, ServerCPU}},
	}
	udpTarget := func(name string, argv func(addr string) []string, env func(addr string) []string, ready func(addr string) func(context.Context) error) Target {
		return Target{Name: name, Start: func(ctx context.Context) (*Proc, error) {
			addr, err := portAddr() // a free TCP port is almost always a free UDP port too
			if err != nil {
				return nil, err
			}
			var e []string
			if env != nil {
				e = env(addr)
			}
			return StartProc(ctx, name, addr, e, ready(addr), argv(addr)...)
		}}
	}
	echoReady := func(addr string) func(context.Context) error {
		return func(ctx context.Context) error { return udpEchoReady(ctx, addr) }
	}
	var admin string
	w.Targets = []Target{
		udpTarget("netlab", func(string) []string { return []string{filepath.Join(c.Bin, "udp-responder")} },
			func(addr string) []string {
				admin, _ = portAddr()
				// The per-source limit protects a shared stack; a benchmark
				// from one source would only measure it.
				return []string{"LISTEN_ADDR=" + addr, "ADMIN_ADDR=" + admin, "LOG_LEVEL=warn",
					"RATE_LIMIT=10000000", "RATE_BURST=1000000"}
			},
			func(string) func(context.Context) error {
				return func(ctx context.Context) error { return waitHTTP(ctx, "http://"+admin+"/readyz") }
			}),
		udpTarget("go", func(addr string) []string { return []string{c.Self, "serve", "udp-echo", addr} }, nil, echoReady),
	}
	if py, ok := lookTool("python3"); ok {
		script := filepath.Join(c.WorkDir, "udp_echo.py")
		w.Targets = append(w.Targets, udpTarget("python", func(addr string) []string {
			_ = os.WriteFile(script, []byte(pythonUDPEcho), 0o644)
			_, port, _ := strings.Cut(addr, ":")
			return []string{py, script, port}
		}, nil, echoReady))
	} else {
		w.Targets = append(w.Targets, missing("python", "install python3"))
	}
	if fortio, ok := lookTool("fortio"); ok {
		w.Targets = append(w.Targets, udpTarget("fortio", func(addr string) []string {
			return []string{fortio, "udp-echo", "-loglevel", "Warning", "-udp-port", addr}
		}, nil, echoReady))
	} else {
		w.Targets = append(w.Targets, missing("fortio", "make bench-tools: go install fortio.org/fortio@v1.68.2"))
	}
	w.Targets = c.withContainer(w.Targets, "udp-responder", "12345", "RATE_LIMIT=10000000", "RATE_BURST=1000000")
	w.Drive = func(ctx context.Context, addr string) (Sample, error) {
		var r struct {
			Received float64 `json:"received"`
			RPS      float64 `json:"replies_per_second"`
			RTT      struct {
				P50 float64 `json:"p50"`
				P99 float64 `json:"p99"`
			} `json:"rtt_us"`
		}
		err := runJSON(ctx, &r, filepath.Join(c.Bin, "udp-client"), "--addr", addr, "--load",
			"--sockets", strconv.Itoa(sockets), "--size", "64", "--duration", c.Duration.String(), "--json")
		if err != nil {
			return Sample{}, err
		}
		return Sample{Rate: r.RPS, Ops: r.Received,
			P50: time.Duration(r.RTT.P50 * float64(time.Microsecond)),
			P99: time.Duration(r.RTT.P99 * float64(time.Microsecond))}, nil
	}
	return w
}

func waitHTTP(ctx context.Context, url string) error {
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// LoopbackCeiling is iperf3's one-stream TCP throughput on loopback: what
// this machine can move at all, the ceiling for the bulk rows.
func (c Config) LoopbackCeiling() Workload {
	w := Workload{
		Name: "loopback-ceiling", Unit: "MB/s", OpUnit: "MB", Reference: "iperf3",
		About: fmt.Sprintf("iperf3 -c -t %s, one TCP stream: the loopback ceiling for the bulk rows", c.Duration),
	}
	iperf, ok := lookTool("iperf3")
	if !ok {
		w.Targets = []Target{missing("iperf3", "make bench-tools: apt-get install iperf3")}
		return w
	}
	w.Targets = []Target{{Name: "iperf3", Start: func(ctx context.Context) (*Proc, error) {
		addr, err := portAddr()
		if err != nil {
			return nil, err
		}
		_, port, _ := strings.Cut(addr, ":")
		return StartProc(ctx, "iperf3 server", addr, nil,
			func(context.Context) error { return waitListening(ctx, port) },
			iperf, "-s", "-B", "127.0.0.1", "-p", port)
	}}}
	w.Drive = func(ctx context.Context, addr string) (Sample, error) {
		_, port, _ := strings.Cut(addr, ":")
		var r struct {
			End struct {
				Received struct {
					Bytes float64 `json:"bytes"`
					BPS   float64 `json:"bits_per_second"`
				} `json:"sum_received"`
			} `json:"end"`
		}
		secs := strconv.Itoa(max(1, int(c.Duration.Seconds())))
		if err := runJSON(ctx, &r, iperf, "-c", "127.0.0.1", "-p", port, "-t", secs, "-J"); err != nil {
			return Sample{}, err
		}
		return Sample{Rate: r.End.Received.BPS / 8 / 1e6, Ops: r.End.Received.Bytes / 1e6}, nil
	}
	return w
}

// waitListening waits for a listening socket without connecting to it
// (iperf3 takes any connection as a test).
func waitListening(ctx context.Context, port string) error {
	p, err := strconv.Atoi(port)
	if err != nil {
		return err
	}
	return poll(ctx, 10*time.Second, func() (bool, error) { return listening(p), nil })
}
