package spec

import (
	"fmt"
	"slices"
	"time"

	"github.com/netlab/netlab/lab/internal/exp/filedist"
)

// The arms of a kurose-ross workload.
const (
	ArmClientServer = "client-server"
	ArmPeerToPeer   = "peer-to-peer"
)

// Arms are the values of a kurose-ross workload's arm.
var Arms = []string{ArmClientServer, ArmPeerToPeer}

// Limits of a kurose-ross workload.
const (
	MaxKuroseFile = 256 << 20
	// MinKuroseRate keeps a downloader's cap above what its receivers'
	// IO_TIMEOUT needs (two 64 KiB chunks per IO_TIMEOUT at most 10 s).
	MinKuroseRate = 64 << 10
	MaxKuroseRate = 1 << 30
)

// KuroseParams are the bounds' inputs of w in s for n downloaders:
// downloads are not the limit (no cap on them).
func KuroseParams(s *Spec, w Workload, n int) (filedist.Params, error) {
	st, err := PeerSettingsOf(s)
	if err != nil {
		return filedist.Params{}, err
	}
	return filedist.Params{F: float64(w.Bytes), Us: float64(st.UploadRate), U: float64(w.PeerRate), N: n}, nil
}

// KuroseBound is the bound of w's arm at n downloaders, and its term.
func KuroseBound(p filedist.Params, arm string) (float64, filedist.Term) {
	if arm == ArmClientServer {
		return filedist.ClientServer(p)
	}
	return filedist.PeerToPeer(p)
}

func checkKurose(f string, s *Spec, w Workload) error {
	if s.Sweep.Parameter != "nodes" {
		return bad("sweep.parameter", "%q: %s distributes to N nodes: sweep nodes", s.Sweep.Parameter, KuroseRoss)
	}
	st, err := PeerSettingsOf(s)
	if err != nil {
		return err
	}
	k := peerService(s)
	switch {
	case s.Services[k].Replicas != 1:
		return bad(fmt.Sprintf("services[%d].replicas", k), "%d: %s's server is the one peer node of the stack; it starts the downloaders itself", s.Services[k].Replicas, KuroseRoss)
	case st.UploadRate <= 0:
		return bad(fmt.Sprintf("services[%d].env.UPLOAD_RATE", k), "set the server's upload cap (us, bytes per second): the bounds divide by it")
	case !slices.Contains(Arms, w.Arm):
		return bad(f+".arm", "%q: want one of %v", w.Arm, Arms)
	case w.PeerRate < MinKuroseRate || w.PeerRate > MaxKuroseRate:
		return bad(f+".peer_rate", "%d: want %d to %d bytes per second (u, each downloader's upload cap)", w.PeerRate, MinKuroseRate, MaxKuroseRate)
	case w.Bytes < int64(st.PieceSize) || w.Bytes > MaxKuroseFile:
		return bad(f+".bytes", "%d: want one piece of PIECE_SIZE (%d bytes) up to %d", w.Bytes, int64(st.PieceSize), MaxKuroseFile)
	case !finite(w.Seconds) || w.Seconds <= 0 || w.Seconds > MaxSeconds:
		return bad(f+".seconds", "%v: want above 0, up to %d (the longest a distribution may take)", w.Seconds, MaxSeconds)
	}
	return nil
}

// kuroseTime is about how long one distribution to v nodes takes: the
// nodes' start (about half a second each on 2 cores), the swarm's
// forming (two refreshes), and the bound once and a half.
func kuroseTime(s *Spec, w Workload, v float64) time.Duration {
	p, err := KuroseParams(s, w, int(v))
	if err != nil || !p.Valid() {
		return 5 * time.Second
	}
	st, _ := PeerSettingsOf(s)
	d, _ := KuroseBound(p, w.Arm)
	secs := 3 + v/2 + 2*st.Refresh.Seconds() + 1.5*d
	return time.Duration(secs * float64(time.Second))
}
