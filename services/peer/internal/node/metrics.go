package node

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/netlab/netlab/services/platform/promset"
)

// metrics are the node's Prometheus series. Per-peer series are labelled
// with the peer's address and deleted when the peer is forgotten, so their
// number is bounded by the peer table.
type metrics struct {
	bytesUp         *prometheus.CounterVec // by peer
	bytesDown       *prometheus.CounterVec // by peer
	piecesUp        *prometheus.CounterVec // by peer
	piecesVerified  prometheus.Counter
	piecesResumed   prometheus.Counter
	piecesFailed    *prometheus.CounterVec // by peer that sent the bad copy
	peersKnown      prometheus.Gauge
	peersConnected  prometheus.Gauge
	peersBanned     prometheus.Gauge
	transfersActive prometheus.Gauge
	uploadsActive   prometheus.Gauge
	downloadsDone   prometheus.Counter
	catalogFiles    prometheus.Gauge
	connsRejected   *prometheus.CounterVec // by reason
	framesInvalid   *prometheus.CounterVec // by reason
	requests        *prometheus.CounterVec // served, by type
	rejects         *prometheus.CounterVec // answers refused, by code
	errorsReceived  *prometheus.CounterVec // error frames from peers, by code
	slowReaders     prometheus.Counter

	announcedSent     prometheus.Counter
	announcedDropped  prometheus.Counter
	announcedReceived prometheus.Counter
	announcedRequests prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	s := promset.New(reg, "peer")
	counter, counterVec, gauge := s.Counter, s.CounterVec, s.Gauge
	m := &metrics{
		bytesUp:         counterVec("bytes_uploaded_total", "Piece bytes sent, by peer.", "peer"),
		bytesDown:       counterVec("bytes_downloaded_total", "Verified piece bytes received, by peer.", "peer"),
		piecesUp:        counterVec("pieces_uploaded_total", "Pieces sent, by peer.", "peer"),
		piecesVerified:  counter("pieces_verified_total", "Pieces downloaded, verified against their hash and written."),
		piecesResumed:   counter("pieces_resumed_total", "Verified pieces found in resume records at start, not fetched again."),
		piecesFailed:    counterVec("pieces_failed_total", "Pieces that failed verification, by the peer that sent them.", "peer"),
		peersKnown:      gauge("peers_known", "Peer addresses known (seeds, peer exchange, inbound)."),
		peersConnected:  gauge("peers_connected", "Peers this node has a connection to."),
		peersBanned:     gauge("peers_avoided", "Peers avoided after sending MAX_BAD_PIECES bad pieces."),
		transfersActive: gauge("transfers_active", "Downloads in progress."),
		uploadsActive:   gauge("uploads_active", "Connections being served."),
		downloadsDone:   counter("downloads_completed_total", "Downloads completed and renamed into the share."),
		catalogFiles:    gauge("catalog_files", "Files this node shares."),
		connsRejected:   counterVec("connections_rejected_total", "Connections refused, by reason (max_conns, handshakes, handshakes_per_source, handshake_timeout, auth, version, handshake, self).", "reason"),
		framesInvalid:   counterVec("frames_invalid_total", "Connections (accepted or dialed) closed for a bad frame, by reason (version, too_large, unknown_type, malformed, tampered, not_sealed, unexpected).", "reason"),
		requests:        counterVec("requests_served_total", "Requests answered (the answer sent), by message type.", "type"),
		rejects:         counterVec("requests_rejected_total", "Requests answered with a reject, by code.", "code"),
		errorsReceived:  counterVec("errors_received_total", "Connections (accepted or dialed) the peer closed with an error frame, by its code.", "code"),
		slowReaders:     counter("slow_readers_total", "Served connections cut off because the peer read an answer slower than IO_TIMEOUT allows."),

		announcedSent:     counter("announced_pieces_sent_total", "Verified pieces announced to peers downloading the file (announce messages, protocol version 2)."),
		announcedDropped:  counter("announced_pieces_dropped_total", "Pieces not announced because a connection's queue was full; the peer learns of them from its next have."),
		announcedReceived: counter("announced_pieces_received_total", "Pieces peers announced to this node."),
		announcedRequests: counter("announced_requests_total", "Piece requests sent for pieces known only from an announcement, before the peer's next have."),
	}
	return m, s.Err()
}

// forgetPeer deletes a forgotten peer's series.
func (m *metrics) forgetPeer(addr string) {
	m.bytesUp.DeleteLabelValues(addr)
	m.bytesDown.DeleteLabelValues(addr)
	m.piecesUp.DeleteLabelValues(addr)
	m.piecesFailed.DeleteLabelValues(addr)
}
