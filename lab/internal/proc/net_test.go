package proc_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/internal/proc"
)

func TestWaitTCPAndListening(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	port := ln.Addr().(*net.TCPAddr).Port
	if err := proc.WaitTCP(addr)(t.Context()); err != nil {
		t.Errorf("WaitTCP on a listener: %v", err)
	}
	if err := proc.WaitListening(port)(t.Context()); err != nil || !proc.Listening(port) {
		t.Errorf("WaitListening on a listener: %v", err)
	}
	ln.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if err := proc.WaitTCP(addr)(ctx); err == nil {
		t.Error("WaitTCP on a closed port: no error")
	}
	if err := proc.WaitListening(port)(ctx); err == nil {
		t.Error("WaitListening on a closed port: no error")
	}
}

func TestFreePorts_AreDistinct(t *testing.T) {
	ports, err := proc.FreePorts(20)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if seen[p] || p <= 0 {
			t.Fatalf("ports %v repeat or are invalid", ports)
		}
		seen[p] = true
	}
}
