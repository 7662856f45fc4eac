package spec_test

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/internal/exp/spec"
)

// goodPartition is a valid partition-heal spec; each bad case changes
// one line of it.
const goodPartition = `name: ph
title: Partition and heal
services:
  - name: peer
    replicas: 5
    env:
      UPLOAD_RATE: "262144"
      PIECE_SIZE: 64KiB
      REFRESH_INTERVAL: 1s
      DIAL_TIMEOUT: 1s
      IO_TIMEOUT: 3s
workloads:
  - name: swarm
    client: partition-heal
    bytes: 16777216
    seeds: 1
    cut: 3
    partition_at: 12s
    heal_at: 36s
    seconds: 240
repetitions: 2
interval: 500ms
quick:
  repetitions: 1
  scale: 0.25
`

func TestParse_PartitionSpec(t *testing.T) {
	s := mustParse(t, goodPartition)
	w := s.Workloads[0]
	if w.Seeds != 1 || w.Cut != 3 || w.PartitionAt.D() != 12*time.Second || w.HealAt.D() != 36*time.Second || w.Bytes != 16<<20 {
		t.Errorf("parsed %+v", w)
	}
	q := s.Effective(true).Workloads[0]
	if q.PartitionAt.D() != 3*time.Second || q.HealAt.D() != 9*time.Second || q.Bytes != 4<<20 || q.Seconds != 60 {
		t.Errorf("quick form: partition at %v, heal at %v, %d bytes, %v s; want 3s, 9s, 4 MiB, 60 s", q.PartitionAt.D(), q.HealAt.D(), q.Bytes, q.Seconds)
	}
	p, err := spec.PartitionParams(s, w)
	if err != nil || p.Partition != 24 || p.Refresh != 1 || p.Dial != 1 || p.PieceSize != 64<<10 || p.UploadRate != 262144 || p.Downloaders != 4 || p.Interval != 0.5 {
		t.Errorf("bound's inputs %+v, %v", p, err)
	}
	// Setup, 64 s for the seed to send 16 MiB at 256 KiB/s, the 24 s cut,
	// half the bound: under the 240 s limit.
	if d := s.WorkloadTime(w, 0); d < 90*time.Second || d > 240*time.Second {
		t.Errorf("one run takes about %v", d)
	}
}

// A run's spec.yaml (the spec as it ran: one point written as the sweep
// "none") parses again.
func TestParse_WrittenSingleSpecParsesAgain(t *testing.T) {
	s := mustParse(t, goodPartition)
	for _, quick := range []bool{false, true} {
		if again := reparsed(t, s.Effective(quick)); again.Sweep.Parameter != spec.Single {
			t.Errorf("quick %v: written back with the sweep %q, want %q", quick, again.Sweep.Parameter, spec.Single)
		}
	}
	bad := strings.Replace(goodPartition, "interval: 500ms", "interval: 500ms\nsweep:\n  parameter: none\n  values: [3]", 1)
	if _, err := spec.Parse(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "sweep.values: none has one value, 0") {
		t.Errorf("a sweep of none with values: %v", err)
	}
}

func TestParse_BadPartitionSpecNamesTheField(t *testing.T) {
	checkBadEdits(t, goodPartition, []badEdit{
		{"no cap", `      UPLOAD_RATE: "262144"`, `      UPLOAD_RATE: "0"`, "services[0].env.UPLOAD_RATE: set an upload cap"},
		{"bad cap", `      UPLOAD_RATE: "262144"`, `      UPLOAD_RATE: fast`, "services[0].env.UPLOAD_RATE:"},
		{"bad refresh", "REFRESH_INTERVAL: 1s", "REFRESH_INTERVAL: 2h", "services[0].env.REFRESH_INTERVAL: 2h0m0s"},
		{"not a duration", "DIAL_TIMEOUT: 1s", "DIAL_TIMEOUT: soon", "services[0].env.DIAL_TIMEOUT:"},
		{"no seed", "seeds: 1", "seeds: 0", "workloads[0].seeds: 0: want 1 to 4"},
		{"nobody downloads", "seeds: 1", "seeds: 5", "workloads[0].seeds: 5"},
		{"cut more than download", "cut: 3", "cut: 5", "workloads[0].cut: 5: want 1 to 4"},
		{"cut none", "cut: 3", "cut: 0", "workloads[0].cut: 0"},
		{"file under 8 pieces", "bytes: 16777216", "bytes: 100000", "workloads[0].bytes: 100000"},
		{"file too large", "bytes: 16777216", "bytes: 1073741824", "workloads[0].bytes:"},
		{"no partition time", "partition_at: 12s", "partition_at: 0s", "workloads[0].partition_at: want above 0"},
		{"partition after the seed is done", "partition_at: 12s", "partition_at: 70s", "workloads[0].partition_at: 1m10s: the seeds may have sent the whole file"},
		{"heal before partition", "heal_at: 36s", "heal_at: 10s", "workloads[0].heal_at: 10s: want after partition_at"},
		{"partition too short to break a connection", "heal_at: 36s", "heal_at: 16s", "workloads[0].heal_at: the partition lasts 4s: want longer than IO_TIMEOUT + 2 × REFRESH_INTERVAL (5s)"},
		{"no time to finish", "seconds: 240", "seconds: 30", "workloads[0].seconds: 30"},
		{"over the limit", "seconds: 240", "seconds: 400", "workloads[0].seconds: 400"},
		{"quick form too short", "scale: 0.25", "scale: 0.1", "quick.scale: 0.1: in the quick form, workloads[0].heal_at: the partition lasts 2.4s"},
		{"a sweep", "interval: 500ms", "interval: 500ms\nsweep:\n  parameter: nodes\n  values: [5]", "sweep.parameter: partition-heal runs one point"},
		{"no peers", "  - name: peer\n    replicas: 5", "  - name: tcp-echo\n    replicas: 1", "workloads[0].client: partition-heal talks to peer"},
	})
}

// The settings a spec leaves out are the compose stack's: the defaults
// of PeerSettings must be deploy/env/peer.env's values.
func TestPeerSettings_DefaultsAreTheStacks(t *testing.T) {
	f, err := os.Open("../../../../deploy/env/peer.env")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && !strings.HasPrefix(k, "#") {
			env[k] = v
		}
	}
	bare := &spec.Spec{Services: []spec.Service{{Name: "peer", Replicas: 2}}}
	fromFile := &spec.Spec{Services: []spec.Service{{Name: "peer", Replicas: 2, Env: env}}}
	got, err1 := spec.PeerSettingsOf(bare)
	want, err2 := spec.PeerSettingsOf(fromFile)
	if err1 != nil || err2 != nil || got != want {
		t.Errorf("defaults %+v (%v), deploy/env/peer.env %+v (%v)", got, err1, want, err2)
	}
	// UPLOAD_RATE is set in docker-compose.yml (0 unless PEER_UPLOAD_RATE).
	if got.UploadRate != 0 || got.Refresh != 3*time.Second || got.IO != 10*time.Second {
		t.Errorf("defaults %+v", got)
	}
}

// A variable of this process's environment is not a spec's setting.
func TestPeerSettings_IgnoreTheProcessEnvironment(t *testing.T) {
	t.Setenv("UPLOAD_RATE", "12345")
	st, err := spec.PeerSettingsOf(&spec.Spec{Services: []spec.Service{{Name: "peer", Replicas: 2}}})
	if err != nil || st.UploadRate != 0 {
		t.Errorf("upload rate %d (%v), want 0 from the spec", st.UploadRate, err)
	}
}
