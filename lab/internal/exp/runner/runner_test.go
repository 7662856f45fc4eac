package runner

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/internal/exp/result"
	"github.com/netlab/netlab/lab/internal/exp/spec"
	"github.com/netlab/netlab/services/platform/clientcli"
)

func TestSteps_EveryPointOncePerRepetitionInASeededOrder(t *testing.T) {
	a, b := steps(7, 3, 42), steps(7, 3, 42)
	if !slices.Equal(a, b) {
		t.Error("one seed gave two orders")
	}
	if slices.Equal(a, steps(7, 3, 43)) {
		t.Error("two seeds gave one order")
	}
	for rep := range 3 {
		var pts []int
		for _, s := range a[rep*7 : rep*7+7] {
			if s.rep != rep {
				t.Fatalf("step %+v in repetition %d's block", s, rep)
			}
			pts = append(pts, s.point)
		}
		slices.Sort(pts)
		if !slices.Equal(pts, []int{0, 1, 2, 3, 4, 5, 6}) {
			t.Errorf("repetition %d runs points %v", rep, pts)
		}
	}
}

func TestInvoke_ClientArguments(t *testing.T) {
	s := &spec.Spec{Sweep: spec.Sweep{Parameter: "rate"}}
	cases := []struct {
		w    spec.Workload
		v    float64
		want string
	}{
		{spec.Workload{Name: "udp", Client: spec.UDPProbe, Count: 2000, Rate: 2000, Size: 68}, 0,
			"/udp-client --addr udp-responder:12345 --count 2000 --rate 2000 --size 68 --timeout 1s --progress=false --report-interval 1s --save - --label udp"},
		// 4 s at 10 Mbit/s: 5,000,000 bytes.
		{spec.Workload{Name: "tcp", Client: spec.TCPBulk, Seconds: 4}, 10,
			"/tcp-echo-client --addr tcp-echo:65432 --bulk 5000000 --timeout 30s --report-interval 1s --save - --label tcp"},
		{spec.Workload{Name: "udp", Client: spec.UDPBitrate, Seconds: 2, Size: 1200, Over: 1.5}, 10,
			"/udp-client --addr udp-responder:12345 --duration 2s --bitrate 15000000 --size 1200 --timeout 500ms --progress=false --report-interval 1s --save - --label udp"},
	}
	for _, c := range cases {
		inv := Invoke(s, c.w, c.v, time.Second)
		if got := inv.Entrypoint + " " + strings.Join(inv.Args, " "); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.w.Client, got, c.want)
		}
	}
}

func record(t *testing.T, res any, ivs ...clientcli.IntervalJSON) clientcli.Record {
	t.Helper()
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	return clientcli.Record{Schema: clientcli.RecordSchema, Result: b, Intervals: ivs}
}

func TestMeasure_FiguresFromSavedRuns(t *testing.T) {
	f, err := Measure(spec.Workload{Client: spec.UDPProbe}, record(t, map[string]any{"sent": 2000, "received": 1960, "loss_percent": 2.0}))
	if err != nil || f.Metric != result.MetricLoss || f.Value != 2 || f.Samples != 2000 {
		t.Errorf("udp-probe: %+v %v", f, err)
	}
	f, err = Measure(spec.Workload{Client: spec.TCPBulk}, record(t, map[string]any{"mbit_per_s": 9.5, "match": true, "tcp": map[string]any{"retransmits": 3}}))
	if err != nil || f.Value != 9.5 || f.Extra["tcp_retransmits"] != 3 {
		t.Errorf("tcp-bulk: %+v %v", f, err)
	}
	if _, err := Measure(spec.Workload{Client: spec.TCPBulk}, record(t, map[string]any{"mbit_per_s": 9.5, "match": false})); err == nil {
		t.Error("a bulk echo that did not match was measured")
	}
	// UDP throughput: the intervals that ended while sending (2 s), not
	// the tail after it.
	f, err = Measure(spec.Workload{Client: spec.UDPBitrate}, record(t, map[string]any{"size": 1000, "sent": 2500, "received": 2000, "send_duration_ns": 2e9},
		clientcli.IntervalJSON{StartSeconds: 0, EndSeconds: 1, BitsPerSecond: 9e6},
		clientcli.IntervalJSON{StartSeconds: 1, EndSeconds: 2, BitsPerSecond: 11e6},
		clientcli.IntervalJSON{StartSeconds: 2, EndSeconds: 2.5, BitsPerSecond: 1e6}))
	if err != nil || f.Metric != result.MetricUDPMbit || f.Value != 10 || f.Extra["sent_mbit_per_s"] != 10 {
		t.Errorf("udp-bitrate: %+v %v, want 10 Mbit/s received and sent", f, err)
	}
	if _, err := Measure(spec.Workload{Client: spec.UDPProbe}, record(t, map[string]any{"sent": 0})); err == nil {
		t.Error("a probe run that sent nothing was measured")
	}
}

func TestCheckpoint_SkipsDoneStepsAndRefusesForeignOnes(t *testing.T) {
	c := &Checkpoint{Done: []Done{{Point: 2, Rep: 1}, {Point: 0, Rep: 0}}}
	left := slices.DeleteFunc(steps(3, 2, 5), c.has)
	if len(left) != 4 || slices.Contains(left, step{2, 1}) || slices.Contains(left, step{0, 0}) {
		t.Errorf("steps left %v: want the 4 not done", left)
	}
	if err := c.check(3, 2); err != nil {
		t.Error(err)
	}
	if err := c.check(2, 2); err == nil || !strings.Contains(err.Error(), "point 2") {
		t.Errorf("a checkpoint of 3 points taken for a spec of 2: %v", err)
	}
}

func TestMeasure_BulkCutShortSaysWhy(t *testing.T) {
	_, err := Measure(spec.Workload{Client: spec.TCPBulk}, record(t, map[string]any{"mbit_per_s": 1.0, "match": false,
		"bytes": 1000, "echoed": 400, "mismatch_offset": 400, "streams": []map[string]any{{"error": "read: i/o timeout"}}}))
	if err == nil || !strings.Contains(err.Error(), "400 of 1000 bytes echoed, then: read: i/o timeout") {
		t.Errorf("a bulk echo cut short: %v", err)
	}
	_, err = Measure(spec.Workload{Client: spec.TCPBulk}, record(t, map[string]any{"match": false, "bytes": 1000, "echoed": 1000, "mismatch_offset": 17}))
	if err == nil || !strings.Contains(err.Error(), "differ from byte 17") {
		t.Errorf("a wrong byte: %v", err)
	}
}
