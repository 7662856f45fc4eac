package tests_test

// netlab exp: each built-in experiment in its quick form, end to end on
// freshly built images, in a compose project of its own; then the
// outputs, the figures against theory, and the teardown.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netlab/netlab/tests/e2e"
)

// expResult is the part of result.json the checks read.
type expResult struct {
	Schema     string   `json:"schema"`
	Name       string   `json:"name"`
	Parameter  string   `json:"parameter"`
	Project    string   `json:"compose_project"`
	Mechanisms []string `json:"mechanisms"`
	Points     []struct {
		Value    float64 `json:"value"`
		Measures []struct {
			Workload string    `json:"workload"`
			Metric   string    `json:"metric"`
			Reps     []float64 `json:"repetitions"`
			Samples  int       `json:"samples"`
			Theory   *float64  `json:"theory"`
			Summary  struct {
				N    int     `json:"n"`
				Mean float64 `json:"mean"`
			} `json:"summary"`
			BandLow  *float64 `json:"band_low"`
			BandHigh *float64 `json:"band_high"`
			Within   *bool    `json:"within_band"`
		} `json:"measures"`
	} `json:"points"`
	Notes []string `json:"notes"`
}

// expCmd runs the netlab command on the tests' images, from the
// repository root (where it finds docker-compose.yml).
func expCmd(ctx context.Context, t *testing.T, bin string, args ...string) *exec.Cmd {
	t.Helper()
	root, err := e2e.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	repoTag := e2e.Image(e2e.TCPEcho) // PREFIX/tcp-echo:TAG
	prefix, tag := strings.TrimSuffix(repoTag[:strings.LastIndex(repoTag, ":")], "/"+e2e.TCPEcho), repoTag[strings.LastIndex(repoTag, ":")+1:]
	cmd := exec.CommandContext(ctx, bin, append([]string{"exp"}, args...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "NETLAB_IMAGE_PREFIX="+prefix, "NETLAB_TAG="+tag)
	return cmd
}

var projectRE = regexp.MustCompile(`starting compose project (netlab-exp-[a-z0-9-]+)`)

func TestExp_QuickBuiltinsEndToEnd(t *testing.T) {
	e2e.RequireShaper(t)
	bin := e2e.NetlabBinary(t)
	for _, name := range []string{"loss", "rate", "latency-matrix", "http-rtt", "partition-heal", "kurose-ross"} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
			defer cancel()
			cmd := expCmd(ctx, t, bin, "run", name, "--quick", "--out", out, "--seed", "16")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			start := time.Now()
			err := cmd.Run()
			took := time.Since(start)
			m := projectRE.FindStringSubmatch(stderr.String())
			if m != nil {
				assertExpLeftNothing(t, m[1])
			}
			if err != nil {
				t.Fatalf("netlab exp run %s --quick: %v\n%s\n%s", name, err, stderr.String(), stdout.String())
			}
			t.Logf("netlab exp run %s --quick took %v:\n%s", name, took.Round(time.Second), stderr.String())
			if m == nil {
				t.Fatalf("progress does not name the compose project:\n%s", stderr.String())
			}
			if !strings.Contains(stderr.String(), "step 1/") || !strings.Contains(stderr.String(), "left ") {
				t.Errorf("no progress (step, time left) on stderr:\n%s", stderr.String())
			}
			res := checkOutputs(t, out, name)
			if res.Project != m[1] {
				t.Errorf("result.json names project %q, progress %q", res.Project, m[1])
			}
			switch name {
			case "loss":
				checkLoss(t, res)
			case "rate":
				checkRate(t, res)
			case "latency-matrix":
				checkMatrix(t, res, out)
			case "http-rtt":
				checkHTTPRTT(t, res, out)
			case "partition-heal":
				checkPartitionHeal(t, res, out)
			case "kurose-ross":
				checkKuroseRoss(t, res, out)
			}
		})
	}
}

// readOutput returns one of an experiment's output files.
func readOutput(t *testing.T, dir, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return data
}

// expectPNG asserts an experiment's output file is a PNG image.
func expectPNG(t *testing.T, dir, name string) {
	t.Helper()
	if _, err := png.Decode(bytes.NewReader(readOutput(t, dir, name))); err != nil {
		t.Errorf("%s: %v", name, err)
	}
}

// checkOutputs asserts every file is there and well formed, and that the
// table's figures are the series'.
func checkOutputs(t *testing.T, dir, name string) expResult {
	t.Helper()
	read := func(f string) []byte { return readOutput(t, dir, f) }
	specYAML := string(read("spec.yaml"))
	for _, want := range []string{"# netlab exp run " + name + ", quick true, seed 16", "# kernel: ", "# docker: ", "# image ", "name: " + name} {
		if !strings.Contains(specYAML, want) {
			t.Errorf("spec.yaml lacks %q:\n%s", want, specYAML)
		}
	}
	var res expResult
	if err := json.Unmarshal(read("result.json"), &res); err != nil || res.Schema != "netlab-exp/1" || res.Name != name || len(res.Points) == 0 {
		t.Fatalf("result.json: %v, %+v", err, res)
	}
	// kurose-ross impairs nothing: the upload caps are the nodes' own.
	if len(res.Mechanisms) == 0 && name != "kurose-ross" {
		t.Error("result.json names no impairment mechanism")
	}
	if res.Parameter != "none" { // a spec of one point has no sweep plot
		expectPNG(t, dir, name+".png")
		if svg := read(name + ".svg"); !bytes.Contains(svg, []byte("<svg")) || !bytes.Contains(svg, []byte("theory")) {
			t.Errorf("%s.svg is not an SVG with its theory line", name)
		}
	}
	html := string(read("report.html"))
	if !strings.Contains(html, `src="data:image/png;base64,`) || strings.Contains(html, "http://") || strings.Contains(html, "https://") {
		t.Error("report.html: want the plot inline and nothing from the network")
	}
	series := summaries(t, read("series.csv"))
	table := string(read("table.md"))
	for i, p := range res.Points {
		for _, m := range p.Measures {
			reps := series[fmt.Sprintf("%d/%s/%s", i, m.Workload, m.Metric)]
			if len(reps) != len(m.Reps) || len(reps) == 0 {
				t.Errorf("point %d %s: series has %d repetitions, result.json %d", i, m.Workload, len(reps), len(m.Reps))
				continue
			}
			mean := 0.0
			for _, v := range reps {
				mean += v
			}
			mean /= float64(len(reps))
			if math.Abs(mean-m.Summary.Mean) > 1e-9*math.Max(1, math.Abs(mean)) {
				t.Errorf("point %d %s: result.json mean %v, series mean %v", i, m.Workload, m.Summary.Mean, mean)
			}
			row := tableRow(table, p.Value, m.Workload, m.Metric)
			if row == nil {
				t.Errorf("table.md has no row for %v %s:\n%s", p.Value, m.Workload, table)
				continue
			}
			got, err := strconv.ParseFloat(row[3], 64)
			if err != nil || math.Abs(got-mean) > 0.0005*math.Max(1, math.Abs(mean)) {
				t.Errorf("table.md's mean %q for %v %s, the series' %v", row[3], p.Value, m.Workload, mean)
			}
		}
	}
	return res
}

// summaries are series.csv's per-repetition figures by point/workload/metric.
func summaries(t *testing.T, data []byte) map[string][]float64 {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil || len(recs) < 2 || strings.Join(recs[0], ",") != "point,value,repetition,source,t_s,metric,value_of_metric" {
		t.Fatalf("series.csv: %v, %d rows", err, len(recs))
	}
	out := map[string][]float64{}
	sources := map[string]bool{}
	for _, r := range recs[1:] {
		sources[r[3]] = true
		if w, ok := strings.CutPrefix(r[3], "summary:"); ok {
			v, err := strconv.ParseFloat(r[6], 64)
			if err != nil {
				t.Fatalf("series.csv row %v: %v", r, err)
			}
			out[r[0]+"/"+w+"/"+r[5]] = append(out[r[0]+"/"+w+"/"+r[5]], v)
		}
	}
	// The clients' intervals and every container's /metrics are there.
	var clients, containers int
	for s := range sources {
		switch {
		case strings.HasPrefix(s, "workload:"):
			clients++
		case strings.HasSuffix(s, "-1"):
			containers++
		}
	}
	if clients == 0 || containers == 0 {
		t.Errorf("series.csv sources %v: want client intervals and container scrapes", sources)
	}
	return out
}

// tableRow is table.md's row of a point, workload and metric, split in
// cells.
func tableRow(table string, value float64, workload, metric string) []string {
	sc := bufio.NewScanner(strings.NewReader(table))
	for sc.Scan() {
		cells := strings.Split(strings.Trim(sc.Text(), "| "), " | ")
		if len(cells) < 4 || !strings.HasPrefix(cells[1], workload+" (") || !strings.HasPrefix(cells[2], metric+" (") {
			continue
		}
		if v, err := strconv.ParseFloat(cells[0], 64); err == nil && v == value {
			return cells
		}
	}
	return nil
}

// checkLoss: every repetition's measured loss within 4σ of the p set;
// TCP retransmits more under the highest loss than without.
func checkLoss(t *testing.T, res expResult) {
	t.Helper()
	checkTCPUnderLoss(t, res)
	for _, p := range res.Points {
		m := p.Measures[0]
		q := p.Value / 100
		sigma := 100 * math.Sqrt(q*(1-q)/float64(m.Samples))
		slack := 100 / float64(m.Samples) // one probe
		for _, v := range m.Reps {
			within(t, fmt.Sprintf("loss %% at p = %v %% (n %d)", p.Value, m.Samples), v, p.Value-4*sigma-slack, p.Value+4*sigma+slack)
		}
		if m.Within == nil || !*m.Within {
			t.Errorf("p = %v: result.json says the loss is not within its band", p.Value)
		}
	}
}

// checkTCPUnderLoss: the bulk echo under the highest loss retransmitted
// more segments than without loss, and completed.
func checkTCPUnderLoss(t *testing.T, res expResult) {
	t.Helper()
	figure := func(value float64, metric string) float64 {
		for _, p := range res.Points {
			for _, m := range p.Measures {
				if p.Value == value && m.Workload == "tcp" && m.Metric == metric {
					return m.Summary.Mean
				}
			}
		}
		t.Fatalf("no tcp %s at loss %v", metric, value)
		return 0
	}
	lo, hi := res.Points[0].Value, res.Points[0].Value
	for _, p := range res.Points {
		lo, hi = math.Min(lo, p.Value), math.Max(hi, p.Value)
	}
	// Retransmissions, not goodput: one short transfer's goodput under
	// loss varies by two orders of magnitude from run to run (fast
	// recovery at a 0.1 ms RTT, or a timeout), its retransmissions do not.
	if a, b := figure(lo, "tcp_retransmits"), figure(hi, "tcp_retransmits"); b <= a {
		t.Errorf("TCP retransmitted %v segments under %v %% loss, %v under %v %%: the loss cost nothing", b, hi, a, lo)
	}
	if g := figure(hi, "echoed_mbit_per_s"); g <= 0 {
		t.Errorf("TCP goodput %v Mbit/s under %v %% loss: the transfer did not complete", g, hi)
	}
}

// checkRate: TCP, UDP and peer throughput at most the cap and at least
// 80 % of it, 70 % for the peer transfer (tbf here passes about 0.95 of
// the rate; headers take some more).
func checkRate(t *testing.T, res expResult) {
	t.Helper()
	for _, p := range res.Points {
		for _, m := range p.Measures {
			if m.Metric == "tcp_retransmits" {
				continue
			}
			// A peer transfer's time runs from the request to the last
			// piece verified: the first piece's request and the hashing
			// are in it besides the bytes, so it keeps less of the cap.
			low := 0.8
			if m.Metric == "peer_mbit_per_s" {
				low = 0.7
			}
			within(t, fmt.Sprintf("%s Mbit/s under a %v Mbit/s cap", m.Workload, p.Value), m.Summary.Mean, low*p.Value, 1.02*p.Value)
		}
	}
}

// checkMatrix: the quick latency matrix (udp-responder-1 … -3; 1 → 2
// delayed 20 ms on 1's way out, 2 ↔ 3 losing 5 % each way) has every
// ordered pair with every figure; the delayed pair shows the delay in
// both RTTs and in the one-way delay of its direction alone, the lossy
// pair its loss, the pair between 1 and 3 neither; the losses lie in
// their binomial bands (the delays' tolerance is left to the report: a
// user-space delayer on a loaded machine runs late); the heat maps and
// the matrix tables are there.
func checkMatrix(t *testing.T, res expResult, dir string) {
	t.Helper()
	fig := map[string]float64{}
	theory := map[string]float64{}
	for _, m := range res.Points[0].Measures {
		if m.Summary.N != 1 {
			t.Errorf("%s: %d repetitions, want the quick form's 1", m.Metric, m.Summary.N)
		}
		fig[m.Metric] = m.Summary.Mean
		if m.Theory != nil {
			theory[m.Metric] = *m.Theory
		}
		if strings.Contains(m.Metric, "loss_percent[") && (m.Within == nil || !*m.Within) {
			t.Errorf("%s: %v %%, not within its band around %v %%", m.Metric, m.Summary.Mean, theory[m.Metric])
		}
	}
	node := func(i int) string { return "udp-responder-" + strconv.Itoa(i) }
	cell := func(kind string, a, b int) float64 {
		t.Helper()
		k := kind + "[" + node(a) + "→" + node(b) + "]"
		v, ok := fig[k]
		if !ok {
			t.Errorf("result.json has no %s", k)
		}
		return v
	}
	for a := 1; a <= 3; a++ {
		for b := 1; b <= 3; b++ {
			for _, kind := range []string{"rtt_p50_ms", "rtt_p99_ms", "loss_percent", "one_way_p50_ms", "one_way_loss_percent"} {
				if a != b {
					cell(kind, a, b)
				}
			}
		}
	}
	if _, ok := fig[fmt.Sprintf("rtt_p50_ms[%s→%s]", node(1), node(4))]; ok {
		t.Error("the quick form measured a fourth replica")
	}
	base, ok := fig["base_rtt_p50_ms"]
	if !ok || base <= 0 || base > 5 {
		t.Fatalf("base RTT %v ms (%v), want a measured one under 5 ms", base, ok)
	}
	for _, p := range [][2]int{{1, 2}, {2, 1}} {
		within(t, fmt.Sprintf("RTT p50 %d → %d, 20 ms on the path, base %.2f ms", p[0], p[1], base), cell("rtt_p50_ms", p[0], p[1]), base+19, base+40)
	}
	within(t, "one-way 1 → 2 (delayed)", cell("one_way_p50_ms", 1, 2), 19, 40)
	within(t, "one-way 2 → 1 (not delayed)", cell("one_way_p50_ms", 2, 1), 0, 5)
	for _, p := range [][2]int{{2, 3}, {3, 2}} {
		th := theory[fmt.Sprintf("loss_percent[%s→%s]", node(p[0]), node(p[1]))]
		if l := cell("loss_percent", p[0], p[1]); l <= 0 || math.Abs(th-100*(1-0.95*0.95)) > 1e-6 {
			t.Errorf("loss %d → %d: %v %%, want some, against theory 9.75 %% (result.json: %v)", p[0], p[1], l, th)
		}
		within(t, fmt.Sprintf("RTT p50 %d → %d (loss only)", p[0], p[1]), cell("rtt_p50_ms", p[0], p[1]), 0, 5)
	}
	for _, p := range [][2]int{{1, 3}, {3, 1}} {
		within(t, fmt.Sprintf("RTT p50 %d → %d (unimpaired)", p[0], p[1]), cell("rtt_p50_ms", p[0], p[1]), 0, 5)
		within(t, fmt.Sprintf("loss %d → %d (unimpaired)", p[0], p[1]), cell("loss_percent", p[0], p[1]), 0, 3)
	}
	mechs := strings.Join(res.Mechanisms, "\n")
	for _, want := range []string{"udp-responder-1: delay egress: ", "(only traffic to udp-responder-2", "udp-responder-3: loss ingress: ", "(only traffic from udp-responder-2"} {
		if !strings.Contains(mechs, want) {
			t.Errorf("mechanisms lack %q:\n%s", want, mechs)
		}
	}
	for _, name := range []string{"latency-matrix-pairs-rtt", "latency-matrix-pairs-oneway"} {
		expectPNG(t, dir, name+".png")
		svg, err := os.ReadFile(filepath.Join(dir, name+".svg"))
		if err != nil || !bytes.Contains(svg, []byte(node(3))) || !bytes.Contains(svg, []byte("p50 (ms)")) {
			t.Errorf("%s.svg: %v; want the containers and the colour scale's unit", name, err)
		}
	}
	table := readOutput(t, dir, "table.md")
	for _, want := range []string{"## Latency matrix (pairs)", "| from \\ to | udp-responder-1 | udp-responder-2 | udp-responder-3 |", "## Theory per cell (pairs)", "## One-way delay and loss (pairs)"} {
		if !strings.Contains(string(table), want) {
			t.Errorf("table.md lacks %q", want)
		}
	}
}

// checkHTTPRTT: at each delay the three ways of fetching a page, each a
// median over its pages with a theory and a band. At 50 ms the theory is
// the textbook count of round trips (8, 5 and 2 for 4 objects) of about
// 50 ms; no page beats it; counted in the round trip measured there (the
// TCP connect time, which a delayer running late on a busy machine
// stretches as it stretches the page) each page is within a quarter of
// its count, at most a round trip over; and the pages order as their
// counts do. The round-trip section and its plot are written.
func checkHTTPRTT(t *testing.T, res expResult, dir string) {
	t.Helper()
	counts := map[string]float64{"non-persistent": 8, "persistent": 5, "multiplexed": 2}
	data := readOutput(t, dir, "series.csv")
	series := summaries(t, data)
	for i, p := range res.Points {
		if len(p.Measures) != len(counts) {
			t.Errorf("d = %v ms: %d measures, want one per way of fetching", p.Value, len(p.Measures))
			continue
		}
		var connects []float64
		means := map[string]float64{}
		for _, m := range p.Measures {
			n, ok := counts[m.Workload]
			if !ok || m.Metric != "page_ms" || m.Samples < 3 || m.Theory == nil || m.BandLow == nil || m.BandHigh == nil || m.Within == nil {
				t.Errorf("d = %v ms, %s: metric %s over %d pages, theory %v, band %v … %v", p.Value, m.Workload, m.Metric, m.Samples, m.Theory, m.BandLow, m.BandHigh)
				continue
			}
			means[m.Workload] = m.Summary.Mean
			connects = append(connects, series[fmt.Sprintf("%d/%s/connect_ms", i, m.Workload)]...)
			t.Logf("d = %v ms, %s: page %v ms, theory %.1f ms, band %.1f … %.1f, within %v", p.Value, m.Workload, m.Reps, *m.Theory, *m.BandLow, *m.BandHigh, *m.Within)
			if p.Value == 0 {
				continue
			}
			// RTT(d) = RTT₀ + d, RTT₀ well under a millisecond on a bridge.
			within(t, fmt.Sprintf("%s: theory / its %v round trips at d = %v ms", m.Workload, n, p.Value), *m.Theory/n, p.Value, p.Value+2)
			if m.Summary.Mean < *m.Theory {
				t.Errorf("d = %v ms, %s: page %v ms beats the theory's %v round trips (%v ms)", p.Value, m.Workload, m.Summary.Mean, n, *m.Theory)
			}
		}
		if p.Value == 0 || len(connects) == 0 {
			continue
		}
		slices.Sort(connects)
		rtt := connects[len(connects)/2]
		for w, n := range counts {
			within(t, fmt.Sprintf("%s at d = %v ms, in round trips of the %.1f ms connect", w, p.Value, rtt), means[w]/rtt, 0.75*n, 1.25*n+1)
		}
		if !(means["non-persistent"] > means["persistent"] && means["persistent"] > means["multiplexed"]) {
			t.Errorf("d = %v ms: pages %v, want non-persistent > persistent > multiplexed", p.Value, means)
		}
	}
	if !slices.ContainsFunc(res.Notes, func(n string) bool { return strings.Contains(n, "RTT₀ = ") }) {
		t.Errorf("notes %q do not give the base RTT", res.Notes)
	}
	table, err := os.ReadFile(filepath.Join(dir, "table.md"))
	if err != nil || !strings.Contains(string(table), "## Pages in round trips") || !strings.Contains(string(table), "](http-rtt-rtts.png)") {
		t.Errorf("table.md lacks the round-trip section (%v)", err)
	}
	expectPNG(t, dir, "http-rtt-rtts.png")
}

// assertExpLeftNothing checks that no container (the stack's, the clients',
// the shaper's) and no network of the project is left.
func assertExpLeftNothing(t *testing.T, project string) {
	t.Helper()
	for _, q := range [][]string{
		{"ps", "-aq", "--filter", "label=com.docker.compose.project=" + project},
		{"ps", "-aq", "--filter", "label=org.netlab.exp.project=" + project},
		{"ps", "-aq", "--filter", "label=org.netlab.shaper.project=" + project},
		{"ps", "-aq", "--filter", "name=" + project},
		{"network", "ls", "-q", "--filter", "name=" + project},
		{"volume", "ls", "-q", "--filter", "label=com.docker.compose.project=" + project},
	} {
		out, err := exec.Command("docker", q...).Output()
		if err != nil {
			t.Errorf("docker %v: %v", q, err)
			continue
		}
		if s := strings.TrimSpace(string(out)); s != "" {
			t.Errorf("left behind (docker %s): %s", strings.Join(q, " "), s)
		}
	}
}

// TestExp_InterruptLeavesNothingAndResumes sends Ctrl-C (SIGINT) in the
// middle of a sweep: the run stops, says so, and removes everything it
// started; --resume then runs the points not done, and only those.
func TestExp_InterruptLeavesNothingAndResumes(t *testing.T) {
	e2e.RequireShaper(t)
	bin := e2e.NetlabBinary(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	out := filepath.Join(t.TempDir(), "out")
	cmd := expCmd(ctx, t, bin, "run", "loss", "--quick", "--out", out, "--seed", "16")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var project string
	var log strings.Builder
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := sc.Text()
		log.WriteString(line + "\n")
		if m := projectRE.FindStringSubmatch(line); m != nil {
			project = m[1]
		}
		// In the middle of the sweep: a shape applied, a client running.
		if strings.Contains(line, "step 2/") {
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	for sc.Scan() {
		log.WriteString(sc.Text() + "\n")
	}
	err = cmd.Wait()
	t.Logf("netlab exp run loss --quick, interrupted:\n%s", log.String())
	if project == "" {
		t.Fatal("the run never named its project")
	}
	assertExpLeftNothing(t, project)
	if err == nil {
		t.Error("an interrupted run exited 0")
	}
	if !strings.Contains(log.String(), "interrupted") && !strings.Contains(log.String(), "context canceled") {
		t.Error("the run does not say it was interrupted")
	}
	if _, err := os.Stat(filepath.Join(out, "result.json")); err == nil {
		t.Error("an interrupted run wrote result.json as if complete")
	}
	if !strings.Contains(log.String(), "--resume "+out) {
		t.Error("the interrupted run does not say how to resume")
	}
	resumeInterrupted(ctx, t, bin, out)
}

// resumeInterrupted resumes the interrupted quick loss run in out (one
// of its three points done) and checks it ran the other two only.
func resumeInterrupted(ctx context.Context, t *testing.T, bin, out string) {
	t.Helper()
	cmd := expCmd(ctx, t, bin, "run", "--resume", out)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if m := projectRE.FindStringSubmatch(stderr.String()); m != nil {
		assertExpLeftNothing(t, m[1])
	}
	t.Logf("netlab exp run --resume:\n%s", stderr.String())
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	for _, want := range []string{"resuming: 1 steps done before", "step 1/2", "step 2/2"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("resume's progress lacks %q", want)
		}
	}
	if strings.Contains(stderr.String(), "step 3/") {
		t.Error("the resumed run ran a point again")
	}
	res := checkOutputs(t, out, "loss")
	if len(res.Points) != 3 {
		t.Fatalf("%d points after resuming, want the quick form's 3", len(res.Points))
	}
	checkLoss(t, res)
	if _, err := os.Stat(filepath.Join(out, "partial.json")); err == nil {
		t.Error("partial.json is left after the run finished")
	}
}
