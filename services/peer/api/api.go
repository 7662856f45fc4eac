// Package api is the peer node's admin JSON API: the records its routes
// answer with and the request they take. The node serves these types and
// every client decodes them (peerctl, the lab), so each JSON field name is
// written here once, and Client, the one client of these routes that
// peerctl and the lab share. The routes are listed in the README (peer
// section, "JSON API") and in docs/peer-protocol.md.
package api

import "time"

// Download states (Download.State).
const (
	StateQueued      = "queued"      // waiting for a MAX_DOWNLOADS slot
	StateFinding     = "finding"     // asking peers for the manifest
	StateDownloading = "downloading" // fetching pieces
	StateComplete    = "complete"    // renamed into the share, served to others
	StateFailed      = "failed"      // cannot go on (too large, no disk space, disk error)
)

// Where the node learned a peer's address (Peer.Source).
const (
	PeerSeed     = "seed"     // PEERS, resolved again at each refresh
	PeerExchange = "exchange" // another peer's peers answer
	PeerInbound  = "inbound"  // it connected to this node
)

// Status is the node summary: GET /api/status.
type Status struct {
	NodeID          string `json:"node_id"`
	Listen          string `json:"listen"`
	Advertise       string `json:"advertise,omitempty"`
	Files           int    `json:"files"`
	PeersKnown      int    `json:"peers_known"`
	PeersConnected  int    `json:"peers_connected"`
	DownloadsActive int    `json:"downloads_active"`
	UploadRate      int64  `json:"upload_rate,omitempty"` // bytes/s; 0: no cap
	// ServePieces is false when the node sends no piece data to anyone
	// (SERVE_PIECES=false).
	ServePieces bool `json:"serve_pieces"`
	// ProtocolVersion is the highest peer protocol version the node speaks.
	ProtocolVersion int `json:"protocol_version"`
	// BytesUploaded and PiecesUploaded count the piece data the node sent
	// since it started, all peers together.
	BytesUploaded  int64   `json:"bytes_uploaded"`
	PiecesUploaded int64   `json:"pieces_uploaded"`
	Secret         bool    `json:"secret"`
	Sync           bool    `json:"sync"`
	UptimeSecs     float64 `json:"uptime_seconds"`
}

// LocalFile is one file of the node's own share: GET /api/catalog, and
// the answer to PUT /api/files/{name}.
type LocalFile struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Size      int64     `json:"size"`
	PieceSize int       `json:"piece_size"`
	Pieces    int       `json:"pieces"`
	Offered   bool      `json:"offered,omitempty"`
	Modified  time.Time `json:"modified"`
}

// SwarmFile is a file somewhere in the swarm: GET /api/swarm.
type SwarmFile struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Size      int64    `json:"size"`
	PieceSize int      `json:"piece_size"`
	Offered   bool     `json:"offered,omitempty"`
	Local     bool     `json:"local"`   // this node holds it
	Holders   []string `json:"holders"` // connected peers listing it; never null
}

// Peer is one address the node knows: GET /api/peers.
type Peer struct {
	Addr      string `json:"addr"`
	NodeID    string `json:"node_id,omitempty"` // while connected
	Source    string `json:"source"`            // PeerSeed, PeerExchange or PeerInbound
	Connected bool   `json:"connected"`
	// Version is the protocol version of the node's connection to it,
	// while connected.
	Version   int       `json:"version,omitempty"`
	Self      bool      `json:"self,omitempty"` // the address leads back to this node
	Files     int       `json:"files"`
	Failures  int       `json:"failures,omitempty"` // failed dials in a row
	BadPieces int       `json:"bad_pieces,omitempty"`
	Avoided   bool      `json:"avoided,omitempty"` // BadPieces reached MAX_BAD_PIECES
	LastSeen  time.Time `json:"last_seen,omitzero"`
}

// DownloadRequest starts a download: the body of POST /api/downloads.
type DownloadRequest struct {
	Ref string `json:"ref"` // a file id or a name in the swarm
}

// Download is one download and its progress: GET /api/downloads,
// GET /api/downloads/{id}, and the answer to POST /api/downloads.
type Download struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	State       string  `json:"state"` // one of the State constants
	Error       string  `json:"error,omitempty"`
	Stalled     string  `json:"stalled,omitempty"` // why it cannot progress now
	StalledSecs float64 `json:"stalled_seconds,omitempty"`
	Size        int64   `json:"size"`
	Bytes       int64   `json:"bytes_done"`
	PieceSize   int     `json:"piece_size"`
	Pieces      int     `json:"pieces"`
	PiecesHeld  int     `json:"pieces_held"`
	// Have is the bitfield of the pieces held: piece i is bit
	// 0x80>>(i%8) of byte i/8 (base64 in JSON). It is empty until the
	// manifest is known.
	Have     []byte            `json:"have,omitempty"`
	Resumed  int               `json:"pieces_resumed"`  // held from a previous run
	Verified int               `json:"pieces_verified"` // fetched and verified in this run
	Failed   int               `json:"pieces_failed"`   // failed verification
	Sources  map[string]Source `json:"sources"`         // by peer address
	// Started is when the download was asked for (or resumed at start);
	// Finished, when it completed (every piece verified, the file in the
	// share) or failed. Both are RFC 3339 with nanoseconds in JSON.
	Started     time.Time `json:"started"`
	Finished    time.Time `json:"finished,omitzero"`
	ElapsedSecs float64   `json:"elapsed_seconds"` // Finished (or now) − Started
	// PeersWorking counts the connected peers the download is polling
	// for pieces, whether they hold any or not; 0 before it starts and
	// after it ends. The peers pieces came from are in Sources.
	PeersWorking int `json:"peers_working"`
}

// Source is what one peer sent to a download.
type Source struct {
	Pieces int   `json:"pieces"` // verified pieces kept
	Bytes  int64 `json:"bytes"`
	Bad    int   `json:"bad_pieces,omitempty"` // pieces that failed verification
}

// Error is the body of every answer that is not a success.
type Error struct {
	Error string `json:"error"`
}
