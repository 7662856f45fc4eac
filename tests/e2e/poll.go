package e2e

import (
	"context"
	"fmt"
	"time"
)

// Poll calls cond every interval until it returns nil or timeout passes; it
// returns cond's last error on timeout. It is the one way the tests wait for
// something to become true.
func Poll(ctx context.Context, timeout, interval time.Duration, cond func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("after %s: %w", timeout, err)
		case <-tick.C:
		}
	}
}
