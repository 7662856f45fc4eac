package tests_test

// The peer's faults: a node crashes, a source gets SIGTERM, is killed,
// frozen, cut off the network or corrupts what it serves, and the
// downloading node restarts; every download still completes intact.

import (
	"context"
	"fmt"
	"testing"
	"time"

	dockernetwork "github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/netlab/netlab/tests/e2e"
)

// TestPeer_Faults runs the peer's faults on the compose swarm (three nodes,
// uploads capped so a transfer lasts long enough to be interrupted): a node
// crashes and is restarted with its share, then a source gets SIGTERM in
// the middle of a download (which stops it). Its subtests run in order.
func TestPeer_Faults(t *testing.T) {
	nodes := composeSwarm(t, map[string]string{"PEER_UPLOAD_RATE": "6MiB"})
	src, other, dst := nodes[0], nodes[1], nodes[2]
	const name = "fault.bin"
	data, want := randomBytes(t, 48<<20)
	id := src.Put(name, data)
	other.Put(name, data)

	t.Run("crash is restarted and serves its share again", func(t *testing.T) {
		for _, n := range nodes {
			n.Use(t)
		}
		took := e2e.CrashAndRecover(t, other.Container)
		other.Remap() // a new start, a new host port
		// The share is a volume: the file is still there, served after the
		// node has scanned it again.
		err := e2e.Poll(t.Context(), 30*time.Second, 200*time.Millisecond, func() error {
			got, err := other.FileSum(name)
			if err != nil {
				return err
			}
			if got != want {
				return fmt.Errorf("%s has SHA-256 %x after the restart, want %x", name, got[:8], want[:8])
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("FIGURE restart peer healthy_after=%s", took.Round(10*time.Millisecond))
	})

	t.Run("SIGTERM of a source mid-download: the download completes intact", func(t *testing.T) {
		for _, n := range nodes {
			n.Use(t)
		}
		// The in-flight unit is a piece request: the stopping node
		// finishes the piece it is sending and then says it is shutting
		// down; the downloader gets every other piece from the other
		// source. No piece may arrive damaged or be lost.
		dst.WaitInSwarm(id, 2)
		dst.StartDownload(id)
		dst.WaitProgress(id, 0.25)
		srcAddr, otherAddr := src.PeerAddr(), other.PeerAddr() // gone once it exits
		e2e.SendSIGTERM(t, src.Container)
		d := dst.WaitComplete(id)
		dst.RequireFile(name, want)
		e2e.RequireExitedZero(t, src.Container, exitWithin)

		m := dst.Metrics()
		failed, invalid := m.Sum("netlab_peer_pieces_failed_total"), m.Sum("netlab_peer_frames_invalid_total")
		fromStopped, fromOther := d.Sources[srcAddr], d.Sources[otherAddr]
		t.Logf("FIGURE sigterm peer pieces=%d from_stopped=%d from_other=%d failed=%d verified=%d lost=0",
			d.Pieces, fromStopped.Pieces, fromOther.Pieces, int(failed), d.Verified)
		if fromStopped.Pieces == 0 || fromOther.Pieces == 0 {
			t.Errorf("want pieces from both sources, got %+v", d.Sources)
		}
		if fromStopped.Pieces+fromOther.Pieces != d.Pieces || d.Verified != d.Pieces {
			t.Errorf("%d pieces: %d from the stopped source + %d from the other, %d verified", d.Pieces, fromStopped.Pieces, fromOther.Pieces, d.Verified)
		}
		if failed != 0 || invalid != 0 || d.Failed != 0 {
			t.Errorf("pieces failed %v (download says %d), invalid frames %v: a stopping source must not send a damaged piece", failed, d.Failed, invalid)
		}
	})
}

// A source frozen with `docker pause` in the middle of a download: the
// downloader's reads time out (IO_TIMEOUT), it reports itself stalled, and
// once the source is unpaused the download resumes and completes intact.
// (TestPeer_PartitionHeals covers network disconnect and reconnect.)
func TestPeer_PausedSourceHeals(t *testing.T) {
	tr := startTransfer(t, "pause.bin", 32<<20, peerSource{"src", map[string]string{"UPLOAD_RATE": "8MiB"}})
	a, c := tr.src[0], tr.dst
	c.WaitProgress(tr.id, 0.2)
	cli := e2e.Docker(t)
	if _, err := cli.ContainerPause(t.Context(), a.Container.GetContainerID(), client.ContainerPauseOptions{}); err != nil {
		t.Fatalf("pause: %v", err)
	}
	t.Cleanup(func() {
		// A paused container cannot be removed.
		_, _ = cli.ContainerUnpause(context.Background(), a.Container.GetContainerID(), client.ContainerUnpauseOptions{})
	})
	paused := time.Now()
	// The frozen source's kernel still holds the connection open: only
	// the downloader's read deadline (IO_TIMEOUT) can notice.
	held := c.WaitStalled(tr.id)
	stalledAfter := time.Since(paused)
	if _, err := cli.ContainerUnpause(t.Context(), a.Container.GetContainerID(), client.ContainerUnpauseOptions{}); err != nil {
		t.Fatalf("unpause: %v", err)
	}
	d := c.WaitComplete(tr.id)
	c.RequireFile("pause.bin", tr.sum)
	t.Logf("FIGURE pause peer stalled_after=%s bytes_when_stalled=%d size=%d failed=%d",
		stalledAfter.Round(100*time.Millisecond), held.Bytes, d.Size, d.Failed)
	if held.Bytes >= held.Size || d.Bytes != d.Size {
		t.Fatalf("progress: %d of %d bytes when stalled, %d at the end", held.Bytes, held.Size, d.Bytes)
	}
}

// A source killed in the middle of a transfer: the other source finishes it.
func TestPeer_SourceKilledMidTransfer(t *testing.T) {
	slow := map[string]string{"UPLOAD_RATE": "6MiB"}
	tr := startTransfer(t, "k.bin", 48<<20, peerSource{"src-a", slow}, peerSource{"src-b", slow})
	a, b, c := tr.src[0], tr.src[1], tr.dst
	c.WaitProgress(tr.id, 0.25)
	if _, err := e2e.Docker(t).ContainerKill(t.Context(), a.Container.GetContainerID(), client.ContainerKillOptions{Signal: "SIGKILL"}); err != nil {
		t.Fatalf("kill %s: %v", a.Alias, err)
	}
	d := c.WaitComplete(tr.id)
	c.RequireFile("k.bin", tr.sum)
	if d.Sources[b.PeerAddr()].Pieces == 0 {
		t.Fatalf("the surviving source sent nothing: %+v", d.Sources)
	}
}

// The downloading node restarts mid-transfer: it resumes from its resume
// record and fetches none of the pieces it had verified.
func TestPeer_RestartResumesWithoutRefetching(t *testing.T) {
	tr := startTransfer(t, "r.bin", 48<<20, peerSource{"src", map[string]string{"UPLOAD_RATE": "8MiB"}})
	a, c := tr.src[0], tr.dst
	c.WaitProgress(tr.id, 0.3)
	stop := 15 * time.Second
	if err := c.Container.Stop(t.Context(), &stop); err != nil {
		t.Fatalf("stop: %v", err)
	}
	uploadedBefore := a.Metrics().Value("netlab_peer_pieces_uploaded_total")
	if err := c.Container.Start(t.Context()); err != nil {
		t.Fatalf("start again: %v", err)
	}
	c.Remap()
	d := c.WaitComplete(tr.id)
	c.RequireFile("r.bin", tr.sum)
	if d.Resumed == 0 {
		t.Fatalf("the restarted node resumed no pieces: %+v", d)
	}
	if d.Resumed+d.Verified != d.Pieces {
		t.Fatalf("resumed %d + fetched %d != %d pieces: verified pieces were fetched again", d.Resumed, d.Verified, d.Pieces)
	}
	if got := c.Metrics().Value("netlab_peer_pieces_resumed_total"); int(got) != d.Resumed {
		t.Fatalf("pieces_resumed_total = %v, want %d", got, d.Resumed)
	}
	// The source agrees: after the restart it sent exactly the missing pieces.
	uploadedAfter := a.Metrics().Value("netlab_peer_pieces_uploaded_total")
	if sent := int(uploadedAfter - uploadedBefore); sent != d.Verified {
		t.Fatalf("the source sent %d pieces after the restart, the node verified %d", sent, d.Verified)
	}
}

// The source is cut off the network in the middle of a download: the
// downloader notices (it reports itself stalled), and when the source comes
// back, possibly under a new address, the download heals and completes.
// (The source is the one cut off so the downloader's API, published
// through its network, stays reachable to watch it.)
func TestPeer_PartitionHeals(t *testing.T) {
	tr := startTransfer(t, "p.bin", 32<<20, peerSource{"src", map[string]string{"UPLOAD_RATE": "8MiB"}})
	a, c := tr.src[0], tr.dst
	c.WaitProgress(tr.id, 0.2)
	cli := e2e.Docker(t)
	if _, err := cli.NetworkDisconnect(t.Context(), tr.nw.ID, client.NetworkDisconnectOptions{Container: a.Container.GetContainerID(), Force: true}); err != nil {
		t.Fatalf("disconnect: %v", err)
	}
	held := c.WaitStalled(tr.id)
	if _, err := cli.NetworkConnect(t.Context(), tr.nw.ID, client.NetworkConnectOptions{
		Container: a.Container.GetContainerID(), EndpointConfig: &dockernetwork.EndpointSettings{Aliases: []string{a.Alias}},
	}); err != nil {
		t.Fatalf("reconnect: %v", err)
	}
	d := c.WaitComplete(tr.id)
	c.RequireFile("p.bin", tr.sum)
	if d.Bytes < held.Bytes || held.Bytes >= held.Size {
		t.Fatalf("progress: %d of %d bytes when stalled, %d at the end", held.Bytes, held.Size, d.Bytes)
	}
}

// A node that corrupts every piece it serves is detected: its pieces fail
// verification, it is avoided, and the file still arrives intact.
func TestPeer_CorruptPeerDetected(t *testing.T) {
	tr := startTransfer(t, "c.bin", 16<<20,
		peerSource{"liar", map[string]string{"CORRUPT_UPLOADS": "1"}},
		peerSource{"honest", map[string]string{"UPLOAD_RATE": "8MiB"}})
	liar, c := tr.src[0], tr.dst
	d := c.WaitComplete(tr.id)
	c.RequireFile("c.bin", tr.sum)
	if bad := c.Metrics().Sum("netlab_peer_pieces_failed_total", peerLabel(liar.PeerAddr())); bad == 0 {
		t.Fatalf("no failed piece counted against the corrupting node (sources %+v)", d.Sources)
	}
	peers := c.Peers()
	for _, p := range peers {
		if p.Addr == liar.PeerAddr() && !p.Avoided {
			t.Fatalf("the corrupting node is not avoided: %+v", peers)
		}
	}
}
