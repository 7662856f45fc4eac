// Package rxstamp gets the kernel's receive timestamp of each datagram
// (SO_TIMESTAMPNS on Linux): the moment the packet arrived, before the
// scheduler woke the reader. The responder and udp-client both use it, so
// one-way delays leave out how long a datagram waited for its reader.
// Where the kernel cannot do it, Enable fails and callers take the time
// they read a datagram instead.
package rxstamp
