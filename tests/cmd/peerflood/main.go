// Command peerflood attacks a peer node's handshake budget, for the e2e
// tests: it holds -conns connections to -addr open without ever sending a
// byte, and reopens each one as soon as the node closes it, until -for
// has passed. It prints how many connections it opened and how many the
// node closed at once (refused) or after a while (timed out).
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// respite is the least time between two connections of one worker, so a
// refused worker does not spin a core of the machine the test shares.
const respite = 100 * time.Millisecond

func main() {
	addr := flag.String("addr", "", "the node's peer address, host:port")
	conns := flag.Int("conns", 64, "connections held open at once (1..10000)")
	dur := flag.Duration("for", time.Minute, "how long to flood (up to 1h)")
	flag.Parse()
	if *addr == "" || *conns < 1 || *conns > 10_000 || *dur <= 0 || *dur > time.Hour {
		flag.Usage()
		os.Exit(2)
	}
	var opened, refused, held atomic.Int64
	stop := time.Now().Add(*dur)
	var wg sync.WaitGroup
	for range *conns {
		wg.Go(func() {
			for time.Now().Before(stop) {
				start := time.Now()
				if hold(*addr, stop) {
					opened.Add(1)
					if time.Since(start) < time.Second {
						refused.Add(1)
					} else {
						held.Add(1)
					}
				}
				time.Sleep(max(0, respite-time.Since(start)))
			}
		})
	}
	wg.Wait()
	fmt.Printf("opened=%d closed_within_1s=%d held_longer=%d\n", opened.Load(), refused.Load(), held.Load())
}

// hold opens one connection, reads (and ignores) what the node sends until
// it closes the connection or stop, and reports whether it connected.
func hold(addr string, stop time.Time) bool {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetReadDeadline(stop)
	_, _ = io.Copy(io.Discard, c)
	return true
}
