package node

// TestMAC exposes the handshake MAC to tests that play a peer by hand.
var TestMAC = authMAC
