package loadgen

import (
	"fmt"
	"time"

	"github.com/netlab/netlab/services/platform/latency"
)

// Summary is what a timetable says of its run once the workers are done.
type Summary struct {
	Rate      float64       // asked for, per second; 0: closed loop
	Elapsed   time.Duration // from the start to the end, stop or now
	Scheduled int64         // requests that came due in Elapsed (closed loop: Started)
	Started   int64
	// Missed are requests that came due but never started: every worker
	// was still busy when the run ended.
	Missed      int64
	Late        int64 // started more than LateAfter after their due time
	LateAfter   time.Duration
	MaxLateness time.Duration
	Latency     latency.Stats // open loop: from the due time; closed loop: from the start
	Uncorrected latency.Stats // from the start
}

// Summary takes the accounts; call it once no worker records any more.
func (t *Timetable) Summary() Summary {
	end := t.clock.Now()
	if !t.end.IsZero() && t.end.Before(end) {
		end = t.end
	}
	if stopped := t.stoppedAt.Load(); stopped > 0 && t.start.Add(time.Duration(stopped)).Before(end) {
		end = t.start.Add(time.Duration(stopped))
	}
	s := Summary{
		Rate:        t.plan.Rate,
		Elapsed:     end.Sub(t.start),
		Started:     t.started.Load(),
		Late:        t.late.Load(),
		LateAfter:   t.lateAfter,
		MaxLateness: time.Duration(t.maxLate.Load()),
		Latency:     t.Latency().Stats(),
		Uncorrected: snapshot(t.uncorrected).Stats(),
	}
	s.Scheduled = s.Started
	if t.OpenLoop() {
		// A request due at the very moment of a stop may have started.
		s.Scheduled = max(t.dueWithin(s.Elapsed), s.Started)
		s.Missed = s.Scheduled - s.Started
	}
	return s
}

// dueWithin counts the open-loop requests due in the first d of the run.
func (t *Timetable) dueWithin(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	n := int64(float64(d-1)/t.periodNs) + 1
	if t.plan.Count > 0 {
		n = min(n, t.plan.Count)
	}
	return n
}

// AchievedRate is the requests started per second.
func (s Summary) AchievedRate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Started) / s.Elapsed.Seconds()
}

// KeptRate reports whether every request due started on time; a closed
// loop always keeps its (absent) rate.
func (s Summary) KeptRate() bool { return s.Rate == 0 || (s.Missed == 0 && s.Late == 0) }

// String renders an open-loop schedule as one line, for example
//
//	rate 1000/s asked, 812.4/s started: could not keep it — 1877 due never started, 3456 started over 1ms late (up to 230ms)
//
// and a closed loop as "closed loop".
func (s Summary) String() string {
	if s.Rate == 0 {
		return "closed loop"
	}
	head := fmt.Sprintf("rate %g/s asked, %.1f/s started", s.Rate, s.AchievedRate())
	if s.KeptRate() {
		return head + fmt.Sprintf(": kept (every start within %s of its time)", latency.Format(s.LateAfter))
	}
	return head + fmt.Sprintf(": could not keep it — %d due never started, %d started over %s late (up to %s)",
		s.Missed, s.Late, latency.Format(s.LateAfter), latency.Format(s.MaxLateness))
}

// JSON is an open-loop summary as every client writes it ("schedule"),
// durations in integer nanoseconds. The corrected latency is the client's
// own "latency" object; this one carries the uncorrected figures.
type JSON struct {
	TargetRate    float64      `json:"target_rate"`
	AchievedRate  float64      `json:"achieved_rate"`
	Scheduled     int64        `json:"scheduled"`
	Started       int64        `json:"started"`
	Missed        int64        `json:"missed"`
	Late          int64        `json:"late"`
	LateAfterNs   int64        `json:"late_after_ns"`
	MaxLatenessNs int64        `json:"max_lateness_ns"`
	KeptRate      bool         `json:"kept_rate"`
	Uncorrected   latency.JSON `json:"latency_uncorrected"`
}

// JSON returns s in its JSON shape; nil for a closed loop, which has no
// schedule to speak of.
func (s Summary) JSON() *JSON {
	if s.Rate == 0 {
		return nil
	}
	return &JSON{
		TargetRate:    s.Rate,
		AchievedRate:  s.AchievedRate(),
		Scheduled:     s.Scheduled,
		Started:       s.Started,
		Missed:        s.Missed,
		Late:          s.Late,
		LateAfterNs:   int64(s.LateAfter),
		MaxLatenessNs: int64(s.MaxLateness),
		KeptRate:      s.KeptRate(),
		Uncorrected:   s.Uncorrected.JSON(),
	}
}
