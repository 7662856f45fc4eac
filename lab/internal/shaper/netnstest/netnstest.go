// Package netnstest makes throwaway network namespaces joined by a veth
// pair, for tests that shape real traffic. It needs root.
package netnstest

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// NS is one network namespace.
type NS struct {
	h    netns.NsHandle
	Dev  string     // its end of the veth pair
	Addr netip.Addr // the address on Dev
}

// Do runs f on a thread inside the namespace. Sockets f opens stay in the
// namespace after it returns. The thread is never reused.
func (n *NS) Do(f func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		if err := netns.Set(n.h); err != nil {
			done <- fmt.Errorf("enter namespace: %w", err)
			return
		}
		done <- f()
	}()
	return <-done
}

// Pair makes two namespaces joined by a veth pair, A 10.199.0.1 on "va" and
// B 10.199.0.2 on "vb", both up; they go when the test ends. It skips the
// test when not root or when a namespace cannot be made.
func Pair(t testing.TB) (a, b *NS) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to make network namespaces (run the tests as root)")
	}
	a, b = &NS{Dev: "va", Addr: netip.MustParseAddr("10.199.0.1")}, &NS{Dev: "vb", Addr: netip.MustParseAddr("10.199.0.2")}
	for _, n := range []*NS{a, b} {
		h, err := newNS()
		if err != nil {
			t.Skipf("cannot make a network namespace here: %v", err)
		}
		n.h = h
		t.Cleanup(func() { h.Close() })
	}
	err := a.Do(func() error {
		veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: a.Dev}, PeerName: b.Dev, PeerNamespace: netlink.NsFd(int(b.h))}
		if err := netlink.LinkAdd(veth); err != nil {
			return fmt.Errorf("add veth: %w", err)
		}
		return nil
	})
	for _, n := range []*NS{a, b} {
		if err != nil {
			break
		}
		err = n.Do(func() error { return up(n) })
	}
	for _, n := range []*NS{a, b} {
		if err != nil {
			break
		}
		err = n.Do(func() error { return waitUp(n.Dev) })
	}
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

// waitUp waits for dev's carrier: a veth end is up only once both are,
// and packets sent before are dropped.
func waitUp(dev string) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		link, err := netlink.LinkByName(dev)
		if err != nil {
			return err
		}
		if link.Attrs().OperState == netlink.OperUp {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not up after 5 s: %v", dev, link.Attrs().OperState)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func newNS() (netns.NsHandle, error) {
	type res struct {
		h   netns.NsHandle
		err error
	}
	ch := make(chan res, 1)
	go func() {
		runtime.LockOSThread() // this thread ends up in the new namespace: never reuse it
		h, err := netns.New()
		ch <- res{h, err}
	}()
	r := <-ch
	return r.h, r.err
}

func up(n *NS) error {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return err
	}
	link, err := netlink.LinkByName(n.Dev)
	if err != nil {
		return err
	}
	addr := &netlink.Addr{IPNet: netlink.NewIPNet(n.Addr.AsSlice())}
	addr.IPNet.Mask = []byte{255, 255, 255, 0}
	return errors.Join(netlink.LinkSetUp(lo), netlink.AddrAdd(link, addr), netlink.LinkSetUp(link))
}
