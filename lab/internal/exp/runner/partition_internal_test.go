package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/internal/exp/recovery"
	"github.com/netlab/netlab/lab/internal/exp/spec"
	"github.com/netlab/netlab/lab/internal/shape"
	"github.com/netlab/netlab/lab/internal/stack"
	"github.com/netlab/netlab/services/peer/api"
)

// shaperDocker answers the shaper's one-shot runs like netlab-shaper,
// keeping each container's partition (the addresses it drops).
type shaperDocker struct {
	mu      sync.Mutex
	runs    []string            // "VERB container:ID ARGS"
	drops   map[string][]string // container → addresses dropped
	failOn  string              // container whose partition run fails
	touched chan struct{}       // a partition was applied
}

func newShaperDocker() *shaperDocker {
	return &shaperDocker{drops: map[string][]string{}, touched: make(chan struct{}, 16)}
}

func (f *shaperDocker) Run(_ context.Context, args ...string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if args[0] == "ps" { // Show's sidecars: none
		return nil, nil
	}
	i := slices.Index(args, "img")
	if args[0] != "run" || i < 0 {
		return nil, fmt.Errorf("unexpected docker %v", args)
	}
	target := args[slices.Index(args, "--network")+1]
	verb, rest := args[i+1], args[i+2:]
	f.runs = append(f.runs, strings.TrimSpace(verb+" "+target+" "+strings.Join(rest, " ")))
	switch verb {
	case "show":
		var items []string
		for _, a := range f.drops[target] {
			items = append(items, `{"impairment":"partition","value":"`+a+`","direction":"both","mechanism":"nft drop"}`)
		}
		return []byte(`{"caps":{},"items":[` + strings.Join(items, ",") + `],"queue":[]}` + "\n"), nil
	case "partition":
		if target == "container:"+f.failOn {
			return nil, errors.New("netlab-shaper partition: boom")
		}
		f.drops[target] = rest
		f.touched <- struct{}{}
		return []byte(`{"applied":[{"impairment":"partition","value":"` + strings.Join(rest, ",") + `","direction":"both","mechanism":"nft drop + conntrack flush"}]}` + "\n"), nil
	case "heal":
		delete(f.drops, target)
		return []byte("{}\n"), nil
	}
	return nil, fmt.Errorf("unexpected shaper verb %q", verb)
}

func (f *shaperDocker) FirstLine(context.Context, ...string) ([]byte, error) {
	return nil, errors.New("no sidecar expected")
}

func (f *shaperDocker) partitioned() map[string][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string][]string{}
	for k, v := range f.drops {
		out[k] = v
	}
	return out
}

func peerC(n int) stack.Container {
	return stack.Container{ID: fmt.Sprintf("id%d", n), Service: "peer", Number: n, IPs: map[string]string{"p_netlab": fmt.Sprintf("10.0.0.%d", n)}}
}

// testSwarm is peer-1 seeding, peer-2 and peer-3 cut off, peer-4 with
// peer-1; partition at 10 ms, healed after hold.
func testSwarm(f *shaperDocker, hold time.Duration) *swarmRun {
	e := &Env{Spec: &spec.Spec{Name: "t", Interval: spec.Duration(500 * time.Millisecond)}, Progress: io.Discard,
		Shaper: shape.Runner{Docker: f, Project: "p", Image: "img"}, t0: time.Now(), run: &run{mechs: map[string]bool{}}}
	w := spec.Workload{Name: "swarm", PartitionAt: spec.Duration(10 * time.Millisecond), HealAt: spec.Duration(10*time.Millisecond + hold)}
	sw := &swarmRun{e: e, w: w, params: recovery.Params{Dial: 1, Refresh: 1, Interval: 0.5},
		seeds: []stack.Container{peerC(1)}, down: []stack.Container{peerC(2), peerC(3), peerC(4)}, nodes: map[string]*recovery.Node{}}
	sw.cut, sw.far = sw.down[:2], []stack.Container{peerC(1), peerC(4)}
	for i, c := range sw.down {
		sw.nodes[c.ID] = &recovery.Node{Label: c.Label(), Cut: i < 2, Complete: math.NaN()}
	}
	return sw
}

func TestTimeline_CutsTheFarSideAndHeals(t *testing.T) {
	f := newShaperDocker()
	sw := testSwarm(f, 200*time.Millisecond)
	if err := sw.timeline(t.Context()); err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, r := range f.runs {
		if strings.HasPrefix(r, "partition") {
			parts = append(parts, r)
		}
	}
	slices.Sort(parts)
	want := []string{"partition container:id1 10.0.0.2 10.0.0.3", "partition container:id4 10.0.0.2 10.0.0.3"}
	if !slices.Equal(parts, want) {
		t.Errorf("partitions %q, want %q", parts, want)
	}
	tl := sw.tl
	if !(tl.Start <= tl.PartitionBegin && tl.PartitionBegin <= tl.Partition && tl.HealBegin-tl.Partition >= 0.2 && tl.HealBegin <= tl.Heal) {
		t.Errorf("timeline out of order or the cut shorter than its hold: %+v", tl)
	}
	if left := f.partitioned(); len(left) != 0 {
		t.Errorf("partitions left after the heal: %v", left)
	}
	if n, err := sw.rulesLeft(t.Context()); n != 0 || err != nil {
		t.Errorf("rules left %d, %v", n, err)
	}
	if sw.bound.Total <= 0 || sw.params.Partition < 0.2 {
		t.Errorf("bound %+v from a partition of %v s", sw.bound, sw.params.Partition)
	}
	if !sw.e.run.mechs["peer-1: partition both: nft drop + conntrack flush"] || !sw.e.run.mechs["peer-4: partition both: nft drop + conntrack flush"] {
		t.Errorf("mechanisms %v", sw.e.run.mechs)
	}
}

func TestTimeline_InterruptedWhileCutStillHeals(t *testing.T) {
	f := newShaperDocker()
	sw := testSwarm(f, time.Hour)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-f.touched
		<-f.touched
		cancel() // Ctrl-C while the cut holds
	}()
	err := sw.timeline(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want the interruption", err)
	}
	if left := f.partitioned(); len(left) != 0 {
		t.Errorf("an interrupted run left partitions: %v", left)
	}
	if n, err := sw.rulesLeft(t.Context()); n != 0 || err != nil {
		t.Errorf("%d rules read back after the interruption (%v)", n, err)
	}
}

func TestTimeline_FailedPartitionHealsTheOthers(t *testing.T) {
	f := newShaperDocker()
	f.failOn = "id4"
	sw := testSwarm(f, time.Hour)
	err := sw.timeline(t.Context())
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("error %v, want the partition's", err)
	}
	if left := f.partitioned(); len(left) != 0 {
		t.Errorf("a failed partition left %v", left)
	}
	heals := 0
	for _, r := range f.runs {
		if strings.HasPrefix(r, "heal") {
			heals++
		}
	}
	if heals < 2 {
		t.Errorf("%d heals after the failure, want one per far-side node: %q", heals, f.runs)
	}
}

func TestAcross_CountsTheBytesFromTheOtherSide(t *testing.T) {
	sw := testSwarm(newShaperDocker(), time.Second)
	d := api.Download{Sources: map[string]api.Source{
		"10.0.0.1:8001": {Bytes: 100}, // the seed
		"10.0.0.3:8001": {Bytes: 20},  // a cut node
		"10.0.0.4:8001": {Bytes: 7},   // with the seed
	}}
	if got := across(d, sw.acrossIPs(peerC(2))); got != 107 {
		t.Errorf("a cut node: %v bytes from across, want 107 (seed and peer-4)", got)
	}
	if got := across(d, sw.acrossIPs(peerC(4))); got != 20 {
		t.Errorf("a node with the seed: %v bytes from across, want 20 (the cut peer-3)", got)
	}
}

func TestSeededFile_SameSeedSameContent(t *testing.T) {
	a, err1 := io.ReadAll(seededFile(7, 100_000))
	b, err2 := io.ReadAll(seededFile(7, 100_000))
	c, _ := io.ReadAll(seededFile(8, 100_000))
	if err1 != nil || err2 != nil || len(a) != 100_000 || string(a) != string(b) || string(a) == string(c) {
		t.Errorf("seeded content: %d bytes, same seed equal %v, other seed different %v", len(a), string(a) == string(b), string(a) != string(c))
	}
	sum, err := seededSum(7, 100_000)
	if err != nil || sum == ([32]byte{}) {
		t.Errorf("sum %x, %v", sum, err)
	}
}
