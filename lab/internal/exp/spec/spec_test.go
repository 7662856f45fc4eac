package spec_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/internal/exp/spec"
)

// good is a valid spec; each bad case below changes one line of it.
const good = `name: t
title: A test
services:
  - name: udp-responder
    replicas: 1
    env:
      RATE_LIMIT: "100000"
  - name: tcp-echo
    replicas: 1
impairment:
  targets: [udp-responder]
  direction: ingress
sweep:
  parameter: loss
  values: [0, 1, 5]
workloads:
  - name: udp
    client: udp-probe
    count: 1000
    rate: 1000
    size: 68
repetitions: 2
warmup: 1s
interval: 500ms
quick:
  values: [0, 5]
  repetitions: 1
  scale: 0.5
`

func TestParse_GoodSpec(t *testing.T) {
	s := mustParse(t, good)
	if s.Name != "t" || len(s.Services) != 2 || s.Services[0].Env["RATE_LIMIT"] != "100000" || s.Warmup.D() != time.Second ||
		s.Interval.D() != 500*time.Millisecond || len(s.Sweep.Values) != 3 || s.Workloads[0].Count != 1000 {
		t.Errorf("parsed %+v", s)
	}
	q := s.Effective(true)
	if len(q.Sweep.Values) != 2 || q.Repetitions != 1 || q.Workloads[0].Count != 500 || s.Workloads[0].Count != 1000 {
		t.Errorf("quick form: values %v, reps %d, count %d (the spec's stays %d)", q.Sweep.Values, q.Repetitions, q.Workloads[0].Count, s.Workloads[0].Count)
	}
	// Written back, the spec parses to the same.
	if again := reparsed(t, s); again.Warmup != s.Warmup || again.Title != s.Title {
		t.Errorf("round trip: warmup %v, title %q; want %v, %q", again.Warmup, again.Title, s.Warmup, s.Title)
	}
}

func TestParse_BadSpecNamesTheField(t *testing.T) {
	cases := []badEdit{
		{"unknown field", "repetitions: 2", "repetitions: 2\nrepetition: 3", "field repetition not found"},
		{"unknown nested field", "    count: 1000", "    cuont: 1000", "field cuont not found"},
		{"bad name", "name: t", "name: T_1", "name:"},
		{"no title", "title: A test", "title: ''", "title:"},
		{"unknown service", "  - name: tcp-echo", "  - name: redis", "services[1].name:"},
		{"too many peers", "  - name: tcp-echo\n    replicas: 1", "  - name: peer\n    replicas: 31", "services[1].replicas: 31: want 1 to 30"},
		{"bad env name", `      RATE_LIMIT: "100000"`, `      rate-limit: "1"`, "services[0].env.rate-limit:"},
		{"target not started", "targets: [udp-responder]", "targets: [http-hello]", "impairment.targets[0]:"},
		{"bad direction", "direction: ingress", "direction: sideways", "impairment.direction:"},
		{"swept and fixed", "direction: ingress", "direction: ingress\n  loss: 2", "impairment: loss is swept"},
		{"bad parameter", "parameter: loss", "parameter: jitter", "sweep.parameter:"},
		{"loss over 100", "values: [0, 1, 5]", "values: [0, 1, 500]", "sweep.values[2]: 500"},
		{"no values", "values: [0, 1, 5]", "values: []", "sweep.values:"},
		{"unknown client", "client: udp-probe", "client: iperf", "workloads[0].client:"},
		{"count too big", "count: 1000", "count: 2000000", "workloads[0].count:"},
		{"size too small", "size: 68", "size: 10", "workloads[0].size:"},
		{"bulk sized by a cap not swept", "client: udp-probe", "client: tcp-bulk\n    seconds: 2", "workloads[0].seconds:"},
		{"no repetitions", "repetitions: 2", "repetitions: 0", "repetitions: 0"},
		{"too many repetitions", "repetitions: 2", "repetitions: 21", "repetitions: 21"},
		{"bad duration", "warmup: 1s", "warmup: soon", "is not a duration"},
		{"warm-up too long", "warmup: 1s", "warmup: 2m", "warmup:"},
		{"interval too short", "interval: 500ms", "interval: 1ms", "interval:"},
		{"quick scale 0", "scale: 0.5", "scale: 0", "quick.scale:"},
		{"quick without values", "  values: [0, 5]", "  values: []", "quick.values:"},
		{"bad metric", "interval: 500ms", "interval: 500ms\nmetrics: ['no such']", "metrics[0]:"},
		{"wrong type", "repetitions: 2", "repetitions: two", "cannot unmarshal"},
	}
	checkBadEdits(t, good, cases)
}

// Each of these is within its own limit; together they make a run too
// long.
func TestParse_TooLongARun(t *testing.T) {
	text := good
	for _, e := range [][2]string{
		{"count: 1000", "count: 300000"},
		{"rate: 1000", "rate: 2000"},
		{"repetitions: 2", "repetitions: 20"},
		{"values: [0, 1, 5]", "values: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"},
	} {
		text = strings.Replace(text, e[0], e[1], 1)
	}
	wantFieldError(t, text, "the run would take about")
}

func TestParse_FieldErrorIsTyped(t *testing.T) {
	checkFieldEdits(t, good, []fieldEdit{{"repetitions: 2", "repetitions: 0", "repetitions"}})
}

func TestParse_DocumentLimits(t *testing.T) {
	for name, text := range map[string]string{
		"empty":          "",
		"two documents":  good + "---\nname: x\n",
		"larger than 64": good + "# " + strings.Repeat("x", spec.MaxFileSize) + "\n",
	} {
		if _, err := spec.Parse(strings.NewReader(text)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func TestBuiltinFiles_Parse(t *testing.T) {
	files, err := filepath.Glob("../../../experiments/*.yaml")
	if err != nil || len(files) < 2 {
		t.Fatalf("built-in specs: %v %v", files, err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s, err := spec.Parse(strings.NewReader(string(data)))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if d := s.Estimate(true); d > time.Minute {
			t.Errorf("%s: the quick form takes about %v, want under a minute", f, d)
		}
	}
}
