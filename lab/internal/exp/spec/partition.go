package spec

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/netlab/netlab/lab/internal/exp/recovery"
	"github.com/netlab/netlab/services/platform/config"
)

// PartitionHeal is the client of a swarm download whose sources are cut
// off mid-way and healed: peer nodes and the lab's partitions.
const PartitionHeal = "partition-heal"

// Limits of a partition-heal workload.
const (
	MaxPartitionFile   = 256 << 20 // the file, generated and hashed by the lab
	MinPartitionPieces = 8         // so progress shows piece by piece
)

// PeerSettings are the peer nodes' settings the partition-heal theory
// reads, from the spec's env of the peer service over the values of
// deploy/env/peer.env (the compose stack's), which are the defaults here.
type PeerSettings struct {
	UploadRate config.ByteSize `env:"UPLOAD_RATE" envDefault:"0"`
	PieceSize  config.ByteSize `env:"PIECE_SIZE" envDefault:"1MiB"`
	Refresh    time.Duration   `env:"REFRESH_INTERVAL" envDefault:"3s"`
	Dial       time.Duration   `env:"DIAL_TIMEOUT" envDefault:"3s"`
	IO         time.Duration   `env:"IO_TIMEOUT" envDefault:"10s"`
}

// peerService is the index of the peer service in s, or -1.
func peerService(s *Spec) int {
	return slices.IndexFunc(s.Services, func(sv Service) bool { return sv.Name == "peer" })
}

// PeerSettingsOf reads the peer service's settings of s; a bad one is a
// *FieldError naming services[k].env.VAR.
func PeerSettingsOf(s *Spec) (PeerSettings, error) {
	k := peerService(s)
	if k < 0 {
		return PeerSettings{}, bad("services", "no peer service")
	}
	// A map of its own even when empty: a nil one would make Load read
	// this process's environment.
	env := maps.Clone(s.Services[k].Env)
	if env == nil {
		env = map[string]string{}
	}
	var st PeerSettings
	err := config.Load(&st, env)
	var ce *config.Error
	if errors.As(err, &ce) {
		return st, bad(fmt.Sprintf("services[%d].env.%s", k, ce.Var), "%s", ce.Reason)
	}
	if err != nil {
		return st, bad(fmt.Sprintf("services[%d].env", k), "%v", err)
	}
	for _, v := range []struct {
		name string
		d    time.Duration
	}{{"REFRESH_INTERVAL", st.Refresh}, {"DIAL_TIMEOUT", st.Dial}, {"IO_TIMEOUT", st.IO}} {
		if v.d <= 0 || v.d > time.Minute {
			return st, bad(fmt.Sprintf("services[%d].env.%s", k, v.name), "%v: want above 0, up to 1m", v.d)
		}
	}
	return st, nil
}

// PartitionParams are the recovery bound's inputs for w in s.
func PartitionParams(s *Spec, w Workload) (recovery.Params, error) {
	st, err := PeerSettingsOf(s)
	if err != nil {
		return recovery.Params{}, err
	}
	interval := s.Interval.D()
	if interval == 0 {
		interval = DefaultInterval
	}
	n := s.Services[peerService(s)].Replicas
	return recovery.Params{Partition: (w.HealAt - w.PartitionAt).D().Seconds(), Refresh: st.Refresh.Seconds(), Dial: st.Dial.Seconds(),
		PieceSize: float64(st.PieceSize), UploadRate: float64(st.UploadRate), Downloaders: n - w.Seeds, Interval: interval.Seconds()}, nil
}

func checkPartition(f string, s *Spec, w Workload) error {
	if s.Sweep.Parameter != "" && s.Sweep.Parameter != Single {
		return bad("sweep.parameter", "%s runs one point: remove the sweep", PartitionHeal)
	}
	st, err := PeerSettingsOf(s)
	if err != nil {
		return err
	}
	k := peerService(s)
	n := s.Services[k].Replicas
	switch {
	case st.UploadRate <= 0:
		return bad(fmt.Sprintf("services[%d].env.UPLOAD_RATE", k), "set an upload cap (bytes per second): uncapped, the download is over before the partition")
	case w.Seeds < 1 || w.Seeds > n-1:
		return bad(f+".seeds", "%d: want 1 to %d (peer replicas − 1: someone must download)", w.Seeds, n-1)
	case w.Cut < 1 || w.Cut > n-w.Seeds:
		return bad(f+".cut", "%d: want 1 to %d (the downloaders)", w.Cut, n-w.Seeds)
	case w.Bytes < MinPartitionPieces*int64(st.PieceSize) || w.Bytes > MaxPartitionFile:
		return bad(f+".bytes", "%d: want %d pieces of PIECE_SIZE (%d bytes) up to %d bytes", w.Bytes, MinPartitionPieces, MinPartitionPieces*int64(st.PieceSize), MaxPartitionFile)
	}
	if err := checkTimeline(f, st, w); err != nil {
		return err
	}
	if q := s.Quick.Scale; finite(q) && q > 0 && q <= 1 {
		if err := checkTimeline(f, st, w.scaled(q)); err != nil {
			var fe *FieldError
			errors.As(err, &fe)
			return bad("quick.scale", "%v: in the quick form, %s: %s", q, fe.Field, fe.Msg)
		}
	}
	return nil
}

// checkTimeline checks w's times against the nodes' settings: the cut
// must hold long enough to break the connections, and come before the
// seeds could have sent the whole file.
func checkTimeline(f string, st PeerSettings, w Workload) error {
	p, h := w.PartitionAt.D(), w.HealAt.D()
	// Connections across the cut break within IO_TIMEOUT of a pending
	// read, which a refresh starts, and are dropped at the next refresh.
	breaks := st.IO + 2*st.Refresh
	// The seeds' caps (each with a quarter second of burst) send at most
	// seeds × UPLOAD_RATE × (t + 0.25 s) bytes by t.
	whole := time.Duration((float64(w.Bytes)/(float64(w.Seeds)*float64(st.UploadRate)) - 0.25) * float64(time.Second))
	switch {
	case p <= 0 || p > MaxSeconds*time.Second:
		return bad(f+".partition_at", "want above 0, up to %ds", MaxSeconds)
	case p >= whole:
		return bad(f+".partition_at", "%v: the seeds may have sent the whole file by then (%d bytes from %d seeds at UPLOAD_RATE %d B/s take %v): partition sooner, or make the file larger or the cap lower",
			p, w.Bytes, w.Seeds, int64(st.UploadRate), whole.Round(time.Millisecond))
	case h <= p:
		return bad(f+".heal_at", "%v: want after partition_at (%v)", h, p)
	case h-p <= breaks:
		return bad(f+".heal_at", "the partition lasts %v: want longer than IO_TIMEOUT + 2 × REFRESH_INTERVAL (%v), so that the connections across it break", h-p, breaks)
	case !finite(w.Seconds) || w.Seconds <= h.Seconds() || w.Seconds > MaxSeconds:
		return bad(f+".seconds", "%v: want after heal_at (%v), up to %d", w.Seconds, h, MaxSeconds)
	}
	return nil
}

// partitionTime is about how long a run takes: the setup, the download
// at the caps, the stall, and half the recovery bound; at most Seconds.
func partitionTime(s *Spec, w Workload, _ float64) time.Duration {
	p, err := PartitionParams(s, w)
	if err != nil || p.UploadRate <= 0 || w.Seeds < 1 {
		return 5 * time.Second
	}
	n := float64(p.Downloaders + w.Seeds)
	f := float64(w.Bytes)
	download := math.Max(f/(float64(w.Seeds)*p.UploadRate), float64(p.Downloaders)*f/(n*p.UploadRate))
	secs := 3 + download + p.Partition + recovery.RecoveryBound(p).Total/2
	return time.Duration(math.Min(secs, w.Seconds) * float64(time.Second))
}
