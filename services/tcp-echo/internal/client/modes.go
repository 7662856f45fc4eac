package client

import (
	"context"
	"errors"
	"fmt"

	"github.com/netlab/netlab/services/platform/clientcli"
)

// The modes of tcp-echo-client: each runs, prints its result and returns
// the exit code.

// runEcho is the tutorial's exchange: one message, one echo.
func runEcho(ctx context.Context, r *run) int {
	res, err := r.c.Echo(ctx, r.msg)
	if err == nil {
		err = clientcli.Print(r.Stdout, r.JSON, res)
	}
	if err != nil {
		return r.failure(err)
	}
	return 0
}

// runCount sends numbered probes and prints each one and a summary.
func runCount(ctx context.Context, r *run) int {
	if !r.JSON {
		r.count.OnProbe = func(p Probe) { fmt.Fprintln(r.Stdout, p) }
	}
	res, err := r.c.Count(ctx, r.count)
	if err != nil && !res.Interrupted {
		return r.failure(err) // first dial failed: nothing to summarise
	}
	_ = clientcli.Print(r.Stdout, r.JSON, res)
	switch {
	case res.Errors > 0:
		fmt.Fprintf(r.Stderr, "%s: %d of %d probes failed (last: %v)\n", prog, res.Errors, res.Sent, res.LastErr)
		return clientcli.ExitFailure
	case res.Interrupted && res.OK == 0:
		return r.failure(err)
	}
	return 0 // interrupted after some good probes is a success, as with ping
}

// runBulk streams and verifies a large echo.
func runBulk(ctx context.Context, r *run) int {
	res, err := r.c.Bulk(ctx, r.bulk)
	var de *DialError
	if errors.As(err, &de) || (err != nil && res.Sent == 0) {
		return r.failure(err) // nothing was transferred: nothing to report
	}
	_ = clientcli.Print(r.Stdout, r.JSON, res)
	if serr := r.Save(res); serr != nil && err == nil {
		err = serr
	}
	if err != nil {
		return r.failure(err)
	}
	return 0
}

// runLoad prints the summary whatever happened (a harness reads it), then
// says on stderr why the run failed, if it did.
func runLoad(ctx context.Context, r *run) int {
	res, err := r.c.Load(ctx, r.load)
	if err != nil && !res.Interrupted {
		return r.failure(err) // invalid options: checked before, so not reached
	}
	_ = clientcli.Print(r.Stdout, r.JSON, res)
	if err := r.Save(res); err != nil {
		return r.failure(err)
	}
	switch {
	case res.Failed > 0:
		fmt.Fprintf(r.Stderr, "%s: %d of %d connections failed (first: %v)\n", prog, res.Failed, res.Connections, res.FirstErr)
		return clientcli.ExitFailure
	case res.Ops == 0 && err != nil:
		return r.failure(err) // interrupted before any round trip
	case res.Ops == 0:
		return r.failure(errors.New("no round trip completed"))
	}
	return 0 // interrupted after some good round trips is a success, as with --count
}

func (r *run) failure(err error) int { return clientcli.Failure(r.Stderr, prog, err) }
