// Package wiretest holds what tests of the peer protocol's connections
// share.
package wiretest

import (
	"net"
	"time"
)

// NopConn gives an in-memory test connection, which implements Read and
// Write itself, the rest of net.Conn: Close does nothing, both addresses
// are empty TCP addresses and deadlines are ignored.
type NopConn struct{}

func (NopConn) Close() error                     { return nil }
func (NopConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (NopConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (NopConn) SetDeadline(time.Time) error      { return nil }
func (NopConn) SetReadDeadline(time.Time) error  { return nil }
func (NopConn) SetWriteDeadline(time.Time) error { return nil }
