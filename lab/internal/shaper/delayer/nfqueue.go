// Package delayer holds packets the kernel queues to user space (NFQUEUE)
// and releases each after its delay and jitter: transparent delay for
// every packet of a device where the kernel has no netem. It also carries
// reordering, bit corruption and Gilbert–Elliott loss, which need a
// per-packet decision the kernel's other mechanisms cannot make.
package delayer

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// nfnetlink_queue's message types and attributes (linux/netfilter/nfnetlink_queue.h).
const (
	subsysQueue = 3 << 8 // NFNL_SUBSYS_QUEUE

	msgPacket  = subsysQueue // | 0
	msgVerdict = subsysQueue | 1
	msgConfig  = subsysQueue | 2

	attrPacketHdr  = 1
	attrVerdictHdr = 2
	attrPayload    = 10

	attrCfgCmd    = 1
	attrCfgParams = 2
	attrCfgMaxLen = 3

	cmdBind   = 1
	cmdUnbind = 2

	copyMeta   = 1
	copyPacket = 2

	verdictDrop   = 0
	verdictAccept = 1

	hookPrerouting = 0 // NF_INET_PRE_ROUTING: the packet arrived
)

// queue is one bound NFQUEUE.
type queue struct {
	conn *netlink.Conn
	num  uint16
}

// packet is what the kernel tells about one queued packet.
type packet struct {
	id      uint32
	hook    uint8
	payload []byte // only in copy-packet mode
}

// bind opens a netfilter netlink socket and binds queue num, copying whole
// packets when copyAll (to rewrite them) and only their metadata otherwise.
func bind(num uint16, copyAll bool, maxLen uint32) (*queue, error) {
	conn, err := netlink.Dial(unix.NETLINK_NETFILTER, nil)
	if err != nil {
		return nil, fmt.Errorf("netlink netfilter socket: %w", err)
	}
	q := &queue{conn: conn, num: num}
	// Drops on a full socket show in the queue's counters, not as errors.
	_ = conn.SetOption(netlink.NoENOBUFS, true)
	_ = conn.SetReadBuffer(8 << 20)
	mode, rng := byte(copyMeta), uint32(0)
	if copyAll {
		mode, rng = copyPacket, 0xffff
	}
	params := make([]byte, 5)
	binary.BigEndian.PutUint32(params, rng)
	params[4] = mode
	ae := netlink.NewAttributeEncoder()
	ae.Bytes(attrCfgCmd, []byte{cmdBind, 0, 0, 0})
	ae.Bytes(attrCfgParams, params)
	ae.ByteOrder = binary.BigEndian
	ae.Uint32(attrCfgMaxLen, maxLen)
	if err := q.config(ae); err != nil {
		conn.Close()
		return nil, fmt.Errorf("bind queue %d: %w", num, err)
	}
	return q, nil
}

func (q *queue) config(ae *netlink.AttributeEncoder) error {
	attrs, err := ae.Encode()
	if err != nil {
		return err
	}
	_, err = q.conn.Execute(netlink.Message{
		Header: netlink.Header{Type: msgConfig, Flags: netlink.Request | netlink.Acknowledge},
		Data:   append(q.nfgen(), attrs...),
	})
	return err
}

// nfgen is the nfgenmsg header: family, version, queue number.
func (q *queue) nfgen() []byte {
	h := []byte{unix.AF_UNSPEC, 0, 0, 0}
	binary.BigEndian.PutUint16(h[2:], q.num)
	return h
}

// close unbinds the queue and closes the socket.
func (q *queue) close() error {
	ae := netlink.NewAttributeEncoder()
	ae.Bytes(attrCfgCmd, []byte{cmdUnbind, 0, 0, 0})
	err := q.config(ae)
	return errors.Join(err, q.conn.Close())
}

// receive returns the next batch of queued packets.
func (q *queue) receive() ([]packet, error) {
	msgs, err := q.conn.Receive()
	if err != nil {
		return nil, err
	}
	var out []packet
	for _, m := range msgs {
		if m.Header.Type != msgPacket || len(m.Data) < 4 {
			continue
		}
		ad, err := netlink.NewAttributeDecoder(m.Data[4:])
		if err != nil {
			continue
		}
		var p packet
		for ad.Next() {
			switch ad.Type() {
			case attrPacketHdr:
				if b := ad.Bytes(); len(b) >= 7 {
					p.id, p.hook = binary.BigEndian.Uint32(b), b[6]
				}
			case attrPayload:
				p.payload = ad.Bytes()
			}
		}
		if ad.Err() == nil && p.id != 0 {
			out = append(out, p)
		}
	}
	return out, nil
}

// verdict tells the kernel what to do with packet id; a non-nil payload
// replaces the packet's bytes. It does not wait for an answer.
func (q *queue) verdict(id uint32, v uint32, payload []byte) error {
	hdr := make([]byte, 8)
	binary.BigEndian.PutUint32(hdr, v)
	binary.BigEndian.PutUint32(hdr[4:], id)
	ae := netlink.NewAttributeEncoder()
	ae.Bytes(attrVerdictHdr, hdr)
	if payload != nil {
		ae.Bytes(attrPayload, payload)
	}
	attrs, err := ae.Encode()
	if err != nil {
		return err
	}
	_, err = q.conn.Send(netlink.Message{
		Header: netlink.Header{Type: msgVerdict, Flags: netlink.Request},
		Data:   append(q.nfgen(), attrs...),
	})
	return err
}
