package bench

import (
	"context"
	"debug/buildinfo"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/internal/proc"
)

func TestHTTPURL(t *testing.T) {
	tests := []struct {
		route, want, err string
	}{
		{"", "http://127.0.0.1:8080/", ""},
		{"/", "http://127.0.0.1:8080/", ""},
		{"/status/200", "http://127.0.0.1:8080/status/200", ""},
		{"/base64/SGVsbG8sIFdvcmxkIQ==", "http://127.0.0.1:8080/base64/SGVsbG8sIFdvcmxkIQ==", ""},
		{"healthz", "", `route "healthz": want a path that starts with /`},
		{"/a\nb", "", `route "/a\nb": `},
	}
	for _, tt := range tests {
		got, err := httpURL("127.0.0.1:8080", tt.route)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("httpURL(%q) = %q, %v; want an error naming %q", tt.route, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("httpURL(%q) = %q, %v; want %q", tt.route, got, err, tt.want)
		}
	}
}

func TestRoutesAbout_GroupsTargetsByRouteInOrder(t *testing.T) {
	ts := []Target{
		{Name: "netlab", Route: "/"}, {Name: "go-httpbin", Route: "/status/200"},
		{Name: "nginx", Route: "/"}, {Name: "whoami", Route: "/bench"},
	}
	want := "GET / (netlab, nginx), GET /status/200 (go-httpbin), GET /bench (whoami)"
	if got := routesAbout(ts); got != want {
		t.Errorf("routesAbout = %q, want %q", got, want)
	}
}

func TestFmtBound(t *testing.T) {
	for b, want := range map[float64]string{0.8: "0.8", 1: "1.0", 0.95: "0.95", 1.05: "1.05", 2.4: "2.4"} {
		if got := fmtBound(b); got != want {
			t.Errorf("fmtBound(%v) = %q, want %q", b, got, want)
		}
	}
}

func TestHTTPHelloGoals(t *testing.T) {
	ms := time.Millisecond
	// Per-rep samples: netlab against each anchor (rate, then CPU over
	// 1000 requests); whoami is not installed, so it has none.
	rep := func(rate float64, cpu time.Duration) []Sample {
		return []Sample{{Rate: rate, Ops: 1000, CPU: cpu}}
	}
	tests := []struct {
		name    string
		samples map[string][]Sample
		want    map[string]string // goal line prefix -> its ending
	}{
		{"all met", map[string][]Sample{
			"netlab": rep(960, 10*ms), "nginx": rep(1000, 5*ms), "go-net-http": rep(1000, 9800*time.Microsecond),
			"go-httpbin": rep(500, 30*ms), "podinfo": rep(400, 40*ms),
		}, map[string]string{
			"throughput ≥ 0.8× nginx":           "met (0.960×)",
			"throughput ≥ 0.95× go-net-http":    "met (0.960×)",
			"server CPU/op ≤ 1.05× go-net-http": "met (1.020×)",
			"throughput ≥ 1.0× go-httpbin":      "met (1.920×)",
			"throughput ≥ 1.0× podinfo":         "met (2.400×)",
			"throughput ≥ 1.0× whoami":          "not checked, not measured (not installed or failed to start)",
		}},
		{"slower and costlier than net/http", map[string][]Sample{
			"netlab": rep(940, 10700*time.Microsecond), "go-net-http": rep(1000, 10*ms), "whoami": rep(950, 20*ms),
		}, map[string]string{
			"throughput ≥ 0.95× go-net-http":    "MISSED (0.940×)",
			"server CPU/op ≤ 1.05× go-net-http": "MISSED (1.070×)",
			"throughput ≥ 1.0× whoami":          "MISSED (0.989×)",
			"throughput ≥ 0.8× nginx":           "not checked",
		}},
	}
	w := Workload{Name: "http-hello", Subject: "netlab", Goals: httpHelloGoals()}
	for _, tt := range tests {
		lines := map[string]string{}
		for _, g := range checkGoals(w, tt.samples) {
			line := goalLine(g)
			head, result, _ := strings.Cut(strings.TrimPrefix(line, "goal http-hello: netlab "), ": ")
			lines[head] = result
		}
		for head, want := range tt.want {
			if got, ok := lines[head]; !ok || !strings.HasPrefix(got, want) {
				t.Errorf("%s: goal %q = %q, want %q (all: %v)", tt.name, head, got, want, lines)
			}
		}
	}
}

// testBinary is this test binary's path and the package its Go build
// information names: a Go program the tests can start and look up.
func testBinary(t *testing.T) (path, pkg string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	info, err := buildinfo.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	return self, info.Path
}

func TestFindGoTool_TakesOnlyABinaryBuiltFromThePackage(t *testing.T) {
	self, pkg := testBinary(t)
	other, goBin := t.TempDir(), t.TempDir()
	// A program of the same name earlier on the path (coreutils' whoami).
	if err := os.WriteFile(filepath.Join(other, "whoami"), []byte("#!/bin/sh\necho root\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, filepath.Join(goBin, "whoami")); err != nil {
		t.Fatal(err)
	}
	dirs := []string{"", other, goBin}
	if p, ok := findGoTool(dirs, "whoami", pkg); !ok || p != filepath.Join(goBin, "whoami") {
		t.Errorf("findGoTool = %q, %v; want the Go binary in %s", p, ok, goBin)
	}
	if p, ok := findGoTool(dirs, "whoami", "github.com/traefik/whoami"); ok {
		t.Errorf("findGoTool took %q, built from %s, for github.com/traefik/whoami", p, pkg)
	}
}

func TestHTTPHello_GoServersNotInstalledAreMissingRowsWithTheirRoutes(t *testing.T) {
	empty := t.TempDir()
	t.Setenv("PATH", empty)
	t.Setenv("GOBIN", "")
	t.Setenv("GOPATH", empty)
	t.Setenv("HOME", empty)
	w := Config{Bin: "bin", Duration: time.Second, WorkDir: empty}.HTTPHello()
	routes := map[string]string{}
	for _, tg := range w.Targets {
		routes[tg.Name] = tg.Route
	}
	want := map[string]string{"netlab": "/", "go-net-http": "/", "nginx": "/", "go-httpbin": "/status/200", "podinfo": "/healthz", "whoami": "/bench"}
	for name, route := range want {
		if routes[name] != route {
			t.Errorf("target %s has route %q, want %q", name, routes[name], route)
		}
	}
	ts, skipped := startTargets(t.Context(), Workload{Name: w.Name, DriveRoute: w.DriveRoute, Targets: w.Targets[3:]}, &strings.Builder{})
	if len(ts.names) != 0 || len(skipped) != 3 {
		t.Fatalf("started %v, skipped %v; want the three Go servers skipped", ts.names, skipped)
	}
	for _, s := range []string{
		"http-hello/go-httpbin: go-httpbin is not installed (make bench-tools: go install github.com/mccutchen/go-httpbin/v2/cmd/go-httpbin@v2.26.0)",
		"http-hello/podinfo: podinfo is not installed (make bench-tools: go install github.com/stefanprodan/podinfo/cmd/podinfo@v1.8.1-0.20250910200901-e86405a8674e)",
		"http-hello/whoami: whoami is not installed (make bench-tools: go install github.com/traefik/whoami@v1.11.0; the Go module proxy may refuse it: 403",
	} {
		if !strings.Contains(strings.Join(skipped, "\n"), s) {
			t.Errorf("skipped %q lacks %q", skipped, s)
		}
	}
	for _, s := range []string{"GET / (netlab, go-net-http, nginx)", "GET /status/200 (go-httpbin)", "GET /healthz (podinfo)", "GET /bench (whoami)"} {
		if !strings.Contains(w.About, s) {
			t.Errorf("About %q lacks %q", w.About, s)
		}
	}
}

func TestMakefile_InstallsEachGoServerPinned(t *testing.T) {
	mk, err := os.ReadFile("../../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range goHTTPServers {
		if want := "go install " + g.pkg + "@" + g.version; !strings.Contains(string(mk), want) {
			t.Errorf("Makefile lacks %q", want)
		}
	}
}

// fakeServerRoute is the one route the fake Go server answers on.
const fakeServerRoute = "/hello"

// TestFakeGoServer is not a test: run by the test binary started as a
// target with BENCH_FAKE_SERVER=1, it is a Go HTTP server on the port
// after "--" that spends 30 ms of CPU on each request to fakeServerRoute.
func TestFakeGoServer(t *testing.T) {
	if os.Getenv("BENCH_FAKE_SERVER") != "1" {
		t.Skip("the fake server of TestGoHTTPTarget_ReadyOnItsRouteDrivenThereAndCPUCounted")
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+fakeServerRoute, func(w http.ResponseWriter, _ *http.Request) {
		spinCPU(30 * time.Millisecond)
		_, _ = w.Write([]byte("hello"))
	})
	err := http.ListenAndServe("127.0.0.1:"+flag.Arg(0), mux)
	t.Fatal(err)
}

// spinCPU busies this process until it has used d more CPU time.
func spinCPU(d time.Duration) {
	used := func() time.Duration {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	for start := used(); used()-start < d; {
	}
}

func TestGoHTTPTarget_ReadyOnItsRouteDrivenThereAndCPUCounted(t *testing.T) {
	self, pkg := testBinary(t)
	dir := t.TempDir()
	if err := os.Symlink(self, filepath.Join(dir, "fake-go-server")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(filepath.ListSeparator)+os.Getenv("PATH"))
	var procs proc.Group
	defer procs.StopAll()
	c := Config{Duration: time.Second, WorkDir: t.TempDir(), Procs: &procs}
	target := c.goHTTPTarget(goHTTPServer{
		name: "fake-go-server", pkg: pkg, route: fakeServerRoute, env: []string{"BENCH_FAKE_SERVER=1"},
		argv: func(bin, port, _ string) []string { return []string{bin, "-test.run=^TestFakeGoServer$", "--", port} },
	})
	const requests = 5
	w := Workload{Name: "w", Unit: "req/s", OpUnit: "req", Reference: "fake-go-server", Subject: "fake-go-server",
		Targets: []Target{target},
		DriveRoute: func(ctx context.Context, addr, route string) (Sample, error) {
			return getN(ctx, "http://"+addr+route, requests)
		},
	}
	res, err := Run(t.Context(), []Workload{w}, 1, &strings.Builder{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 || len(res.Skipped) != 0 {
		t.Fatalf("result = %+v", res)
	}
	row := res.Rows[0]
	if row.Route != fakeServerRoute || row.Reps != 1 || len(row.Errors) != 0 {
		t.Fatalf("row = %+v, want one rep on %s", row, fakeServerRoute)
	}
	// 30 ms a request, less a 10 ms clock tick.
	if row.CPUPerOp < 28*time.Millisecond {
		t.Errorf("server CPU %v per request, want at least the 30 ms the server spends", row.CPUPerOp)
	}
	var table strings.Builder
	if err := WriteTable(&table, res); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "fake-go-server "+fakeServerRoute) {
		t.Errorf("table does not name the route:\n%s", table.String())
	}
	if md := Markdown(res, ""); !strings.Contains(md, "| w | fake-go-server "+fakeServerRoute+" |") {
		t.Errorf("markdown does not name the route:\n%s", md)
	}
}

// getN GETs url n times and counts the requests answered 200.
func getN(ctx context.Context, url string, n int) (Sample, error) {
	start := time.Now()
	for range n {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return Sample{}, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return Sample{}, err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return Sample{}, fmt.Errorf("%s: %s", url, resp.Status)
		}
	}
	return Sample{Rate: float64(n) / time.Since(start).Seconds(), Ops: float64(n)}, nil
}

func TestStartTargets_RouteNeedsAWorkloadThatDrivesRoutes(t *testing.T) {
	started := false
	w := Workload{Name: "tcp", Drive: func(context.Context, string) (Sample, error) { return Sample{}, nil },
		Targets: []Target{{Name: "x", Route: "/r", Start: func(context.Context) (*Server, error) {
			started = true
			return nil, errors.New("unreachable")
		}}}}
	ts, skipped := startTargets(t.Context(), w, &strings.Builder{})
	want := `tcp/x: route "/r", but the workload's load requests no routes`
	if started || len(ts.names) != 0 || len(skipped) != 1 || skipped[0] != want {
		t.Errorf("started %v, skipped %q; want %q and no start", started, skipped, want)
	}
}
