package api_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/netlab/netlab/services/peer/api"
)

// The JSON field names are what clients outside this module read; a
// renamed field must show up here, not in a client that stops working.
func TestAPI_JSONFieldNames(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"status", api.Status{
			NodeID: "ab", Listen: "127.0.0.1:8001", Advertise: "peer:8001", Files: 1, PeersKnown: 3,
			PeersConnected: 2, DownloadsActive: 1, UploadRate: 1024, ServePieces: true, ProtocolVersion: 2,
			BytesUploaded: 4096, PiecesUploaded: 4, Secret: true, Sync: true, UptimeSecs: 1.5,
		}, `{"node_id":"ab","listen":"127.0.0.1:8001","advertise":"peer:8001","files":1,"peers_known":3,` +
			`"peers_connected":2,"downloads_active":1,"upload_rate":1024,"serve_pieces":true,"protocol_version":2,` +
			`"bytes_uploaded":4096,"pieces_uploaded":4,"secret":true,"sync":true,"uptime_seconds":1.5}`},
		{"status, optional fields empty", api.Status{},
			`{"node_id":"","listen":"","files":0,"peers_known":0,"peers_connected":0,"downloads_active":0,` +
				`"serve_pieces":false,"protocol_version":0,"bytes_uploaded":0,"pieces_uploaded":0,` +
				`"secret":false,"sync":false,"uptime_seconds":0}`},
		{"local file", api.LocalFile{ID: "ab", Name: "f", Size: 10, PieceSize: 4, Pieces: 3, Offered: true, Modified: at},
			`{"id":"ab","name":"f","size":10,"piece_size":4,"pieces":3,"offered":true,"modified":"2026-12-07T10:00:00Z"}`},
		{"swarm file", api.SwarmFile{ID: "ab", Name: "f", Size: 10, PieceSize: 4, Offered: true, Local: true, Holders: []string{"a:1"}},
			`{"id":"ab","name":"f","size":10,"piece_size":4,"offered":true,"local":true,"holders":["a:1"]}`},
		{"peer", api.Peer{
			Addr: "a:1", NodeID: "ab", Source: api.PeerSeed, Connected: true, Version: 2, Self: true, Files: 2,
			Failures: 1, BadPieces: 3, Avoided: true, LastSeen: at,
		}, `{"addr":"a:1","node_id":"ab","source":"seed","connected":true,"version":2,"self":true,"files":2,` +
			`"failures":1,"bad_pieces":3,"avoided":true,"last_seen":"2026-12-07T10:00:00Z"}`},
		{"peer, optional fields empty", api.Peer{Addr: "a:1", Source: api.PeerInbound},
			`{"addr":"a:1","source":"inbound","connected":false,"files":0}`},
		{"download request", api.DownloadRequest{Ref: "f"}, `{"ref":"f"}`},
		{"download", api.Download{
			ID: "ab", Name: "f", State: api.StateFailed, Error: "e", Stalled: "s", StalledSecs: 2, Size: 10,
			Bytes: 5, PieceSize: 4, Pieces: 3, PiecesHeld: 2, Resumed: 1, Verified: 1, Failed: 1,
			Sources: map[string]api.Source{"a:1": {Pieces: 1, Bytes: 4, Bad: 1}}, Started: at,
			Finished: at.Add(1234567 * time.Nanosecond), ElapsedSecs: 3, PeersWorking: 1,
		}, `{"id":"ab","name":"f","state":"failed","error":"e","stalled":"s","stalled_seconds":2,"size":10,` +
			`"bytes_done":5,"piece_size":4,"pieces":3,"pieces_held":2,"pieces_resumed":1,"pieces_verified":1,` +
			`"pieces_failed":1,"sources":{"a:1":{"pieces":1,"bytes":4,"bad_pieces":1}},` +
			// Times keep their nanoseconds: experiments compute completion
			// times from them.
			`"started":"2026-12-07T10:00:00Z","finished":"2026-12-07T10:00:00.001234567Z","elapsed_seconds":3,"peers_working":1}`},
		{"download, optional fields empty", api.Download{ID: "ab", State: api.StateQueued, Started: at},
			`{"id":"ab","name":"","state":"queued","size":0,"bytes_done":0,"piece_size":0,"pieces":0,` +
				`"pieces_held":0,"pieces_resumed":0,"pieces_verified":0,"pieces_failed":0,"sources":null,` +
				`"started":"2026-12-07T10:00:00Z","elapsed_seconds":0,"peers_working":0}`},
		{"error", api.Error{Error: "no such file"}, `{"error":"no such file"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("JSON =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}
