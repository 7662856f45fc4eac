package bench

// The HTTP workload: GET / over 50 keep-alive connections, driven by wrk
// when it is installed, else by netlab's own http-client; and the net/http
// and nginx anchors it compares with.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/netlab/netlab/lab/internal/proc"
)

// HTTPHello is GET / with 50 keep-alive connections.
func (c Config) HTTPHello() Workload {
	w := Workload{
		Name: "http-hello", Unit: "req/s", OpUnit: "req", Reference: "nginx", Subject: "netlab",
		Goals: []Goal{{"nginx", 0.8, Throughput}},
	}
	w.Targets = []Target{
		c.netlabTarget("http-hello", "ACCESS_LOG=false", "MAX_CONCURRENT=100000"),
		c.toolTarget("go-net-http", nil, func(addr string) []string { return c.serveArgs("http-hello", addr) }),
	}
	if nginx, ok := lookTool("nginx"); ok {
		w.Targets = append(w.Targets, Target{Name: "nginx", Start: func(ctx context.Context) (*Server, error) {
			addr, err := proc.FreeAddr()
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
			return c.startTool(ctx, "nginx", addr, nil, nginx, "-p", dir, "-c", conf)
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
		w.About = "http-client --count 100000 --connections 50 GET / (wrk not installed)"
		w.Drive = c.httpClientLoad
	}
	return w
}

// httpClientLoad runs netlab's http-client in load mode against addr.
func (c Config) httpClientLoad(ctx context.Context, addr string) (Sample, error) {
	var r struct {
		Requests float64     `json:"requests"`
		Errors   int         `json:"errors"`
		RPS      float64     `json:"requests_per_second"`
		Latency  latencyJSON `json:"latency"`
	}
	err := runJSON(ctx, &r, filepath.Join(c.Bin, "http-client"), "--count", "100000", "--connections", "50",
		"--quiet", "--json", "http://"+addr+"/")
	if err != nil {
		return Sample{}, err
	}
	return Sample{Rate: r.RPS, Ops: r.Requests, P50: r.Latency.P50, P99: r.Latency.P99}, nil
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

// nginxConfig writes a configuration serving the same hello as http-hello
// and returns its path.
func nginxConfig(dir, addr string) (string, error) {
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		return "", err
	}
	conf := fmt.Sprintf(`worker_processes auto;
daemon off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    client_body_temp_path %[1]s/tmp/body;
    proxy_temp_path %[1]s/tmp/proxy;
    fastcgi_temp_path %[1]s/tmp/fastcgi;
    uwsgi_temp_path %[1]s/tmp/uwsgi;
    scgi_temp_path %[1]s/tmp/scgi;
    server {
        listen %[2]s backlog=4096;
        location / {
            default_type text/plain;
            return 200 "Hello, World!";
        }
    }
}
`, dir, addr)
	path := filepath.Join(dir, "nginx.conf")
	return path, os.WriteFile(path, []byte(conf), 0o644)
}

// serveHTTPHello is the http-hello anchor: net/http answering the same
// hello as nginxConfig.
func serveHTTPHello(ctx context.Context, addr string) error {
	hello := []byte("Hello, World!")
	srv := &http.Server{Addr: addr, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(hello)
	})}
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
