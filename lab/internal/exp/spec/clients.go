package spec

import (
	"fmt"
	"slices"
	"time"
)

// ClientInfo is what a spec knows of one workload client: the service it
// talks to, how its fields are checked, and how long one run takes. The
// runner holds how it runs (runner.Clients).
type ClientInfo struct {
	// Needs is the service the client talks to, which the spec must
	// start; "" when the client starts what it needs itself.
	Needs string
	// Check validates w's fields; errors name the field under f
	// ("workloads[1]").
	Check func(f string, s *Spec, w Workload) error
	// Time is about how long one run of w takes at a point whose
	// parameter is v.
	Time func(s *Spec, w Workload, v float64) time.Duration
	// Quick is what the quick form changes in w besides the scale of its
	// counts and times (nil: nothing).
	Quick func(w Workload) Workload
}

// Clients are the workload clients a spec may name.
var Clients = map[string]ClientInfo{
	UDPProbe:   {Needs: "udp-responder", Check: checkProbe, Time: probeTime},
	TCPBulk:    {Needs: "tcp-echo", Check: checkBulk, Time: sendTime},
	UDPBitrate: {Needs: "udp-responder", Check: checkBitrate, Time: sendTime},
	PeerTransfer: {Needs: "peer", Check: checkPeerTransfer, Time: func(s *Spec, w Workload, v float64) time.Duration {
		return sendTime(s, w, v) + 5*time.Second // the file shows in the swarm at the nodes' refresh
	}},
	LatencyMatrix: {Needs: MatrixService, Check: checkMatrix, Time: matrixTime, Quick: quickMatrix},
}

// ClientNames are the clients' names, sorted.
func ClientNames() []string {
	names := make([]string, 0, len(Clients))
	for n := range Clients {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func checkProbe(f string, _ *Spec, w Workload) error {
	switch {
	case w.Count < 1 || w.Count > MaxCount:
		return bad(f+".count", "%d: want 1 to %d", w.Count, MaxCount)
	case !finite(w.Rate) || w.Rate < 1 || w.Rate > MaxProbeRate:
		return bad(f+".rate", "%v: want 1 to %d probes per second", w.Rate, MaxProbeRate)
	case w.Size < 68 || w.Size > 1472:
		return bad(f+".size", "%d: want 68 to 1472 bytes", w.Size)
	case float64(w.Count)/w.Rate > MaxSeconds:
		return bad(f+".count", "%d probes at %v/s take more than %ds", w.Count, w.Rate, MaxSeconds)
	}
	return nil
}

func checkBulk(f string, s *Spec, w Workload) error {
	swept := s.Sweep.Parameter == "rate"
	switch {
	case (w.Seconds > 0) == (w.Bytes > 0):
		return bad(f+".seconds", "give seconds (with the rate swept) or bytes, one of them")
	case w.Seconds > 0 && !swept:
		return bad(f+".seconds", "seconds sizes the transfer from the cap: sweep the rate, or give bytes")
	case w.Seconds < 0 || w.Seconds > MaxSeconds:
		return bad(f+".seconds", "want up to %d", MaxSeconds)
	case w.Bytes < 0 || w.Bytes > MaxBytes:
		return bad(f+".bytes", "want up to %d", int64(MaxBytes))
	}
	return nil
}

func checkBitrate(f string, s *Spec, w Workload) error {
	swept := s.Sweep.Parameter == "rate"
	switch {
	case w.Seconds <= 0 || w.Seconds > MaxSeconds:
		return bad(f+".seconds", "want above 0, up to %d", MaxSeconds)
	case (w.Over > 0) == (w.BitrateMbit > 0):
		return bad(f+".over", "give over (a multiple of the swept cap) or bitrate_mbit, one of them")
	case w.Over > 0 && !swept:
		return bad(f+".over", "over multiplies the cap: sweep the rate, or give bitrate_mbit")
	case !finite(w.Over) || w.Over > 4:
		return bad(f+".over", "want up to 4")
	case !finite(w.BitrateMbit) || w.BitrateMbit > 10_000:
		return bad(f+".bitrate_mbit", "want up to 10000")
	case w.Size < 68 || w.Size > 1472:
		return bad(f+".size", "%d: want 68 to 1472 bytes", w.Size)
	}
	return nil
}

func probeTime(_ *Spec, w Workload, _ float64) time.Duration {
	return time.Duration(float64(w.Count) / w.Rate * float64(time.Second))
}

// uncappedMbit is what an estimate takes a transfer without a cap to
// move at: below a container link's rate, for loss and delay slow it.
const uncappedMbit = 100

// sendTime is a sender's time: its seconds, or its bytes at the swept cap
// (at uncappedMbit without one).
func sendTime(s *Spec, w Workload, v float64) time.Duration {
	switch {
	case w.Seconds > 0:
		return time.Duration(w.Seconds * float64(time.Second))
	case w.Bytes > 0 && v > 0 && s.Sweep.Parameter == "rate":
		return time.Duration(float64(w.Bytes*8) / (v * 1e6) * float64(time.Second))
	case w.Bytes > 0:
		return time.Duration(float64(w.Bytes*8) / (uncappedMbit * 1e6) * float64(time.Second))
	}
	return 5 * time.Second
}

// checkPeerTransfer: the bulk transfer's sizes, and two nodes to move
// the file between.
func checkPeerTransfer(f string, s *Spec, w Workload) error {
	for i, sv := range s.Services {
		if sv.Name == "peer" && sv.Replicas < 2 {
			return bad(fmt.Sprintf("services[%d].replicas", i), "%s needs 2 peer nodes, a sender and a receiver", PeerTransfer)
		}
	}
	return checkBulk(f, s, w)
}
