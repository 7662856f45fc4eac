package client

import (
	"context"
	"errors"
	"fmt"
)

// The modes of tcp-echo-client: each runs, prints its result and returns
// the exit code.

// runEcho is the tutorial's exchange: one message, one echo.
func runEcho(ctx context.Context, r *run) int { return r.Answer(r.c.Echo(ctx, r.msg)) }

// runCount sends numbered probes and prints each one and a summary.
func runCount(ctx context.Context, r *run) int {
	if !r.JSON {
		r.count.OnProbe = func(p Probe) { fmt.Fprintln(r.Stdout, p) }
	}
	res, err := r.c.Count(ctx, r.count)
	if err != nil && !res.Interrupted {
		return r.Fail(err) // first dial failed: nothing to summarise
	}
	_ = r.Print(res)
	switch {
	case res.Errors > 0:
		return r.Failf("%d of %d probes failed (last: %v)", res.Errors, res.Sent, res.LastErr)
	case res.Interrupted && res.OK == 0:
		return r.Fail(err)
	}
	return 0 // interrupted after some good probes is a success, as with ping
}

// runBulk streams and verifies a large echo.
func runBulk(ctx context.Context, r *run) int {
	res, err := r.c.Bulk(ctx, r.bulk)
	var de *DialError
	if errors.As(err, &de) || (err != nil && res.Sent == 0) {
		return r.Fail(err) // nothing was transferred: nothing to report
	}
	_ = r.Print(res)
	if serr := r.Save(res); serr != nil && err == nil {
		err = serr
	}
	if err != nil {
		return r.Fail(err)
	}
	return 0
}

// runLoad prints the summary whatever happened (a harness reads it), then
// says on stderr why the run failed, if it did.
func runLoad(ctx context.Context, r *run) int {
	res, err := r.c.Load(ctx, r.load)
	// An error without an interruption is invalid options: checked before.
	if code, ok := r.Summary(res, err, res.Interrupted); !ok {
		return code
	}
	switch {
	case res.Failed > 0:
		return r.Failf("%d of %d connections failed (first: %v)", res.Failed, res.Connections, res.FirstErr)
	case res.Ops == 0 && err != nil:
		return r.Fail(err) // interrupted before any round trip
	case res.Ops == 0:
		return r.Fail(errors.New("no round trip completed"))
	}
	return 0 // interrupted after some good round trips is a success, as with --count
}
