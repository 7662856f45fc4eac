package api

import (
	"context"
	"fmt"
	"time"
)

// Connected counts the other nodes the node is connected to now (not
// itself, each node once however many addresses lead to it).
func (c *Client) Connected(ctx context.Context) (int, error) {
	ps, err := c.Peers(ctx)
	if err != nil {
		return 0, err
	}
	ids := map[string]bool{}
	for _, p := range ps {
		if p.Connected && !p.Self && p.NodeID != "" {
			ids[p.NodeID] = true
		}
	}
	return len(ids), nil
}

// StartWhenSeen asks the node to download ref, asking again every poll
// while the node has not heard of it yet (404).
func (c *Client) StartWhenSeen(ctx context.Context, ref string, poll time.Duration) (Download, error) {
	for {
		d, err := c.Start(ctx, ref)
		if !IsNotFound(err) {
			return d, err
		}
		if err := sleep(ctx, poll); err != nil {
			return d, fmt.Errorf("%s: %s never appeared in the swarm: %w", c.Base, ref, err)
		}
	}
}

// WaitSwarm waits until the node sees name in the swarm held by at least
// holders connected peers, polling every poll.
func (c *Client) WaitSwarm(ctx context.Context, name string, holders int, poll time.Duration) (SwarmFile, error) {
	for {
		fs, err := c.Swarm(ctx)
		if err == nil {
			for _, f := range fs {
				if f.Name == name && len(f.Holders) >= holders {
					return f, nil
				}
			}
		}
		if err := sleep(ctx, poll); err != nil {
			return SwarmFile{}, fmt.Errorf("%s: %s not in the swarm with %d holders: %w", c.Base, name, holders, err)
		}
	}
}

// Wait polls download id every poll until it is complete; a failed
// download, or one not complete when ctx ends, is an error saying how
// far it got. A poll that fails is tried again at the next one (the
// node may sit behind an impaired link); the last failure is in the
// error when ctx ends.
func (c *Client) Wait(ctx context.Context, id string, poll time.Duration) (Download, error) {
	var last Download
	var lastErr error
	for {
		d, err := c.Download(ctx, id)
		switch {
		case err != nil:
			lastErr = err
		case d.State == StateComplete:
			return d, nil
		case d.State == StateFailed:
			return d, fmt.Errorf("download %s failed: %s", id, d.Error)
		default:
			last, lastErr = d, nil
		}
		if err := sleep(ctx, poll); err != nil {
			if lastErr != nil {
				err = fmt.Errorf("%w (last poll: %v)", err, lastErr)
			}
			return last, fmt.Errorf("download %s: %s, %d of %d bytes (%s): %w", id, last.State, last.Bytes, last.Size, last.Stalled, err)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
