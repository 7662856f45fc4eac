package udpclient

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/platform/latency"
	"github.com/netlab/netlab/services/platform/loadgen"
)

// WriteText prints the summary of a load run:
//
//	--- 127.0.0.1:12345 load statistics (50 sockets, 68-byte requests, 10s) ---
//	512340 sent, 512290 received, 0 lost (0.00% loss), 50 unfinished
//	51229.0 replies/s, 27.87 Mbit/s
//	rtt min/avg/p50/p90/p99/p99.9/max = 21µs/97µs/92µs/130µs/260µs/1.2ms/3.1ms
//	errors: late 2, refused 1
//	    20µs - 50µs         10002   2.0%   2.0% #
//	    ...
//
// The RTT line and histogram are left out when nothing was received, the
// errors line when there were none. An open loop (a rate) adds the
// schedule's account and a "latency" line from the scheduled starts, the
// one the histogram draws.
func (r LoadResult) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s load statistics (%d sockets, %d-byte requests, %s", r.Addr, r.Connections, r.Size, latency.Format(r.Duration))
	if r.Rate > 0 {
		fmt.Fprintf(&b, ", rate %g/s", r.Rate)
	}
	b.WriteString(") ---\n")
	fmt.Fprintf(&b, "%d sent, %d received, %d lost (%.2f%% loss), %d unfinished",
		r.Sent, r.Received, r.Lost, r.LossPercent, r.Unfinished)
	if r.Interrupted {
		fmt.Fprintf(&b, " (interrupted after %s)", latency.Format(r.Duration))
	}
	b.WriteByte('\n')
	fmt.Fprintf(&b, "%.1f replies/s, %s\n", r.RepliesPerSecond, formatBits(r.Bitrate()))
	if r.Rate > 0 {
		fmt.Fprintf(&b, "schedule %s\n", r.Schedule)
		if l := r.Schedule.Latency; l.N > 0 {
			fmt.Fprintf(&b, "latency  %s (from the scheduled start)\n", l)
		}
	}
	if r.RTT.N > 0 {
		fmt.Fprintf(&b, "rtt %s\n", r.RTT)
	}
	if len(r.Errors) > 0 {
		kinds := slices.Sorted(maps.Keys(r.Errors))
		for i, k := range kinds {
			kinds[i] = fmt.Sprintf("%s %d", k, r.Errors[k])
		}
		fmt.Fprintf(&b, "errors: %s\n", strings.Join(kinds, ", "))
	}
	if r.Latency != nil && r.Latency.Count() > 0 {
		_ = r.Latency.WriteText(&b)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Bitrate is the replies' payload in bits per second of the run.
func (r LoadResult) Bitrate() float64 { return bitrate(r.Received, r.Size, r.Duration) }

// Saved is the load run as its saved record (--save) tells it: replies
// are its operations, requests lost its losses, failed sends and reads,
// refusals and corrupt replies its errors, and its bytes the payload of
// the replies, one way.
func (r LoadResult) Saved() clientcli.Saved {
	sv := clientcli.Saved{Mode: "load", Target: r.Addr, Duration: r.Duration,
		Ops: r.Received, Lost: r.Lost, Bytes: r.Received * int64(r.Size), Latency: r.Latency}
	for _, k := range []string{ErrKindRefused, ErrKindSend, ErrKindReceive, ErrKindCorrupt} {
		sv.Errors += r.Errors[k]
	}
	if r.Rate > 0 {
		sv.Schedule = &r.Schedule
	}
	return sv
}

type loadJSON struct {
	Mode             string           `json:"mode"`
	Addr             string           `json:"addr"`
	Connections      int              `json:"connections"`
	Size             int              `json:"size"`
	Count            int              `json:"count"`     // asked; 0: bounded by the duration
	PeriodNs         int64            `json:"period_ns"` // --duration; 0: bounded by count
	Rate             float64          `json:"rate"`      // 0: closed loop
	TimeoutSeconds   float64          `json:"timeout_seconds"`
	DurationSeconds  float64          `json:"duration_seconds"`
	Sent             int64            `json:"sent"`
	Received         int64            `json:"received"`
	Lost             int64            `json:"lost"`
	Unfinished       int64            `json:"unfinished"`
	LossPercent      float64          `json:"loss_percent"`
	RepliesPerSecond float64          `json:"replies_per_second"`
	BitsPerSecond    float64          `json:"bits_per_second"`
	Latency          latency.JSON     `json:"latency"`
	Schedule         *loadgen.JSON    `json:"schedule,omitempty"`
	Errors           map[string]int64 `json:"errors"`
	Interrupted      bool             `json:"interrupted"`
}

// WriteJSON prints the summary of a load run as one JSON object on one
// line. latency is in nanoseconds, 0 when nothing was received (from the
// scheduled start in an open loop, whose uncorrected figures are in
// schedule); errors holds only the kinds that occurred ({} when none).
func (r LoadResult) WriteJSON(w io.Writer) error {
	errs := r.Errors
	if errs == nil {
		errs = map[string]int64{}
	}
	lat := r.RTT.JSON()
	if r.Rate > 0 {
		lat = r.Schedule.Latency.JSON()
	}
	return clientcli.WriteJSON(w, loadJSON{
		Mode:             "load",
		Addr:             r.Addr,
		Connections:      r.Connections,
		Size:             r.Size,
		Count:            r.Count,
		PeriodNs:         int64(r.Period),
		Rate:             r.Rate,
		TimeoutSeconds:   r.Timeout.Seconds(),
		DurationSeconds:  math.Round(r.Duration.Seconds()*1e6) / 1e6,
		Sent:             r.Sent,
		Received:         r.Received,
		Lost:             r.Lost,
		Unfinished:       r.Unfinished,
		LossPercent:      math.Round(r.LossPercent*1e4) / 1e4,
		RepliesPerSecond: math.Round(r.RepliesPerSecond*10) / 10,
		BitsPerSecond:    math.Round(r.Bitrate()),
		Latency:          lat,
		Schedule:         r.Schedule.JSON(),
		Errors:           errs,
		Interrupted:      r.Interrupted,
	})
}
