package exp_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netlab/netlab/lab/experiments"
	"github.com/netlab/netlab/lab/internal/exp"
	"github.com/netlab/netlab/lab/internal/exp/render"
	"github.com/netlab/netlab/lab/internal/exp/result"
	"github.com/netlab/netlab/lab/internal/shape"
)

func netlabExp(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	// No Docker is reached here: a command that needed one fails.
	code := exp.Command{Docker: shape.CLI{}}.Main(context.Background(), args, &stdout, &stderr, func(string) string { return "" })
	return code, stdout.String(), stderr.String()
}

func TestList_NamesEveryBuiltin(t *testing.T) {
	code, out, _ := netlabExp(t, "list")
	if code != 0 || !strings.Contains(out, "loss ") || !strings.Contains(out, "rate ") || !strings.Contains(out, "lab/experiments/") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestBuiltins_AreTheShippedFiles(t *testing.T) {
	entries, err := os.ReadDir("../../experiments")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".yaml" {
			continue
		}
		onDisk, _ := os.ReadFile(filepath.Join("../../experiments", e.Name()))
		embedded, err := experiments.FS.ReadFile(e.Name())
		if err != nil || !bytes.Equal(onDisk, embedded) {
			t.Errorf("%s: the embedded copy differs from the file (%v)", e.Name(), err)
		}
	}
}

func TestRun_BadSpecExits2NamingTheField(t *testing.T) {
	dir := t.TempDir()
	data, err := experiments.FS.ReadFile("loss.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	text := strings.Replace(string(data), "repetitions: 3", "repetitions: 3\nrepetitons: 4", 1)
	if err := os.WriteFile(bad, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := netlabExp(t, "run", bad, "--out", filepath.Join(dir, "out"))
	if code != 2 || !strings.Contains(stderr, "repetitons") {
		t.Errorf("exit %d, stderr %q: want 2 and the field named", code, stderr)
	}
	text = strings.Replace(string(data), "count: 20000", "count: 0", 1)
	if err := os.WriteFile(bad, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = netlabExp(t, "run", bad)
	if code != 2 || !strings.Contains(stderr, "workloads[0].count") {
		t.Errorf("exit %d, stderr %q: want 2 and workloads[0].count", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "spec.yaml")); err == nil {
		t.Error("a bad spec left outputs")
	}
}

func TestRun_UsageErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string][]string{
		"unknown built-in": {"run", "nosuch"},
		"no name":          {"run", "--quick"},
		"two names":        {"run", "loss", "rate"},
		"bad flag":         {"run", "loss", "--fast"},
		"out not empty":    {"run", "loss", "--out", dir},
		"unknown command":  {"walk"},
		"report without":   {"report"},
	} {
		if code, _, stderr := netlabExp(t, args...); code != 2 || stderr == "" {
			t.Errorf("%s: exit %d, stderr %q; want 2 with a reason", name, code, stderr)
		}
	}
}

func TestReport_RendersFromResultAndSeries(t *testing.T) {
	dir := t.TempDir()
	r := &result.Result{Schema: result.Schema, Name: "loss", Title: "t", Parameter: "loss", Unit: "%", Points: []result.Point{
		{Value: 5, Measures: []result.Measure{{Workload: "udp", Client: "udp-probe", Metric: result.MetricLoss, Unit: "%", Samples: 1000, Reps: []float64{99}}}}}}
	var b bytes.Buffer
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(render.ResultFile, b.Bytes())
	b.Reset()
	// The series says 4.5 and 5.5: the table must show their mean, 5,
	// not result.json's stale 99.
	if err := result.WriteCSV(&b, []result.Row{result.SummaryRow(0, 5, 0, "udp", 1, result.MetricLoss, 4.5), result.SummaryRow(0, 5, 1, "udp", 2, result.MetricLoss, 5.5)}); err != nil {
		t.Fatal(err)
	}
	write(render.SeriesFile, b.Bytes())
	write(render.SpecFile, []byte("name: loss\n"))
	code, out, stderr := netlabExp(t, "report", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, f := range []string{"table.md", "loss.png", "loss.svg", "report.html"} {
		if !strings.Contains(out, filepath.Join(dir, f)) {
			t.Errorf("did not write %s:\n%s", f, out)
		}
	}
	table, _ := os.ReadFile(filepath.Join(dir, "table.md"))
	if !strings.Contains(string(table), "| 5.000 | udp (udp-probe) | loss_percent (%) | 5.000 |") {
		t.Errorf("table:\n%s", table)
	}
	if code, _, _ := netlabExp(t, "report", t.TempDir()); code != 1 {
		t.Errorf("an empty directory: exit %d, want 1", code)
	}
}
