package render

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/netlab/netlab/lab/internal/exp/recovery"
	"github.com/netlab/netlab/lab/internal/exp/result"
	"github.com/netlab/netlab/lab/internal/exp/spec"
)

// swarmRep is one repetition of a partition-heal workload, read back
// from the series.
type swarmRep struct {
	rep      int
	tl       recovery.Timeline
	bound    recovery.Bound
	size     float64
	whole    float64          // the seeds could have sent the file by then
	least    float64          // the least time to complete after the heal
	nodes    []*recovery.Node // by label
	verified map[string]bool
}

// swarmReps reads every repetition of workload w from the series.
func swarmReps(rows []result.Row, w string) ([]*swarmRep, error) {
	src := "workload:" + w
	byRep := map[int]*swarmRep{}
	get := func(rep int) *swarmRep {
		if byRep[rep] == nil {
			byRep[rep] = &swarmRep{rep: rep, verified: map[string]bool{}}
		}
		return byRep[rep]
	}
	nodes := map[int]map[string]*recovery.Node{}
	for _, r := range rows {
		switch {
		case r.Source == src:
			setEvent(get(r.Rep), r.Metric, r.V)
		case strings.HasPrefix(r.Source, src+"/"):
			sr := get(r.Rep)
			if nodes[r.Rep] == nil {
				nodes[r.Rep] = map[string]*recovery.Node{}
			}
			label := strings.TrimPrefix(r.Source, src+"/")
			n := nodes[r.Rep][label]
			if n == nil {
				n = &recovery.Node{Label: label, Complete: math.NaN()}
				nodes[r.Rep][label] = n
				sr.nodes = append(sr.nodes, n)
			}
			setNode(sr, n, r)
		}
	}
	var out []*swarmRep
	for _, rep := range slices.Sorted(maps.Keys(byRep)) {
		sr := byRep[rep]
		if sr.tl.Heal <= 0 || len(sr.nodes) == 0 {
			return nil, fmt.Errorf("workload %s, repetition %d: the series has no heal or no downloader", w, rep+1)
		}
		slices.SortFunc(sr.nodes, func(a, b *recovery.Node) int { return labelCmp(a.Label, b.Label) })
		out = append(out, sr)
	}
	return out, nil
}

func setEvent(sr *swarmRep, metric string, v float64) {
	switch metric {
	case recovery.EventStart:
		sr.tl.Start = v
	case recovery.EventPartitionBegin:
		sr.tl.PartitionBegin = v
	case recovery.EventPartition:
		sr.tl.Partition = v
	case recovery.EventHealBegin:
		sr.tl.HealBegin = v
	case recovery.EventHeal:
		sr.tl.Heal = v
	case recovery.EventHealEnd:
		sr.tl.HealEnd = v
	case recovery.EventBound:
		sr.bound.Total = v
	case recovery.EventBoundFailures:
		sr.bound.Failures = int(v)
	case recovery.EventBoundBackoff:
		sr.bound.Backoff = v
	case recovery.EventBoundPiece:
		sr.bound.Piece = v
	case recovery.EventFileBytes:
		sr.size = v
	case recovery.EventWhole:
		sr.whole = v
	case recovery.EventCompleteBound:
		sr.least = v
	}
}

// setNode adds one of a downloader's rows: a poll's bytes (a new
// sample), its bytes from across the cut (that sample's), its side, its
// completion, its check.
func setNode(sr *swarmRep, n *recovery.Node, r result.Row) {
	switch r.Metric {
	case recovery.NodeBytes:
		n.Samples = append(n.Samples, recovery.Sample{T: r.T, Bytes: r.V})
	case recovery.NodeAcross:
		if k := len(n.Samples) - 1; k >= 0 && n.Samples[k].T == r.T {
			n.Samples[k].Across = r.V
		}
	case recovery.NodeCut:
		n.Cut = r.V == 1
	case recovery.NodeComplete:
		n.Complete = r.V
	case recovery.NodeVerified:
		sr.verified[n.Label] = r.V == 1
	}
}

// labelCmp orders service-number labels by their number.
func labelCmp(a, b string) int {
	na, ea := strconv.Atoi(a[strings.LastIndex(a, "-")+1:])
	nb, eb := strconv.Atoi(b[strings.LastIndex(b, "-")+1:])
	if ea != nil || eb != nil || na == nb {
		return strings.Compare(a, b)
	}
	return cmp.Compare(na, nb)
}

// partitionSections are a partition-heal run's sections: per workload,
// the table of what each downloader went through in each repetition,
// and a time line of their throughput per repetition.
func partitionSections(dir string, r *result.Result, rows []result.Row) ([]Section, error) {
	var out []Section
	ran, _ := readSpec(dir) // without it, no seeds' cap is drawn
	for _, w := range workloadsOf(r, spec.PartitionHeal) {
		reps, err := swarmReps(rows, w)
		if err != nil {
			return nil, err
		}
		interval := sampleInterval(reps)
		sec := Section{Heading: "Partition and heal: " + w, Text: partitionText(reps, interval), Table: recoveryTable(reps, interval)}
		seedsCap := seedsCap(ran, w)
		for _, sr := range reps {
			name := fmt.Sprintf("%s-%s-timeline-%d", r.Name, w, sr.rep+1)
			p, err := timelinePlot(r, w, sr, len(reps) > 1, interval, seedsCap)
			if err != nil {
				return nil, err
			}
			if _, err := WritePlot(dir, name, p); err != nil {
				return nil, err
			}
			sec.Plots = append(sec.Plots, name)
		}
		out = append(out, sec)
	}
	return out, nil
}

// seedsCap is what workload w's seeds can upload together, bytes per
// second; 0 when the spec does not say.
func seedsCap(s *spec.Spec, w string) float64 {
	if s == nil {
		return 0
	}
	st, err := spec.PeerSettingsOf(s)
	i := slices.IndexFunc(s.Workloads, func(x spec.Workload) bool { return x.Name == w })
	if err != nil || i < 0 {
		return 0
	}
	return float64(s.Workloads[i].Seeds) * float64(st.UploadRate)
}

// workloadsOf are the workloads of r that ran client.
func workloadsOf(r *result.Result, client string) []string {
	var out []string
	for _, k := range seriesKeys(r) {
		if k.client == client && !slices.Contains(out, k.workload) {
			out = append(out, k.workload)
		}
	}
	return out
}

// sampleInterval is the median time between two polls of a node.
func sampleInterval(reps []*swarmRep) float64 {
	var d []float64
	for _, sr := range reps {
		for _, n := range sr.nodes {
			for i := 1; i < len(n.Samples); i++ {
				d = append(d, n.Samples[i].T-n.Samples[i-1].T)
			}
		}
	}
	if len(d) == 0 {
		return 1
	}
	slices.Sort(d)
	return d[len(d)/2]
}

func partitionText(reps []*swarmRep, interval float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Downloaders polled every %.1f s. While the cut holds nothing should cross it; once a node across it is "+
		"healed, a cut node should make progress again within the bound (%s). Times from the start of the downloads.", interval, recovery.BoundLabel)
	for _, sr := range reps {
		tl, bd := sr.tl, sr.bound
		fmt.Fprintf(&b, " Repetition %d: the partition was set from +%.1f to +%.1f s and held until the heal began at +%.1f; "+
			"the first node across was healed at +%.1f s, the last at +%.1f s; bound %.1f s = backoff after %d failed dials %.0f s "+
			"+ first piece %.1f s + DIAL_TIMEOUT, REFRESH_INTERVAL, pick-up and poll %.1f s.", sr.rep+1, tl.PartitionBegin-tl.Start,
			tl.Partition-tl.Start, tl.HealBegin-tl.Start, tl.Heal-tl.Start, tl.HealEnd-tl.Start, bd.Total, bd.Failures, bd.Backoff,
			bd.Piece, bd.Total-bd.Backoff-bd.Piece)
		if sr.least > 0 {
			fmt.Fprintf(&b, " The cut nodes could not all complete sooner than %.1f s after the heal (least: what they lacked "+
				"then, through every node's upload cap).", sr.least)
		}
		if sr.whole > 0 && tl.Partition > sr.whole {
			fmt.Fprintf(&b, " The partition came after the seeds could have sent the whole file (+%.1f s): the cut nodes may have "+
				"held all of it between them.", sr.whole-tl.Start)
		}
	}
	return b.String()
}

// recoveryTable is one row per repetition and downloader.
func recoveryTable(reps []*swarmRep, interval float64) [][]string {
	rows := [][]string{{"repetition", "node", "side", "across the cut while cut (bytes)", "stalled at the heal (s)",
		"heal → progress (s)", "heal → bytes from across (s)", "bound (s)", "within bound", "heal → complete (s)", "least (s)", "file verified"}}
	for _, sr := range reps {
		for _, n := range sr.nodes {
			o := recovery.Analyze(sr.tl, *n, recovery.Grace(interval))
			side, resume, across, bound, within, least := "with the sources", "—", "—", "—", "—", "—"
			if n.Cut {
				side, resume, across, bound = "cut off", num(o.Resume), num(o.ResumeAcross), num(sr.bound.Total)
				if sr.least > 0 {
					least = num(sr.least)
				}
				within = map[bool]string{true: "yes", false: "**no**"}[!math.IsNaN(o.Resume) && o.Resume <= sr.bound.Total]
			}
			verified := map[bool]string{true: "yes", false: "**no**"}[sr.verified[n.Label]]
			rows = append(rows, []string{strconv.Itoa(sr.rep + 1), n.Label, side, num(o.AcrossDuring), num(o.StalledAtHeal),
				resume, across, bound, within, num(o.Complete), least, verified})
		}
	}
	return rows
}
