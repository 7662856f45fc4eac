package spec

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Limits of a latency-matrix workload.
const (
	MaxLinks     = 8
	MaxLinkDelay = time.Second
	MaxLinkLoss  = 50.0 // percent: beyond it too few probes come back to tell
	MaxTolerance = time.Second
)

// MatrixService is the service whose replicas span a latency matrix.
const MatrixService = "udp-responder"

// Link is the impairment of one link between two replicas of a latency
// matrix, named as the lab names them ("udp-responder-2"): From's packets
// to To are delayed by Delay and lose Loss percent; with Both, To's
// packets to From as well.
type Link struct {
	From  string   `yaml:"from"`
	To    string   `yaml:"to"`
	Both  bool     `yaml:"both,omitempty"`
	Delay Duration `yaml:"delay,omitempty"`
	Loss  float64  `yaml:"loss,omitempty"` // percent
}

// Hop is one direction of a link: what From's packets to To meet.
type Hop struct {
	From, To string
	Delay    time.Duration
	Loss     float64 // percent
	Link     int     // the link's index among the workload's links
}

// Hops are the directions of links, two for a link with Both.
func Hops(links []Link) []Hop {
	var out []Hop
	for i, l := range links {
		out = append(out, Hop{From: l.From, To: l.To, Delay: l.Delay.D(), Loss: l.Loss, Link: i})
		if l.Both {
			out = append(out, Hop{From: l.To, To: l.From, Delay: l.Delay.D(), Loss: l.Loss, Link: i})
		}
	}
	return out
}

// LinkShape is one container's share of a matrix's impairments. The
// shaper holds one shape per container, limited to one peer and one
// direction, so each container takes at most one.
type LinkShape struct {
	Container, Peer string
	Direction       string // "egress" for a delay, "ingress" for a loss
	Delay           time.Duration
	Loss            float64
	Link            int // the link it comes from
}

// LinkShapes places every hop's impairments: its delay on the sender's
// outgoing side towards the receiver, its loss on the receiver's incoming
// side from the sender. A delay held on the incoming side is invisible to
// a client there: the kernel stamps a datagram's arrival (SO_TIMESTAMPNS)
// before netfilter's prerouting hook holds it. A loss on the outgoing
// side is reported to the sending socket (EPERM), which the client counts
// as a send error and udp-responder answers by sending again: neither is
// a loss on the wire. Two shares on one container are an error naming
// both links (field f is the workload's).
func LinkShapes(f string, links []Link) ([]LinkShape, error) {
	var out []LinkShape
	place := func(ls LinkShape) error {
		if i := slices.IndexFunc(out, func(o LinkShape) bool { return o.Container == ls.Container }); i >= 0 {
			o := out[i]
			return bad(fmt.Sprintf("%s.links[%d]", f, ls.Link), "%s already carries links[%d]'s %s (towards %s): the shaper holds one shape per container, and a link's delay goes on its sender's outgoing side, its loss on its receiver's incoming side",
				ls.Container, o.Link, shareName(o), o.Peer)
		}
		out = append(out, ls)
		return nil
	}
	for _, h := range Hops(links) {
		if h.Delay > 0 {
			if err := place(LinkShape{Container: h.From, Peer: h.To, Direction: "egress", Delay: h.Delay, Link: h.Link}); err != nil {
				return nil, err
			}
		}
		if h.Loss > 0 {
			if err := place(LinkShape{Container: h.To, Peer: h.From, Direction: "ingress", Loss: h.Loss, Link: h.Link}); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func shareName(ls LinkShape) string {
	if ls.Delay > 0 {
		return "delay"
	}
	return "loss"
}

// MatrixNode is the name of replica i (from 1) of the matrix's service.
func MatrixNode(i int) string { return MatrixService + "-" + strconv.Itoa(i) }

// matrixIndex is the replica number of a MatrixNode name, 0 when name is
// not one.
func matrixIndex(name string) int {
	n, ok := strings.CutPrefix(name, MatrixService+"-")
	if !ok {
		return 0
	}
	i, err := strconv.Atoi(n)
	if err != nil || i < 1 || strconv.Itoa(i) != n {
		return 0
	}
	return i
}

// MatrixNodes is how many replicas a latency-matrix workload spans.
func (s *Spec) MatrixNodes(w Workload) int {
	if w.Nodes > 0 {
		return w.Nodes
	}
	for _, sv := range s.Services {
		if sv.Name == MatrixService {
			return sv.Replicas
		}
	}
	return 0
}

// MatrixTimeout is how long a pair's client waits for the last replies:
// the longest round trip the links can add, and half a second.
func (w Workload) MatrixTimeout() time.Duration {
	var longest time.Duration
	for _, l := range w.Links {
		longest = max(longest, l.Delay.D())
	}
	return 500*time.Millisecond + 2*longest
}

func checkMatrix(f string, s *Spec, w Workload) error {
	if err := checkProbe(f, s, w); err != nil {
		return err
	}
	replicas := s.MatrixNodes(Workload{})
	n := s.MatrixNodes(w)
	switch {
	case s.Swept():
		return bad("sweep", "%s measures one point: leave the sweep out", LatencyMatrix)
	case len(s.Impairment.Targets) > 0:
		return bad("impairment.targets", "%s shapes each link itself (%s.links): leave impairment out", LatencyMatrix, f)
	case replicas < 2:
		return bad(f+".client", "%s needs 2 or more replicas of %s, the spec starts %d", LatencyMatrix, MatrixService, replicas)
	case w.Nodes < 0 || w.Nodes == 1 || w.Nodes > replicas:
		return bad(f+".nodes", "%d: want 2 to %d (the replicas of %s), or 0 for every one", w.Nodes, replicas, MatrixService)
	case w.QuickNodes < 0 || w.QuickNodes == 1 || w.QuickNodes > n:
		return bad(f+".quick_nodes", "%d: want 2 to %d (nodes), or 0 for as many as nodes", w.QuickNodes, n)
	case w.Tolerance <= 0 || w.Tolerance.D() > MaxTolerance:
		return bad(f+".tolerance", "want above 0, up to %v", MaxTolerance)
	case len(w.Links) > MaxLinks:
		return bad(f+".links", "%d links: at most %d", len(w.Links), MaxLinks)
	}
	for i, l := range w.Links {
		if err := checkLink(fmt.Sprintf("%s.links[%d]", f, i), l, n); err != nil {
			return err
		}
	}
	if err := checkHops(f, w.Links); err != nil {
		return err
	}
	_, err := LinkShapes(f, w.Links)
	return err
}

func checkLink(f string, l Link, n int) error {
	for _, end := range []struct{ field, name string }{{"from", l.From}, {"to", l.To}} {
		if i := matrixIndex(end.name); i == 0 || i > n {
			return bad(f+"."+end.field, "%q: want one of %s … %s, the matrix's containers", end.name, MatrixNode(1), MatrixNode(n))
		}
	}
	switch {
	case l.From == l.To:
		return bad(f+".to", "%q is the link's from as well", l.To)
	case l.Delay < 0 || l.Delay.D() > MaxLinkDelay:
		return bad(f+".delay", "want 0 to %v", MaxLinkDelay)
	case math.IsNaN(l.Loss) || l.Loss < 0 || l.Loss > MaxLinkLoss:
		return bad(f+".loss", "%v: want 0 to %v (percent)", l.Loss, MaxLinkLoss)
	case l.Delay == 0 && l.Loss == 0:
		return bad(f, "set a delay, a loss or both")
	}
	return nil
}

// checkHops refuses one direction given by two links: its delay and loss
// belong in one.
func checkHops(f string, links []Link) error {
	seen := map[[2]string]int{}
	for _, h := range Hops(links) {
		k := [2]string{h.From, h.To}
		if j, ok := seen[k]; ok {
			return bad(fmt.Sprintf("%s.links[%d]", f, h.Link), "%s → %s is also links[%d]: give its delay and loss in one link", h.From, h.To, j)
		}
		seen[k] = h.Link
	}
	return nil
}

// quickMatrix is the quick form of a latency-matrix workload: QuickNodes
// replicas, and the links between them alone.
func quickMatrix(w Workload) Workload {
	if w.QuickNodes == 0 {
		return w
	}
	w.Nodes = w.QuickNodes
	w.Links = slices.DeleteFunc(slices.Clone(w.Links), func(l Link) bool {
		return matrixIndex(l.From) > w.Nodes || matrixIndex(l.To) > w.Nodes
	})
	return w
}

// matrixTime is one run of a matrix: a calibration pair and every
// ordered pair, each a client container's start and its probes, and each
// link's shape applied and reset.
func matrixTime(s *Spec, w Workload, _ float64) time.Duration {
	n := s.MatrixNodes(w)
	pair := probeTime(s, w, 0) + w.MatrixTimeout() + 1500*time.Millisecond
	return time.Duration(n*(n-1)+1)*pair + time.Duration(len(Hops(w.Links)))*4*time.Second
}
