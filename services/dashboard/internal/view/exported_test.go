package view_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/netlab/netlab/services/dashboard/internal/view"
	"github.com/netlab/netlab/services/platform/admin"
)

// The metric names the dashboard's figures and the Grafana dashboard may
// use are read from deploy/observability/metrics.txt, every netlab_*
// family each service exports (a recorded list: the services are modules
// of their own, so no test here can start them; the browser test checks
// the list against every service's /metrics on a running stack), and
// from the registry every service starts with (admin.NewRegistry: Go's
// and the process's metrics, netlab_build_info), gathered here.

// observability is the directory of the recorded list and the Grafana
// dashboard, found from this package up.
func observability(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for ; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		p := filepath.Join(dir, "deploy", "observability")
		if _, err := os.Stat(filepath.Join(p, "metrics.txt")); err == nil {
			return p
		}
	}
	t.Fatal("no deploy/observability/metrics.txt above this package")
	return ""
}

// exported are the families a service may export, by name, with their
// type.
func exported(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(observability(t), "metrics.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 3 {
			t.Fatalf("metrics.txt: %q is not 'service metric type'", line)
		}
		out[fields[1]] = fields[2]
	}
	families, err := admin.NewRegistry("any").Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range families {
		out[mf.GetName()] = strings.ToLower(mf.GetType().String())
	}
	if len(out) < 50 {
		t.Fatalf("only %d families known", len(out))
	}
	return out
}

// known says whether name is a series of an exported family: the family
// itself, or a histogram's or summary's _bucket, _sum or _count.
func known(families map[string]string, name string) bool {
	if _, ok := families[name]; ok {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suffix)
		if t := families[base]; ok && (t == "histogram" || t == "summary") && (suffix != "_bucket" || t == "histogram") {
			return true
		}
	}
	return false
}

func TestFigures_NameOnlyExportedMetrics(t *testing.T) {
	families := exported(t)
	for _, name := range view.FigureMetrics() {
		if !known(families, name) {
			t.Errorf("a figure reads %s, which no service exports", name)
		}
	}
}

// promQL's parts that are not metric names.
var (
	quoted   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	matchers = regexp.MustCompile(`\{[^}]*\}|\[[^\]]*\]`)
	grouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	numbers  = regexp.MustCompile(`(^|[^a-zA-Z0-9_:])\d[\w.]*`) // 0.99, 1e3, 5m
	ident    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	keywords = []string{"and", "or", "unless", "offset", "bool", "inf", "nan"}
	// builtIn are series Prometheus makes itself for every target.
	builtIn = []string{"up"}
)

// metricNames returns the metric names a PromQL expression reads.
func metricNames(expr string) []string {
	expr = quoted.ReplaceAllString(expr, " ")
	expr = matchers.ReplaceAllString(expr, " ")
	expr = grouping.ReplaceAllString(expr, " ")
	expr = numbers.ReplaceAllString(expr, "${1} ")
	var out []string
	for _, loc := range ident.FindAllStringIndex(expr, -1) {
		name := expr[loc[0]:loc[1]]
		rest := strings.TrimSpace(expr[loc[1]:])
		if strings.HasPrefix(rest, "(") || slices.Contains(keywords, strings.ToLower(name)) || slices.Contains(builtIn, name) {
			continue // a function, a keyword, or Prometheus's own
		}
		out = append(out, name)
	}
	return out
}

func TestMetricNames(t *testing.T) {
	got := metricNames(`histogram_quantile(0.99, sum by (le, route) (rate(a_bucket{job="x",le!="+Inf"}[5m]))) / on (instance) b offset 5m and up * 1e3`)
	if !slices.Equal(got, []string{"a_bucket", "b"}) {
		t.Errorf("metricNames = %v, want [a_bucket b]", got)
	}
}

// exprs collects every "expr" string of the dashboard's JSON.
func exprs(v any, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "expr" {
				*out = append(*out, s)
			}
			exprs(x, out)
		}
	case []any:
		for _, x := range v {
			exprs(x, out)
		}
	}
}

func TestGrafanaDashboard_QueriesNameOnlyExportedMetrics(t *testing.T) {
	families := exported(t)
	data, err := os.ReadFile(filepath.Join(observability(t), "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash any
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	var all []string
	exprs(dash, &all)
	if len(all) < 20 {
		t.Fatalf("%d queries in the dashboard, want the panels of the overview and the swarm", len(all))
	}
	used := map[string]bool{}
	for _, e := range all {
		names := metricNames(e)
		if len(names) == 0 && !strings.Contains(e, "up{") {
			t.Errorf("query %q reads no metric", e)
		}
		for _, name := range names {
			used[name] = true
			if !known(families, name) {
				t.Errorf("query %q reads %s, which no service exports", e, name)
			}
		}
	}
	// The dashboard has the overview's figures: every metric a figure
	// reads is on a panel too.
	for _, name := range view.FigureMetrics() {
		if !used[name] && !used[name+"_bucket"] && !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") {
			t.Errorf("no panel shows %s, which the overview's figures do", name)
		}
	}
}
