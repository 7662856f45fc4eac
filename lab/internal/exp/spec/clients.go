package spec

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/netlab/netlab/lab/internal/exp/pagetime"
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
	HTTPPage:      {Needs: "http-hello", Check: checkPage, Time: pageTime},

	PartitionHeal: {Needs: "peer", Check: checkPartition, Time: partitionTime},
	KuroseRoss:    {Needs: "peer", Check: checkKurose, Time: kuroseTime},
}

// ClientNames are the clients' names, sorted.
func ClientNames() []string {
	return slices.Sorted(maps.Keys(Clients))
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

// Limits of an http-page workload.
const (
	MaxPages   = 100 // pages per repetition
	MaxObjects = 100 // objects per page: each in a stream of its own at once (RFC 9113 asks servers to allow at least 100)
	// MaxObjectBytes bounds an object. The round-trip count holds while
	// a page's segments fit the initial congestion window (10 segments,
	// RFC 6928); larger pages measure the slow start too.
	MaxObjectBytes = 10_000
)

func checkPage(f string, s *Spec, w Workload) error {
	switch {
	case w.Count < 1 || w.Count > MaxPages:
		return bad(f+".count", "%d: want 1 to %d pages", w.Count, MaxPages)
	case w.Objects < 1 || w.Objects > MaxObjects:
		return bad(f+".objects", "%d: want 1 to %d", w.Objects, MaxObjects)
	case !slices.Contains(pagetime.Connections, w.Connection):
		return bad(f+".connection", "%q: want one of %v", w.Connection, pagetime.Connections)
	case w.ObjectBytes < 0 || w.ObjectBytes > MaxObjectBytes:
		return bad(f+".object_bytes", "%d: want 0 (GET /) to %d", w.ObjectBytes, MaxObjectBytes)
	case s.Sweep.Parameter != "delay":
		return bad("sweep.parameter", "%q: %s counts round trips against the added delay: sweep delay", s.Sweep.Parameter, HTTPPage)
	case !slices.Contains(s.Sweep.Values, 0):
		return bad("sweep.values", "%s measures the base round-trip time at delay 0: include 0", HTTPPage)
	case len(s.Quick.Values) > 0 && !slices.Contains(s.Quick.Values, 0):
		return bad("quick.values", "%s measures the base round-trip time at delay 0: include 0", HTTPPage)
	case s.Impairment.Loss > 0:
		return bad("impairment.loss", "%s counts round trips without loss (a lost segment waits for a retransmission)", HTTPPage)
	}
	return nil
}

// pageTime is count pages of their round trips at delay v (ms), with a
// millisecond of the client's and server's work per round trip and per
// object, and the client container's start.
func pageTime(s *Spec, w Workload, v float64) time.Duration {
	ways := 1.0
	if s.Impairment.Direction == "both" {
		ways = 2
	}
	rtts := pagetime.RTTs(w.Connection, w.Objects)
	ms := float64(w.Count) * (rtts*(ways*v+1) + float64(w.Objects))
	return time.Duration(ms*float64(time.Millisecond)) + time.Second
}

// WorkloadNames are the names of s's workloads that run client.
func (s *Spec) WorkloadNames(client string) []string {
	var names []string
	for _, w := range s.Workloads {
		if w.Client == client {
			names = append(names, w.Name)
		}
	}
	return names
}
