package bench

// The HTTP workload: GET over 50 keep-alive connections, driven by wrk
// when it is installed, else by netlab's own http-client; and the anchors
// it compares with: net/http, nginx, and the Go servers people deploy for
// this job (go-httpbin, podinfo, whoami), each on its cheapest route.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/netlab/netlab/lab/internal/proc"
)

// HTTPHello is GET with 50 keep-alive connections, of / on netlab, the
// net/http anchor and nginx, and of each Go server's cheapest hello-like
// route (goHTTPServers).
func (c Config) HTTPHello() Workload {
	w := Workload{
		Name: "http-hello", Unit: "req/s", OpUnit: "req", Reference: "nginx", Subject: "netlab",
		Goals: httpHelloGoals(),
	}
	nginx, ok := c.nginxTarget()
	if !ok {
		nginx = missing("nginx", "make bench-tools: apt-get install nginx-light")
		w.Reference = "go-net-http"
	}
	w.Targets = []Target{
		c.netlabTarget("http-hello", "ACCESS_LOG=false", "MAX_CONCURRENT=100000"),
		c.toolTarget("go-net-http", nil, func(addr string) []string { return c.serveArgs("http-hello", addr) }),
		nginx,
	}
	for _, g := range goHTTPServers {
		w.Targets = append(w.Targets, c.goHTTPTarget(g))
	}
	w.Targets = c.withContainer(w.Targets, "http-hello", "8000", "ACCESS_LOG=false", "MAX_CONCURRENT=100000")
	for i := range w.Targets {
		if w.Targets[i].Route == "" {
			w.Targets[i].Route = "/"
		}
	}
	gets := routesAbout(w.Targets)
	if wrk, ok := lookTool("wrk"); ok {
		w.About = fmt.Sprintf("wrk -t1 -c50 -d%s (the load generator of the goal's reference figures), %s", c.Duration, gets)
		w.DriveRoute = func(ctx context.Context, addr, route string) (Sample, error) {
			return runWrk(ctx, wrk, addr, route, c.Duration)
		}
	} else {
		w.About = "http-client --count 100000 --connections 50 (wrk not installed), " + gets
		w.DriveRoute = c.httpClientLoad
	}
	return w
}

// httpHelloGoals: the nginx ceiling, the bare net/http handler (no slower,
// no more CPU per request, within the noise of a shared machine), and the
// Go servers people deploy for this job.
func httpHelloGoals() []Goal {
	goals := []Goal{
		{"nginx", 0.8, Throughput},
		{"go-net-http", 0.95, Throughput},
		{"go-net-http", 1.05, ServerCPU},
	}
	for _, g := range goHTTPServers {
		goals = append(goals, Goal{g.name, 1.0, Throughput})
	}
	return goals
}

// nginxTarget is nginx serving the same hello; false when nginx is not
// installed.
func (c Config) nginxTarget() (Target, bool) {
	nginx, ok := lookTool("nginx")
	if !ok {
		return Target{}, false
	}
	return Target{Name: "nginx", Start: func(ctx context.Context) (*Server, error) {
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
	}}, true
}

// goHTTPServer is a Go HTTP server people run for this job, installed by
// make bench-tools with go install, and how to run it comparably with
// http-hello: on loopback, no access log, one process, GOMAXPROCS left to
// the runtime.
type goHTTPServer struct {
	name    string
	pkg     string // the main package go install builds
	version string // as pinned in make bench-tools
	route   string // its cheapest hello-like answer (docs/benchmarks.md says why)
	note    string // why it may be missing, beyond "not installed"
	env     []string
	// argv is its command line for a loopback port, with dir an empty
	// directory of its own.
	argv func(bin, port, dir string) []string
}

// goHTTPServers are the Go servers http-hello is measured beside.
var goHTTPServers = []goHTTPServer{
	{
		name: "go-httpbin", pkg: "github.com/mccutchen/go-httpbin/v2/cmd/go-httpbin", version: "v2.26.0",
		route: "/status/200", // 200 with an empty body, no JSON
		argv: func(bin, port, _ string) []string {
			return []string{bin, "-host", "127.0.0.1", "-port", port, "-log-level", "OFF"}
		},
	},
	{
		// Release 6.9.2: podinfo's tags have no "v", so the module proxy
		// knows its commits by pseudo-version only.
		name: "podinfo", pkg: "github.com/stefanprodan/podinfo/cmd/podinfo", version: "v1.8.1-0.20250910200901-e86405a8674e",
		route: "/healthz", // {"status":"OK"}, its liveness probe
		argv: func(bin, port, dir string) []string {
			// The paths keep it from reading a config.yaml or ./ui of the
			// directory the bench runs in; warn drops its per-request log.
			return []string{bin, "--host", "127.0.0.1", "--port", port, "--level", "warn",
				"--config-path", dir, "--data-path", dir, "--ui-path", dir}
		},
	},
	{
		name: "whoami", pkg: "github.com/traefik/whoami", version: "v1.11.0",
		route: "/bench", // "1": the route its README names for benchmarks
		note:  "the Go module proxy may refuse it: 403 This module version is not available",
		// Its access log is off unless -verbose; no telemetry exporter.
		env: []string{"OTEL_LOGS_EXPORTER=none", "OTEL_TRACES_EXPORTER=none", "OTEL_METRICS_EXPORTER=none"},
		// It has no listen-address flag: it listens on the port on every
		// interface, and the load goes to loopback.
		argv: func(bin, port, _ string) []string { return []string{bin, "-port", port} },
	},
}

// install is how make bench-tools installs it.
func (g goHTTPServer) install() string {
	how := "make bench-tools: go install " + g.pkg + "@" + g.version
	if g.note != "" {
		how += "; " + g.note
	}
	return how
}

// goHTTPTarget starts g on a fresh loopback port, ready once its route
// answers 200; a missing target when it is not installed.
func (c Config) goHTTPTarget(g goHTTPServer) Target {
	bin, ok := lookGoTool(g.name, g.pkg)
	if !ok {
		t := missing(g.name, g.install())
		t.Route = g.route
		return t
	}
	return Target{Name: g.name, Route: g.route, Start: func(ctx context.Context) (*Server, error) {
		addr, err := proc.FreeAddr()
		if err != nil {
			return nil, err
		}
		dir, err := os.MkdirTemp(c.WorkDir, g.name+"-")
		if err != nil {
			return nil, err
		}
		ready, err := httpURL(addr, g.route)
		if err != nil {
			return nil, err
		}
		p, err := c.Procs.Start(ctx, g.name, g.env, proc.WaitHTTP(ready), g.argv(bin, portOf(addr), dir)...)
		if err != nil {
			return nil, err
		}
		return procServer(p, addr), nil
	}}
}

// routesAbout says which route the load requests of which targets, in
// the targets' order: "GET / (netlab, nginx), GET /bench (whoami)".
func routesAbout(ts []Target) string {
	var routes []string
	names := map[string][]string{}
	for _, t := range ts {
		if _, ok := names[t.Route]; !ok {
			routes = append(routes, t.Route)
		}
		names[t.Route] = append(names[t.Route], t.Name)
	}
	parts := make([]string, len(routes))
	for i, r := range routes {
		parts[i] = fmt.Sprintf("GET %s (%s)", r, strings.Join(names[r], ", "))
	}
	return strings.Join(parts, ", ")
}

// httpURL is the URL of route on addr ("/" when route is empty).
func httpURL(addr, route string) (string, error) {
	if route == "" {
		route = "/"
	}
	if !strings.HasPrefix(route, "/") {
		return "", fmt.Errorf("route %q: want a path that starts with /", route)
	}
	u := "http://" + addr + route
	if _, err := url.Parse(u); err != nil {
		return "", fmt.Errorf("route %q: %w", route, err)
	}
	return u, nil
}

// httpClientLoad runs netlab's http-client in load mode against route on
// addr.
func (c Config) httpClientLoad(ctx context.Context, addr, route string) (Sample, error) {
	u, err := httpURL(addr, route)
	if err != nil {
		return Sample{}, err
	}
	var r struct {
		Requests float64     `json:"requests"`
		Errors   int         `json:"errors"`
		RPS      float64     `json:"requests_per_second"`
		Latency  latencyJSON `json:"latency"`
	}
	err = runJSON(ctx, &r, filepath.Join(c.Bin, "http-client"), "--count", "100000", "--connections", "50",
		"--quiet", "--json", u)
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

func runWrk(ctx context.Context, wrk, addr, route string, d time.Duration) (Sample, error) {
	u, err := httpURL(addr, route)
	if err != nil {
		return Sample{}, err
	}
	secs := max(1, int(d.Seconds()))
	cmd := exec.CommandContext(ctx, wrk, "-t1", "-c50", fmt.Sprintf("-d%ds", secs), "--latency", u)
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
