package view_test

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/services/dashboard/internal/history"
	"github.com/netlab/netlab/services/dashboard/internal/poller"
	"github.com/netlab/netlab/services/dashboard/internal/scrape"
	"github.com/netlab/netlab/services/dashboard/internal/view"
	"github.com/netlab/netlab/services/peer/api"
)

var t0 = time.Unix(1_800_000_000, 0)

// rig feeds rounds to a store and builds views of the last one.
type rig struct {
	t     *testing.T
	store *history.Store
	round poller.Round
	n     int
}

func newRig(t *testing.T, points int) *rig {
	t.Helper()
	s, err := history.New(history.Limits{Points: points, MaxSeries: 100_000})
	if err != nil {
		t.Fatal(err)
	}
	return &rig{t: t, store: s}
}

// replica is one replica of a round: its metrics text ("" for down).
type replica struct {
	service, key, kind, metrics string
	peer                        *poller.PeerInfo
}

// feed appends a round, a second after the last one.
func (g *rig) feed(reps ...replica) {
	g.t.Helper()
	now := t0.Add(time.Duration(g.n) * time.Second)
	g.n++
	round := poller.Round{Time: now}
	scrapes := map[string]history.Scrape{}
	byService := map[string]int{}
	for _, r := range reps {
		pr := poller.Replica{Service: r.service, Key: r.key, Name: r.key, Addr: r.key + ":9090", Kind: r.kind,
			State: poller.StateUp, Since: t0, Resolved: true, Started: t0.Add(-time.Minute), Peer: r.peer}
		if r.metrics == "" {
			pr.State, pr.Err, pr.Peer = poller.StateDown, "readyz: connection refused", nil
		} else {
			res, err := scrape.Parse(strings.NewReader(r.metrics), 1<<20)
			if err != nil {
				g.t.Fatal(err)
			}
			pr.Metrics = &res
		}
		scrapes[r.key] = history.Scrape{Result: pr.Metrics}
		i, ok := byService[r.service]
		if !ok {
			i = len(round.Services)
			byService[r.service] = i
			round.Services = append(round.Services, poller.Service{Name: r.service})
		}
		round.Services[i].Replicas = append(round.Services[i].Replicas, pr)
	}
	g.store.Append(now, scrapes)
	g.round = round
}

func (g *rig) overview(snapshot bool) (view.Overview, string) {
	var (
		o     view.Overview
		shape string
	)
	g.store.Read(func(r history.Reader) {
		o, shape = view.BuildOverview(view.Input{Round: g.round, History: r, Interval: time.Second}, snapshot)
	})
	return o, shape
}

func (g *rig) service(name, replica string, snapshot bool) (view.ServicePage, string) {
	var (
		p     view.ServicePage
		shape string
	)
	g.store.Read(func(r history.Reader) {
		p, shape = view.BuildService(view.Input{Round: g.round, History: r, Interval: time.Second}, name, replica, snapshot)
	})
	return p, shape
}

func (g *rig) swarm(maxFiles int) view.Swarm {
	var s view.Swarm
	g.store.Read(func(r history.Reader) {
		s = view.BuildSwarm(view.Input{Round: g.round, History: r, Interval: time.Second}, maxFiles)
	})
	return s
}

const base = "# TYPE netlab_build_info gauge\nnetlab_build_info{service=%q} 1\n"

func echoMetrics(conns int, in float64) string {
	return fmt.Sprintf(base+"# TYPE netlab_tcp_echo_connections_active gauge\nnetlab_tcp_echo_connections_active %d\n"+
		"# TYPE netlab_tcp_echo_bytes_received_total counter\nnetlab_tcp_echo_bytes_received_total %g\n", "tcp-echo", conns, in)
}

func figure(t *testing.T, o view.Overview, service, key string) view.Figure {
	t.Helper()
	for _, s := range o.Services {
		for _, r := range s.Replicas {
			for _, f := range r.Figures {
				if s.Name == service && f.Key == key {
					return f
				}
			}
		}
	}
	t.Fatalf("no figure %s of %s", key, service)
	return view.Figure{}
}

func TestOverview_FiguresFromCountersAndGauges(t *testing.T) {
	g := newRig(t, 100)
	for i, in := range []float64{0, 1000, 3000, 500} { // a reset before 500
		g.feed(replica{service: "tcp-echo", key: "e1", kind: "tcp-echo", metrics: echoMetrics(i, in)})
	}
	o, _ := g.overview(true)
	in := figure(t, o, "tcp-echo", "in")
	if in.Value != 500 || in.Unit != "B/s" || len(in.Points) != 4 || in.Points[1] != 1000 || in.Points[2] != 2000 {
		t.Errorf("bytes in = %+v, want 500 B/s now and the rates 1000, 2000 before", in)
	}
	if c := figure(t, o, "tcp-echo", "conns"); c.Value != 3 {
		t.Errorf("connections = %v, want 3", c.Value)
	}
	// Not read at all yet: a counter with no series counts 0.
	if a := figure(t, o, "tcp-echo", "accepted"); a.Value != 0 {
		t.Errorf("accepted = %v, want 0 (no series: nothing counted)", a.Value)
	}
	u, _ := g.overview(false)
	if f := figure(t, u, "tcp-echo", "in"); f.Points != nil || f.Value != 500 {
		t.Errorf("update figure %+v, want the value without points", f)
	}
}

func TestOverview_DownReplicaShowsNoCurrentValue(t *testing.T) {
	g := newRig(t, 100)
	g.feed(replica{service: "tcp-echo", key: "e1", kind: "tcp-echo", metrics: echoMetrics(2, 0)})
	g.feed(replica{service: "tcp-echo", key: "e1", kind: "tcp-echo", metrics: echoMetrics(2, 100)})
	g.feed(replica{service: "tcp-echo", key: "e1", kind: "tcp-echo"})
	o, _ := g.overview(false)
	r := o.Services[0].Replicas[0]
	if r.State != poller.StateDown || r.Err == "" || r.Since != t0.UnixMilli() || !math.IsNaN(float64(r.Uptime)) {
		t.Errorf("replica %+v, want down with its error and since, no uptime", r.Replica)
	}
	for _, f := range r.Figures {
		if !math.IsNaN(float64(f.Value)) {
			t.Errorf("figure %s = %v while down, want no value", f.Key, f.Value)
		}
	}
	b, _ := json.Marshal(r.Figures[0])
	if !strings.Contains(string(b), `"v":null`) {
		t.Errorf("JSON %s, want a null value", b)
	}
}

func httpMetrics(n200, n404 int, fast, slow int) string {
	return fmt.Sprintf(base+"# TYPE netlab_http_hello_requests_total counter\n"+
		"netlab_http_hello_requests_total{code=\"200\",method=\"GET\",route=\"/\"} %d\n"+
		"netlab_http_hello_requests_total{code=\"404\",method=\"GET\",route=\"/x\"} %d\n"+
		"# TYPE netlab_http_hello_request_duration_seconds histogram\n"+
		"netlab_http_hello_request_duration_seconds_bucket{route=\"/\",le=\"0.001\"} %d\n"+
		"netlab_http_hello_request_duration_seconds_bucket{route=\"/\",le=\"0.1\"} %d\n"+
		"netlab_http_hello_request_duration_seconds_bucket{route=\"/\",le=\"+Inf\"} %d\n"+
		"netlab_http_hello_request_duration_seconds_sum{route=\"/\"} 1\n"+
		"netlab_http_hello_request_duration_seconds_count{route=\"/\"} %d\n",
		"http-hello", n200, n404, fast, fast+slow, fast+slow, fast+slow)
}

func TestOverview_HTTPRatesByRouteAndPercentiles(t *testing.T) {
	g := newRig(t, 100)
	for i := range 5 {
		// Each second: 100 requests to /, 10 to /x; 98 of them under 1 ms
		// and 2 between 1 ms and 100 ms.
		g.feed(replica{service: "http-hello", key: "h1", kind: "http-hello", metrics: httpMetrics(100*i, 10*i, 98*i, 2*i)})
	}
	o, _ := g.overview(false)
	req := figure(t, o, "http-hello", "requests")
	if req.Value != 110 || len(req.Parts) != 2 || req.Parts[0].Label != "/ 200" || req.Parts[0].Value != 100 || req.Parts[1].Label != "/x 404" {
		t.Errorf("requests = %+v, want 110/s: / 200 100/s, /x 404 10/s", req)
	}
	p50, p99 := figure(t, o, "http-hello", "p50"), figure(t, o, "http-hello", "p99")
	// Rank 50 of 100 in [0, 1 ms]: 50/98 of the way; rank 99 is 1 of 2
	// into (1 ms, 100 ms].
	if math.Abs(float64(p50.Value)-0.001*50/98) > 1e-6 || math.Abs(float64(p99.Value)-0.0505) > 1e-6 {
		t.Errorf("p50 %v, p99 %v; want %v and 0.0505", p50.Value, p99.Value, 0.001*50/98)
	}
}

func TestOverview_ShapeChangesWithReplicas(t *testing.T) {
	g := newRig(t, 100)
	g.feed(replica{service: "tcp-echo", key: "e1", kind: "tcp-echo", metrics: echoMetrics(1, 1)})
	_, s1 := g.overview(false)
	g.feed(replica{service: "tcp-echo", key: "e1", kind: "tcp-echo", metrics: echoMetrics(1, 2)})
	_, s2 := g.overview(false)
	g.feed(replica{service: "tcp-echo", key: "e1", kind: "tcp-echo", metrics: echoMetrics(1, 3)},
		replica{service: "tcp-echo", key: "e2", kind: "tcp-echo", metrics: echoMetrics(1, 3)})
	_, s3 := g.overview(false)
	if s1 != s2 || s2 == s3 {
		t.Errorf("shapes equal %v then %v; want the same, then a new one with a replica more", s1 == s2, s2 == s3)
	}
}

func chart(t *testing.T, p view.ServicePage, id string) view.Chart {
	t.Helper()
	for _, c := range p.Charts {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no chart %s", id)
	return view.Chart{}
}

func TestService_CountersAsRatesSummedOverReplicas(t *testing.T) {
	g := newRig(t, 100)
	for i := range 3 {
		g.feed(replica{service: "tcp-echo", key: "e1", kind: "tcp-echo", metrics: echoMetrics(1, float64(100*i))},
			replica{service: "tcp-echo", key: "e2", kind: "tcp-echo", metrics: echoMetrics(2, float64(50*i))})
	}
	p, _ := g.service("tcp-echo", "", true)
	in := chart(t, p, "netlab_tcp_echo_bytes_received_total")
	if in.Unit != "B/s" || len(in.Lines) != 1 || in.Lines[0].Value != 150 || len(in.Lines[0].Points) != 3 || len(p.Times) != 3 {
		t.Errorf("bytes in chart %+v, want one line at 150 B/s with 3 points", in)
	}
	if c := chart(t, p, "netlab_tcp_echo_connections_active"); c.Lines[0].Value != 3 {
		t.Errorf("connections %v, want 3 (summed)", c.Lines[0].Value)
	}
	one, _ := g.service("tcp-echo", "e2", false)
	if one.Replica != "e2" || chart(t, one, "netlab_tcp_echo_bytes_received_total").Lines[0].Value != 50 {
		t.Errorf("replica e2's page: %+v, want its own 50 B/s", one.Charts)
	}
	for _, c := range p.Charts {
		if c.ID == "netlab_build_info" {
			t.Error("netlab_build_info has a chart; the version is shown already")
		}
	}
}

func TestService_HistogramPercentilesAndDistribution(t *testing.T) {
	g := newRig(t, 100)
	for i := range 4 {
		g.feed(replica{service: "http-hello", key: "h1", kind: "http-hello", metrics: httpMetrics(100*i, 0, 98*i, 2*i)})
	}
	p, _ := g.service("http-hello", "", false)
	c := chart(t, p, "netlab_http_hello_request_duration_seconds")
	if c.Unit != "s" || len(c.Lines) != 3 || c.Lines[0].Label != "p50" || c.Lines[2].Label != "p99" {
		t.Fatalf("chart %+v, want p50, p90, p99 lines in seconds", c)
	}
	// 3 intervals of 98 fast and 2 slow observations each.
	want := []view.Bar{{Le: "0.001", Value: 294}, {Le: "0.1", Value: 6}, {Le: "+Inf", Value: 0}}
	if fmt.Sprint(c.Dist) != fmt.Sprint(want) {
		t.Errorf("distribution %v, want %v", c.Dist, want)
	}
}

func TestService_ManySeriesAreCappedWithOther(t *testing.T) {
	var b strings.Builder
	fmt.Fprintf(&b, base+"# TYPE x gauge\n", "other")
	for i := range 20 {
		fmt.Fprintf(&b, "x{i=\"%02d\"} 1\n", i)
	}
	g := newRig(t, 10)
	g.feed(replica{service: "s", key: "s1", kind: "other", metrics: b.String()})
	p, _ := g.service("s", "", false)
	c := chart(t, p, "x")
	if len(c.Lines) != view.MaxLines || c.Lines[view.MaxLines-1].Label != "other (13)" || c.Lines[view.MaxLines-1].Value != 13 {
		t.Errorf("lines %+v, want %d with the last summing 13 others", c.Lines, view.MaxLines)
	}
}

// peerMetrics is a node's upload counters to each peer address.
func peerMetrics(up map[string]float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, base+"# TYPE netlab_peer_bytes_uploaded_total counter\n", "peer")
	for addr, v := range up {
		fmt.Fprintf(&b, "netlab_peer_bytes_uploaded_total{peer=%q} %g\n", addr, v)
	}
	return b.String()
}

func TestSwarm_LinksWithRatesAndPieceMaps(t *testing.T) {
	g := newRig(t, 10)
	// Node 1 holds f; node 2 downloads it from node 1 (pieces 0-3 and 8
	// of 10 so far); node 3 is connected to both and idle.
	have := []byte{0b11110000, 0b10000000}
	info := func(id string, peers ...string) *poller.PeerInfo {
		pi := &poller.PeerInfo{Status: api.Status{NodeID: id}}
		for _, p := range peers {
			pi.Peers = append(pi.Peers, api.Peer{Addr: "10.0.0." + p + ":8001", NodeID: "node" + p, Connected: true})
		}
		return pi
	}
	for i := range 2 {
		p1, p2, p3 := info("node1", "2", "3"), info("node2", "1", "3"), info("node3", "1", "2")
		p1.Catalog = []api.LocalFile{{ID: "f", Name: "f.bin", Size: 10 << 20, Pieces: 10}}
		p2.Downloads = []api.Download{{ID: "f", Name: "f.bin", State: api.StateDownloading, Size: 10 << 20, Pieces: 10, PiecesHeld: 5, Have: have}}
		g.feed(replica{service: "peer", key: "p1", kind: "peer", metrics: peerMetrics(map[string]float64{"10.0.0.2:8001": float64(i) * 5e6}), peer: p1},
			replica{service: "peer", key: "p2", kind: "peer", metrics: peerMetrics(nil), peer: p2},
			replica{service: "peer", key: "p3", kind: "peer", metrics: peerMetrics(nil), peer: p3})
	}
	s := g.swarm(8)
	if len(s.Nodes) != 3 || s.Nodes[0].ID != "node1" {
		t.Fatalf("nodes %+v", s.Nodes)
	}
	wantLinks := []view.Link{{A: 0, B: 1, AB: 5e6, BA: 0}, {A: 0, B: 2, AB: 0, BA: 0}, {A: 1, B: 2, AB: 0, BA: 0}}
	if fmt.Sprint(s.Links) != fmt.Sprint(wantLinks) {
		t.Errorf("links %+v, want %+v", s.Links, wantLinks)
	}
	if len(s.Files) != 1 || len(s.Files[0].Maps) != 2 {
		t.Fatalf("files %+v, want f with two maps", s.Files)
	}
	m := s.Files[0].Maps
	if m[0].Node != 0 || m[0].State != api.StateComplete || m[0].Held != 10 || m[0].Map != "" {
		t.Errorf("holder's map %+v, want complete", m[0])
	}
	if m[1].Node != 1 || m[1].State != api.StateDownloading || m[1].Map != "9999000090" {
		t.Errorf("downloader's map %+v, want 9999000090 (a cell a piece)", m[1])
	}
}

func TestSwarm_PieceMapCellsOfManyPieces(t *testing.T) {
	// 1024 pieces in 64 cells of 16: the first half held, then 2 pieces
	// of the next cell.
	have := make([]byte, 128)
	for i := range 64 {
		have[i] = 0xff
	}
	have[64] = 0xc0
	p := &poller.PeerInfo{Status: api.Status{NodeID: "n"}, Downloads: []api.Download{{ID: "f", Name: "f", State: api.StateDownloading, Pieces: 1024, PiecesHeld: 514, Have: have}}}
	g := newRig(t, 10)
	g.feed(replica{service: "peer", key: "p", kind: "peer", metrics: peerMetrics(nil), peer: p})
	m := g.swarm(8).Files[0].Maps[0].Map
	want := strings.Repeat("9", 32) + "1" + strings.Repeat("0", 31)
	if m != want {
		t.Errorf("map %q, want %q", m, want)
	}
}

// TestSwarm_BytesPerUpdateWith30Nodes measures the swarm page's message
// for 30 nodes, all connected to each other and all sending, with 8 files
// each downloading on every node: the most the page sends a second with
// the default limits. The README quotes the figure.
func TestSwarm_BytesPerUpdateWith30Nodes(t *testing.T) {
	const nodes, files = 30, 8
	g := newRig(t, 10)
	have := make([]byte, 256) // 2048 pieces, every other held
	for i := range have {
		have[i] = 0b10101010
	}
	for round := range 2 {
		var reps []replica
		for i := range nodes {
			pi := &poller.PeerInfo{Status: api.Status{NodeID: fmt.Sprintf("%064x", i), Files: files, PeersConnected: nodes - 1}}
			up := map[string]float64{}
			for j := range nodes {
				if j == i {
					continue
				}
				addr := fmt.Sprintf("172.18.0.%d:8001", j+10)
				pi.Peers = append(pi.Peers, api.Peer{Addr: addr, NodeID: fmt.Sprintf("%064x", j), Connected: true})
				up[addr] = float64(round) * 1234567.89
			}
			for f := range files {
				pi.Downloads = append(pi.Downloads, api.Download{ID: fmt.Sprintf("%064x", 1000+f), Name: fmt.Sprintf("file-%d.bin", f),
					State: api.StateDownloading, Size: 2 << 30, Pieces: 2048, PiecesHeld: 1024, Have: have})
			}
			reps = append(reps, replica{service: "peer", key: fmt.Sprintf("peer/netlab-peer-%d", i+1), kind: "peer", metrics: peerMetrics(up), peer: pi})
		}
		g.feed(reps...)
	}
	s := g.swarm(files)
	if len(s.Links) != nodes*(nodes-1)/2 || len(s.Files) != files {
		t.Fatalf("%d links, %d files; want a full mesh and every file", len(s.Links), len(s.Files))
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("swarm update with %d nodes, %d links, %d files downloading everywhere: %d bytes", nodes, len(s.Links), files, len(b))
	if len(b) > 64<<10 {
		t.Errorf("%d bytes per update, over the 64 KiB the README promises", len(b))
	}
	o, _ := g.overview(false)
	ob, _ := json.Marshal(o)
	t.Logf("overview update with %d nodes: %d bytes", nodes, len(ob))
	if len(ob) > 32<<10 {
		t.Errorf("overview update %d bytes, over the 32 KiB the README promises", len(ob))
	}
}

func TestNum_JSON(t *testing.T) {
	b, _ := json.Marshal([]view.Num{view.Num(math.NaN()), view.Num(math.Inf(1)), 1234567.891, 0.000123456})
	if string(b) != "[null,null,1.2346e+06,0.00012346]" {
		t.Errorf("JSON %s", b)
	}
}
