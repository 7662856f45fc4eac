package udpclient

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/platform/latency"
)

// WriteText prints the summary of a load run:
//
//	--- 127.0.0.1:12345 load statistics (50 sockets, 64-byte requests, 10s) ---
//	512340 sent, 512290 received, 0 lost (0.00% loss), 50 unfinished
//	51229.0 replies/s
//	rtt min/avg/p50/p90/p99/p99.9/max = 21µs/97µs/92µs/130µs/260µs/1.2ms/3.1ms
//	errors: late 2, refused 1
//
// The RTT line is left out when nothing was received, the errors line when
// there were none.
func (r LoadResult) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s load statistics (%d sockets, %d-byte requests, %s) ---\n",
		r.Addr, r.Connections, r.Size, latency.Format(r.Duration))
	fmt.Fprintf(&b, "%d sent, %d received, %d lost (%.2f%% loss), %d unfinished",
		r.Sent, r.Received, r.Lost, r.LossPercent, r.Unfinished)
	if r.Interrupted {
		fmt.Fprintf(&b, " (interrupted after %s)", latency.Format(r.Duration))
	}
	b.WriteByte('\n')
	fmt.Fprintf(&b, "%.1f replies/s\n", r.RepliesPerSecond)
	if r.RTT.N > 0 {
		fmt.Fprintf(&b, "rtt %s\n", r.RTT)
	}
	if len(r.Errors) > 0 {
		kinds := make([]string, 0, len(r.Errors))
		for k := range r.Errors {
			kinds = append(kinds, k)
		}
		slices.Sort(kinds)
		for i, k := range kinds {
			kinds[i] = fmt.Sprintf("%s %d", k, r.Errors[k])
		}
		fmt.Fprintf(&b, "errors: %s\n", strings.Join(kinds, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

type loadJSON struct {
	Mode             string           `json:"mode"`
	Addr             string           `json:"addr"`
	Connections      int              `json:"connections"`
	Size             int              `json:"size"`
	TimeoutSeconds   float64          `json:"timeout_seconds"`
	DurationSeconds  float64          `json:"duration_seconds"`
	Sent             int64            `json:"sent"`
	Received         int64            `json:"received"`
	Lost             int64            `json:"lost"`
	Unfinished       int64            `json:"unfinished"`
	LossPercent      float64          `json:"loss_percent"`
	RepliesPerSecond float64          `json:"replies_per_second"`
	Latency          latency.JSON     `json:"latency"`
	Errors           map[string]int64 `json:"errors"`
	Interrupted      bool             `json:"interrupted"`
}

// WriteJSON prints the summary of a load run as one JSON object on one
// line. latency is in nanoseconds, 0 when nothing was received; errors
// holds only the kinds that occurred ({} when none).
func (r LoadResult) WriteJSON(w io.Writer) error {
	errs := r.Errors
	if errs == nil {
		errs = map[string]int64{}
	}
	return clientcli.WriteJSON(w, loadJSON{
		Mode:             "load",
		Addr:             r.Addr,
		Connections:      r.Connections,
		Size:             r.Size,
		TimeoutSeconds:   r.Timeout.Seconds(),
		DurationSeconds:  math.Round(r.Duration.Seconds()*1e6) / 1e6,
		Sent:             r.Sent,
		Received:         r.Received,
		Lost:             r.Lost,
		Unfinished:       r.Unfinished,
		LossPercent:      math.Round(r.LossPercent*1e4) / 1e4,
		RepliesPerSecond: math.Round(r.RepliesPerSecond*10) / 10,
		Latency:          r.RTT.JSON(),
		Errors:           errs,
		Interrupted:      r.Interrupted,
	})
}
