package compare_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot/plotutil"

	"github.com/netlab/netlab/lab/internal/chartfile/charttest"
	"github.com/netlab/netlab/lab/internal/cli/clitest"
)

func TestCompare_PlotsDrawEveryRun(t *testing.T) {
	if testing.Short() {
		t.Skip("draws three charts of 200,000-value runs (about a second)")
	}
	dir := t.TempDir()
	var files []string
	for _, f := range exampleRuns() {
		files = append(files, write(t, dir, f.file, f.record()))
	}
	out := filepath.Join(dir, "charts")
	code, stdout, stderr := netlabCompare(t, append([]string{"--plot", out}, files...)...)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if strings.Contains(stdout, "note:") {
		t.Errorf("runs with every figure got notes:\n%s", stdout)
	}
	for _, name := range []string{"latency-cdf", "latency-percentiles", "throughput"} {
		p := filepath.Join(out, name+".png")
		if !strings.Contains(stdout, "plot: "+p+"\n") {
			t.Errorf("the table does not name %s:\n%s", p, stdout)
		}
		img := charttest.DecodePNG(t, p)
		if b := img.Bounds(); b.Dx() != 960 || b.Dy() < 528+3*12 {
			t.Errorf("%s is %v, want 960 wide and 528 high plus a legend of three lines", p, b)
		}
		for i := range files {
			if n := charttest.Colored(img, plotutil.Color(i)); n < 100 {
				t.Errorf("%s: run %d's colour on %d pixels: its line is missing", p, i, n)
			}
		}
		if n := charttest.Colored(img, plotutil.Color(len(files))); n > 0 {
			t.Errorf("%s: %d pixels of a colour no run has", p, n)
		}
		svg, err := os.ReadFile(filepath.Join(out, name+".svg"))
		if err != nil || !bytes.Contains(svg, []byte("<svg")) || !bytes.Contains(svg, []byte("open loop 60k/s")) {
			t.Errorf("%s.svg: %v; want an SVG with the runs' labels", name, err)
		}
	}
}

func TestCompare_ChartsLeaveOutRunsWithoutTheirData(t *testing.T) {
	dir := t.TempDir()
	small := fixture{label: "with both", seed: 9, median: time.Millisecond, samples: 1000, rate: 100, seconds: 5}
	noHist := small.record()
	noHist.Label, noHist.Histogram = "no histogram", nil
	noIvs := small.record()
	noIvs.Label, noIvs.Intervals = "no intervals", nil
	out := filepath.Join(dir, "charts")
	code, stdout, stderr := netlabCompare(t, "--plot", out,
		write(t, dir, "a.json", small.record()), write(t, dir, "b.json", noHist), write(t, dir, "c.json", noIvs))
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	clitest.Contains(t, "stdout", stdout,
		"note: no histogram: no latency histogram: left out of the latency charts\n",
		"note: no intervals: no intervals: left out of the throughput chart\n")
	// Two runs in each chart: the first two colours, not the third.
	for _, name := range []string{"latency-cdf", "throughput"} {
		img := charttest.DecodePNG(t, filepath.Join(out, name+".png"))
		if charttest.Colored(img, plotutil.Color(1)) < 50 || charttest.Colored(img, plotutil.Color(2)) > 0 {
			t.Errorf("%s: want two runs drawn", name)
		}
	}

	// Without any histogram there is no latency chart at all.
	out2 := filepath.Join(dir, "charts2")
	code, stdout, _ = netlabCompare(t, "--plot", out2, write(t, dir, "b.json", noHist))
	if _, err := os.Stat(filepath.Join(out2, "latency-cdf.png")); code != 0 || err == nil ||
		!strings.Contains(stdout, "note: no run has a latency histogram: no latency charts") {
		t.Errorf("exit %d, latency chart %v, stdout:\n%s\nwant no latency chart and a note", code, err, stdout)
	}
	if _, err := os.Stat(filepath.Join(out2, "throughput.png")); err != nil {
		t.Errorf("the throughput chart of the run with intervals: %v", err)
	}
}

func TestCompare_PlotIntoAFileFails(t *testing.T) {
	dir := t.TempDir()
	a := write(t, dir, "a.json", fixture{label: "a", seed: 1, median: time.Millisecond, samples: 100, rate: 10, seconds: 2}.record())
	code, stdout, stderr := netlabCompare(t, "--plot", a, a)
	if code != 1 || stdout != "" || !strings.Contains(stderr, "netlab compare: --plot: mkdir "+a) {
		t.Errorf("exit %d, stdout %q, stderr %q: want 1 and the directory named", code, stdout, stderr)
	}
}
