package view

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/netlab/netlab/services/dashboard/internal/poller"
	"github.com/netlab/netlab/services/peer/api"
)

// Swarm is the swarm page: the peer nodes, the links between them with
// the rate each way, and every file with a piece map per node.
type Swarm struct {
	header
	Nodes []Node `json:"nodes"`
	Links []Link `json:"links"`
	Files []File `json:"files"`
	// MoreFiles counts files not shown (MAX_FILES).
	MoreFiles int `json:"more_files,omitempty"`
}

// Node is one peer node.
type Node struct {
	Replica
	ID        string `json:"id,omitempty"` // the node id, shortened
	Files     int    `json:"files"`
	Peers     int    `json:"peers"`
	Downloads int    `json:"downloads"`
	Up        Num    `json:"up"`   // bytes/s sent to peers
	Down      Num    `json:"down"` // bytes/s received from peers
}

// Link is a connection between nodes A < B (indexes into Nodes).
type Link struct {
	A  int `json:"a"`
	B  int `json:"b"`
	AB Num `json:"ab"` // piece bytes/s from A to B
	BA Num `json:"ba"`
}

// File is one file in the swarm.
type File struct {
	ID     string     `json:"id"` // the full file id: what a fetch asks for
	Name   string     `json:"name"`
	Size   int64      `json:"size"`
	Pieces int        `json:"pieces"`
	Maps   []PieceMap `json:"maps"`
	active bool
}

// PieceMap is what one node holds of a file.
type PieceMap struct {
	Node  int    `json:"node"`
	State string `json:"state"` // api.State*: complete when shared
	Held  int    `json:"held"`
	// Map has a digit per cell, 0 to 9: the share of the cell's pieces
	// held, 9 only when all are. Empty when the node holds all or none,
	// or did not say which.
	Map string `json:"map,omitempty"`
}

// BuildSwarm builds the swarm page from every replica that is a peer node.
func BuildSwarm(in Input, maxFiles int) Swarm {
	out := Swarm{header: headerOf("swarm", in, true), Nodes: []Node{}, Links: []Link{}, Files: []File{}}
	var reps []poller.Replica
	for _, svc := range in.Round.Services {
		for _, r := range svc.Replicas {
			if r.Kind == "peer" {
				reps = append(reps, r)
			}
		}
	}
	index := map[string]int{} // by node id
	for i, r := range reps {
		n := Node{Replica: replicaOf(r, in.Round.Time), Up: Num(math.NaN()), Down: Num(math.NaN())}
		c := newCalc(in.History, 1, r.Key)
		n.Up, n.Down = Num(last(c.sum("netlab_peer_bytes_uploaded_total"))), Num(last(c.sum("netlab_peer_bytes_downloaded_total")))
		if r.Peer != nil && r.Peer.Status.NodeID != "" {
			st := r.Peer.Status
			n.ID, n.Files, n.Peers, n.Downloads = short(st.NodeID, 12), st.Files, st.PeersConnected, st.DownloadsActive
			index[st.NodeID] = i
		}
		out.Nodes = append(out.Nodes, n)
	}
	out.Links = links(in, reps, index)
	out.Files, out.MoreFiles = files(reps, maxFiles)
	return out
}

// links are the connections the nodes report, with each side's upload
// rate to the other (netlab_peer_bytes_uploaded_total by peer address).
func links(in Input, reps []poller.Replica, index map[string]int) []Link {
	type pair struct{ a, b int }
	rates := map[pair]*Link{}
	for i, r := range reps {
		if r.Peer == nil || r.State == poller.StateDown {
			continue
		}
		for _, p := range r.Peer.Peers {
			j, ok := index[p.NodeID]
			if !p.Connected || !ok || j == i {
				continue
			}
			k := pair{min(i, j), max(i, j)}
			l := rates[k]
			if l == nil {
				l = &Link{A: k.a, B: k.b, AB: Num(math.NaN()), BA: Num(math.NaN())}
				rates[k] = l
			}
			// No series yet for that peer: nothing was sent to it.
			rate := 0.0
			if r.Metrics == nil {
				rate = math.NaN()
			} else if s := in.History.Get(r.Key, "netlab_peer_bytes_uploaded_total", `peer=`+strconv.Quote(p.Addr)); s != nil {
				rate = last(float64s(in.History.Values(s, 1, nil)))
			}
			if i == k.a {
				l.AB = Num(rate)
			} else {
				l.BA = Num(rate)
			}
		}
	}
	out := make([]Link, 0, len(rates))
	for _, k := range slices.SortedFunc(maps.Keys(rates), func(x, y pair) int { return cmp.Or(cmp.Compare(x.a, y.a), cmp.Compare(x.b, y.b)) }) {
		out = append(out, *rates[k])
	}
	return out
}

func float64s(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// files gathers every file the nodes share or download, at most maxFiles
// of them (those downloading first, then by name), and how many more.
func files(reps []poller.Replica, maxFiles int) ([]File, int) {
	byID := map[string]*File{}
	get := func(id, name string, size int64, pieces int) *File {
		f := byID[id]
		if f == nil {
			f = &File{ID: id, Name: name, Size: size, Pieces: pieces}
			byID[id] = f
		}
		return f
	}
	for i, r := range reps {
		if r.Peer == nil {
			continue
		}
		shared := map[string]bool{}
		for _, lf := range r.Peer.Catalog {
			f := get(lf.ID, lf.Name, lf.Size, lf.Pieces)
			f.Maps = append(f.Maps, PieceMap{Node: i, State: api.StateComplete, Held: lf.Pieces})
			shared[lf.ID] = true
		}
		for _, d := range r.Peer.Downloads {
			if shared[d.ID] {
				continue
			}
			f := get(d.ID, d.Name, d.Size, d.Pieces)
			f.Maps = append(f.Maps, PieceMap{Node: i, State: d.State, Held: d.PiecesHeld, Map: pieceMap(d.Have, d.Pieces, d.PiecesHeld)})
			f.active = f.active || d.State != api.StateComplete && d.State != api.StateFailed
		}
	}
	all := slices.Collect(maps.Values(byID))
	slices.SortFunc(all, func(a, b *File) int {
		if a.active != b.active {
			if a.active {
				return -1
			}
			return 1
		}
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID))
	})
	more := max(0, len(all)-maxFiles)
	out := make([]File, 0, min(len(all), maxFiles))
	for _, f := range all[:len(all)-more] {
		out = append(out, *f)
	}
	return out, more
}

// pieceMap draws a bitfield of n pieces as at most MapCells digits;
// empty when every piece or none is held, or the bitfield is missing.
func pieceMap(have []byte, n, held int) string {
	if n <= 0 || held <= 0 || held >= n || len(have) < (n+7)/8 {
		return ""
	}
	cells := min(n, MapCells)
	var b strings.Builder
	b.Grow(cells)
	for c := range cells {
		lo, hi := c*n/cells, (c+1)*n/cells
		got := 0
		for i := lo; i < hi; i++ {
			if have[i/8]&(0x80>>(i%8)) != 0 {
				got++
			}
		}
		b.WriteByte(byte('0' + got*9/(hi-lo)))
	}
	return b.String()
}
