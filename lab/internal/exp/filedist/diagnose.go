package filedist

import "fmt"

// Figures of one distribution, as the runner records them in the series
// (each repetition's summary rows) and the report reads them back.
const (
	MetricLast   = "distribution_s"        // start signal → the last node's verified copy
	MetricMedian = "distribution_median_s" // … the median node's
	Bound        = "bound_s"               // the arm's bound at this N
	Nodes        = "nodes"                 // N, the downloaders
	Form         = "swarm_form_s"          // nodes started → every one connected to all others and seeing the file
	StartSkew    = "start_skew_s"          // start signal → the last node's download started (its clock)
	FirstBytes   = "first_bytes_max_s"     // start signal → the last node's first bytes (polled)
	ServerUtil   = "server_upload_util"    // server's bytes sent / (us × last)
	AllUtil      = "all_upload_util"       // every node's bytes sent / ((us + N·u) × last)
	CPUBusy      = "cpu_busy"              // the nodes' CPU seconds / (machine's CPUs × last)
	Overhead     = "upload_overhead"       // every node's bytes sent / (N·F) − 1: pieces sent twice
	Poll         = "poll_s"                // how often progress was polled
)

// Obs is what one distribution measured, for its diagnosis.
type Obs struct {
	Arm        string // "client-server" or "peer-to-peer"
	Last       float64
	Bound      float64
	StartSkew  float64
	FirstBytes float64
	ServerUtil float64
	AllUtil    float64
	CPUBusy    float64
	Overhead   float64
	// Term is the bound's largest term: the uploads it counts are the
	// server's alone (NF/us, F/us) or every one.
	Term Term
	// Poll is how often progress was polled: the first bytes came at
	// most this long before FirstBytes.
	Poll float64
}

// Tolerance is how far a measured time may lie from its bound.
const Tolerance = 0.25

// Thresholds of the diagnosis.
const (
	busyCPU  = 0.85 // the nodes kept the machine's CPUs this busy
	idleLink = 0.80 // an upload used less than this of its cap
	twice    = 0.10 // this much of the file was sent more than once
)

// Diagnose names the term that limited a distribution and the figures
// that show it: within the tolerance, below it (the caps let more
// through than their rate), or above it, from the machine's CPU, the
// start (discovery and the first piece), the uploads left idle (piece
// selection), or the server's own upload.
func Diagnose(o Obs) string {
	if o.Bound <= 0 || o.Last <= 0 {
		return "no measurement"
	}
	r := o.Last / o.Bound
	// The least the start can have taken: the poll before the one that
	// saw the first bytes saw none.
	late := o.StartSkew + max(0, o.FirstBytes-o.Poll)
	switch {
	case r < 1-Tolerance:
		return fmt.Sprintf("below the bound: the upload limiter's accuracy (its burst let %.0f %% of the server's cap through)", 100*o.ServerUtil)
	case r <= 1+Tolerance:
		return fmt.Sprintf("within %.0f %%; most of the rest: %s", 100*Tolerance, largest(o, late)) + detail(o, late)
	case o.CPUBusy >= busyCPU:
		return fmt.Sprintf("the machine's CPU: the nodes used %.0f %% of its CPUs", 100*o.CPUBusy) + detail(o, late)
	case late > (o.Last-o.Bound)/2:
		return fmt.Sprintf("discovery and start: the last node had no bytes %.2f s after the signal", late) + detail(o, late)
	case o.Overhead > twice:
		return fmt.Sprintf("piece selection: %.0f %% of the bytes sent were pieces sent twice (end game)", 100*o.Overhead) + detail(o, late)
	case o.Arm == "peer-to-peer" && o.AllUtil < idleLink && o.ServerUtil >= idleLink:
		return fmt.Sprintf("piece selection: the peers' uploads idle (all uploads at %.0f %% of their caps, the server's at %.0f %%)",
			100*o.AllUtil, 100*o.ServerUtil)
	case o.ServerUtil < idleLink:
		return fmt.Sprintf("the server's upload: at %.0f %% of its cap", 100*o.ServerUtil) + detail(o, late)
	}
	return fmt.Sprintf("the upload limiter's accuracy: uploads at %.0f %% of their caps", 100*o.AllUtil)
}

// largest names the biggest of what kept a distribution from its bound:
// the start (the time to the last node's first bytes), pieces sent twice,
// or the uploads the bound counts (the server's alone in the
// client-server arm, every one in the peer-to-peer arm) idle for part of
// the time.
func largest(o Obs, late float64) string {
	idle, who := 1-o.AllUtil, "uploads"
	if o.Term == TermServerAll || o.Term == TermServerOnce {
		idle, who = 1-o.ServerUtil, "the server's upload"
	}
	start, twice := late/o.Last, o.Overhead/(1+o.Overhead)
	switch {
	case max(idle, start, twice) < 0.02:
		return "nothing over 2 %"
	case start >= idle && start >= twice:
		return fmt.Sprintf("the start (no bytes for %.2f s or more, %.0f %% of the time)", late, 100*start)
	case twice >= idle:
		return fmt.Sprintf("pieces sent twice (%.0f %% of the bytes)", 100*twice)
	}
	return fmt.Sprintf("%s idle %.0f %% of the time", who, 100*idle)
}

// detail is the figures behind a diagnosis.
func detail(o Obs, late float64) string {
	return fmt.Sprintf(" (no bytes yet for ≥ %.2f s; server upload %.0f %%, all uploads %.0f %% of the caps; %.0f %% sent twice; CPU %.0f %%)",
		late, 100*o.ServerUtil, 100*o.AllUtil, 100*o.Overhead, 100*o.CPUBusy)
}
