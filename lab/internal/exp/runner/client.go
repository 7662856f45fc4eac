package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os/exec"
	"strconv"
	"time"

	"github.com/netlab/netlab/lab/internal/exp/result"
	"github.com/netlab/netlab/lab/internal/exp/spec"
	"github.com/netlab/netlab/services/platform/clientcli"
)

// Invocation is one client run: the image, its entrypoint and arguments.
type Invocation struct {
	Service    string // whose image holds the client
	Entrypoint string
	Args       []string
}

// Invoke is how workload w runs at a point whose parameter is v, with
// the series' interval.
func Invoke(s *spec.Spec, w spec.Workload, v float64, interval time.Duration) Invocation {
	common := []string{"--report-interval", interval.String(), "--save", "-", "--label", w.Name}
	switch w.Client {
	case spec.UDPProbe:
		return Invocation{"udp-responder", "/udp-client", append([]string{"--addr", "udp-responder:12345",
			"--count", strconv.Itoa(w.Count), "--rate", fmtF(w.Rate), "--size", strconv.Itoa(w.Size),
			"--timeout", "1s", "--progress=false"}, common...)}
	case spec.TCPBulk:
		bytes := w.Bytes
		if w.Seconds > 0 {
			bytes = int64(v * 1e6 / 8 * w.Seconds)
		}
		// Under heavy loss TCP's retransmission timer backs off past
		// the client's 5 s wait for each read: allow it.
		return Invocation{"tcp-echo", "/tcp-echo-client", append([]string{"--addr", "tcp-echo:65432",
			"--bulk", strconv.FormatInt(max(bytes, 1), 10), "--timeout", "30s"}, common...)}
	default: // udp-bitrate
		bitrate := w.BitrateMbit * 1e6
		if w.Over > 0 {
			bitrate = w.Over * v * 1e6
		}
		dur := time.Duration(w.Seconds * float64(time.Second)).Round(time.Millisecond)
		return Invocation{"udp-responder", "/udp-client", append([]string{"--addr", "udp-responder:12345",
			"--duration", dur.String(), "--bitrate", fmtF(math.Round(bitrate)), "--size", strconv.Itoa(w.Size),
			"--timeout", "500ms", "--progress=false"}, common...)}
	}
}

func fmtF(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// hardening runs a client as the stack's services run.
var hardening = []string{"--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--user", "65532:65532"}

// RunClient runs inv in a container of its own on network and returns the
// saved run it printed (--save -).
func RunClient(ctx context.Context, project, image, network string, inv Invocation) (clientcli.Record, error) {
	args := append([]string{"run", "--rm", "--network", network, "--label", LabelRun + "=" + project, "--entrypoint", inv.Entrypoint}, hardening...)
	args = append(append(args, image), inv.Args...)
	cmd := exec.CommandContext(ctx, "docker", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	rec, err := clientcli.ReadRecord(&stdout)
	if err != nil {
		return rec, fmt.Errorf("%s %v: %w; %v: %s", inv.Entrypoint, inv.Args, err, runErr, tail(stderr.String(), 600))
	}
	return rec, nil
}

// Figure is one repetition's measured figure of a workload, and what it
// was measured over. A workload gives one or more.
type Figure struct {
	// Figure is what result.json keeps; its Unit is result.Units[Metric]
	// when empty, and Theory, TheoryLabel, BandLow and BandHigh are nil
	// and empty where theory says nothing (result.Theory's then for loss
	// and rate).
	result.Figure
	Extra map[string]float64 // more per-repetition figures for the series
}

// probeJSON is what the runner reads of udp-client's probe summary
// (--json); Directions is nil for a version 1 probe.
type probeJSON struct {
	Sent, Received int
	LossPercent    float64 `json:"loss_percent"`
	Latency        struct {
		P50 int64 `json:"p50_ns"`
		P99 int64 `json:"p99_ns"`
	}
	Directions *struct {
		Exact      bool
		NotCounted bool    `json:"not_counted"`
		UpLoss     float64 `json:"upstream_loss_percent"`
		Up         struct {
			P50 int64 `json:"p50_ns"`
		} `json:"one_way_up"`
		ClockSuspect bool `json:"clock_suspect"`
	}
}

// Measure reads a workload's figure from its saved run.
func Measure(w spec.Workload, rec clientcli.Record) (Figure, error) {
	switch w.Client {
	case spec.UDPProbe:
		var r probeJSON
		if err := json.Unmarshal(rec.Result, &r); err != nil {
			return Figure{}, err
		}
		if r.Sent == 0 {
			return Figure{}, errors.New("udp-client sent no probe")
		}
		return Figure{Figure: result.Figure{Metric: result.MetricLoss, Value: r.LossPercent, Samples: r.Sent},
			Extra: map[string]float64{"sent": float64(r.Sent), "received": float64(r.Received), "rtt_p50_ms": float64(r.Latency.P50) / 1e6}}, nil
	case spec.TCPBulk:
		var r struct {
			Mbit     float64 `json:"mbit_per_s"`
			Match    bool
			Bytes    int64
			Echoed   int64
			Mismatch *int64 `json:"mismatch_offset"`
			Streams  []struct{ Error string }
			TCP      *struct {
				Retransmits int64
			}
		}
		if err := json.Unmarshal(rec.Result, &r); err != nil {
			return Figure{}, err
		}
		if !r.Match {
			return Figure{}, bulkFailure(r.Bytes, r.Echoed, r.Mismatch, r.Streams)
		}
		f := Figure{Figure: result.Figure{Metric: result.MetricTCPMbit, Value: r.Mbit}, Extra: map[string]float64{}}
		if r.TCP != nil {
			f.Extra["tcp_retransmits"] = float64(r.TCP.Retransmits)
		}
		return f, nil
	default:
		var r struct {
			Size, Sent, Received int
			SendNs               int64 `json:"send_duration_ns"`
		}
		if err := json.Unmarshal(rec.Result, &r); err != nil {
			return Figure{}, err
		}
		if r.SendNs <= 0 || r.Sent == 0 {
			return Figure{}, errors.New("udp-client sent nothing")
		}
		mbit := steadyMbit(rec.Intervals, float64(r.SendNs)/1e9)
		if mbit < 0 {
			mbit = float64(r.Received) * float64(r.Size) * 8 / (float64(r.SendNs) / 1e9) / 1e6
		}
		return Figure{Figure: result.Figure{Metric: result.MetricUDPMbit, Value: mbit, Samples: r.Sent},
			Extra: map[string]float64{"sent_mbit_per_s": float64(r.Sent) * float64(r.Size) * 8 / (float64(r.SendNs) / 1e9) / 1e6}}, nil
	}
}

// bulkFailure says why a bulk echo did not come back whole: a wrong
// byte, or the transfer cut short and by what.
func bulkFailure(size, echoed int64, mismatch *int64, streams []struct{ Error string }) error {
	for _, s := range streams {
		if s.Error != "" {
			return fmt.Errorf("tcp-echo-client: %d of %d bytes echoed, then: %s", echoed, size, s.Error)
		}
	}
	if mismatch != nil && *mismatch >= 0 {
		return fmt.Errorf("tcp-echo-client: the echoed bytes differ from byte %d on (%d of %d echoed)", *mismatch, echoed, size)
	}
	return fmt.Errorf("tcp-echo-client: %d of %d bytes echoed", echoed, size)
}

// steadyMbit is the reply rate over the intervals that ended while the
// client was still sending (sendS seconds): the replies still queued
// after the last send, and the wait for the lost ones (--timeout), are
// not part of the rate the cap lets through. -1 when no interval did.
func steadyMbit(ivs []clientcli.IntervalJSON, sendS float64) float64 {
	var bits, secs float64
	for _, iv := range ivs {
		if d := iv.EndSeconds - iv.StartSeconds; d > 0 && iv.EndSeconds <= sendS*1.02+0.01 {
			bits += iv.BitsPerSecond * d
			secs += d
		}
	}
	if secs == 0 {
		return -1
	}
	return bits / secs / 1e6
}
