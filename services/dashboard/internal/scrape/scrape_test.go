package scrape_test

import (
	"strings"
	"testing"

	"github.com/netlab/netlab/services/dashboard/internal/scrape"
)

const text = `# HELP reqs_total Requests.
# TYPE reqs_total counter
reqs_total{route="/",code="200"} 7
reqs_total{code="404",route="/x"} 2
# TYPE temp gauge
temp 21.5
# TYPE lat_seconds histogram
lat_seconds_bucket{le="0.1"} 3
lat_seconds_bucket{le="1"} 5
lat_seconds_bucket{le="+Inf"} 6
lat_seconds_sum 4.2
lat_seconds_count 6
# TYPE gc summary
gc{quantile="0.5"} 0.001
gc_sum 0.01
gc_count 9
odd{note="a \"quoted\", {braced} value"} 1
`

func TestParse_FlattensFamiliesIntoTypedSamples(t *testing.T) {
	res, err := scrape.Parse(strings.NewReader(text), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]scrape.Sample{
		`reqs_total{code="200",route="/"}`:         {Family: "reqs_total", Name: "reqs_total", Labels: `code="200",route="/"`, Value: 7, Cumulative: true},
		`reqs_total{code="404",route="/x"}`:        {Family: "reqs_total", Name: "reqs_total", Labels: `code="404",route="/x"`, Value: 2, Cumulative: true},
		`temp{}`:                                   {Family: "temp", Name: "temp", Value: 21.5},
		`lat_seconds_bucket{le="0.1"}`:             {Family: "lat_seconds", Name: "lat_seconds_bucket", Labels: `le="0.1"`, Value: 3, Cumulative: true},
		`lat_seconds_bucket{le="+Inf"}`:            {Family: "lat_seconds", Name: "lat_seconds_bucket", Labels: `le="+Inf"`, Value: 6, Cumulative: true},
		`lat_seconds_sum{}`:                        {Family: "lat_seconds", Name: "lat_seconds_sum", Value: 4.2, Cumulative: true},
		`lat_seconds_count{}`:                      {Family: "lat_seconds", Name: "lat_seconds_count", Value: 6, Cumulative: true},
		`gc{quantile="0.5"}`:                       {Family: "gc", Name: "gc", Labels: `quantile="0.5"`, Value: 0.001},
		`gc_count{}`:                               {Family: "gc", Name: "gc_count", Value: 9, Cumulative: true},
		`odd{note="a \"quoted\", {braced} value"}`: {Family: "odd", Name: "odd", Labels: `note="a \"quoted\", {braced} value"`, Value: 1},
	}
	got := map[string]scrape.Sample{}
	for _, s := range res.Samples {
		got[s.Name+"{"+s.Labels+"}"] = s
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s = %+v (found %v), want %+v", k, g, ok, w)
		}
	}
	if len(res.Samples) != 12 {
		t.Errorf("%d samples, want 12", len(res.Samples))
	}
	if f := res.Families["reqs_total"]; f.Type != scrape.Counter || f.Help != "Requests." {
		t.Errorf("family reqs_total = %+v", f)
	}
	if f := res.Families["odd"]; f.Type != scrape.Untyped {
		t.Errorf("family odd = %+v, want untyped", f)
	}
}

func TestParse_RefusesOversizedAndBrokenAnswers(t *testing.T) {
	if _, err := scrape.Parse(strings.NewReader(text), 100); err == nil || !strings.Contains(err.Error(), "over 100 bytes") {
		t.Errorf("Parse over the limit: %v, want an error naming it", err)
	}
	if _, err := scrape.Parse(strings.NewReader("x{ 1\n"), 1<<20); err == nil {
		t.Error("Parse of a broken line: no error")
	}
}

func TestLabels_RoundTrip(t *testing.T) {
	s := `a="1",b="x \"y\", z",le="+Inf"`
	if got := scrape.Label(s, "b"); got != `x "y", z` {
		t.Errorf("Label b = %q", got)
	}
	if got := scrape.Label(s, "c"); got != "" {
		t.Errorf("Label c = %q, want empty", got)
	}
	if got := scrape.Without(s, "le", "a"); got != `b="x \"y\", z"` {
		t.Errorf("Without = %q", got)
	}
}
