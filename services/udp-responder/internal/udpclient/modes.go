package udpclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/netlab/netlab/services/platform/clientcli"
)

// The modes of udp-client: each runs, prints its result and returns the
// exit code.

// runSend is the tutorial's exchange: one message, one reply, with retries.
func runSend(ctx context.Context, r *invocation) int { return r.Answer(r.c.Send(ctx, r.msg)) }

// runExit sends the tutorial's "exit" with the server's token.
func runExit(ctx context.Context, r *invocation) int {
	if err := r.c.Exit(ctx, r.token); err != nil {
		return r.Fail(err)
	}
	_ = r.Print(exitSent{r.c.Addr})
	return 0
}

// exitSent is what runExit prints.
type exitSent struct{ addr string }

func (e exitSent) WriteText(w io.Writer) error {
	_, err := fmt.Fprintln(w, "sent exit")
	return err
}

func (e exitSent) WriteJSON(w io.Writer) error {
	return clientcli.WriteJSON(w, struct {
		Mode string `json:"mode"`
		Addr string `json:"addr"`
		Sent bool   `json:"sent"`
	}{"exit", e.addr, true})
}

// runProbe sends numbered probes and prints the statistics.
func runProbe(ctx context.Context, r *invocation) int {
	res, err := r.c.Probe(ctx, r.probe)
	res.Bitrate = r.bitrate
	r.line.finish(res)
	// Nothing sent: nothing to summarise.
	if code, ok := r.Summary(res, err, res.Interrupted && res.Sent > 0); !ok {
		return code
	}
	switch {
	case res.Sent == 0 && res.SendErrors > 0:
		return r.Fail(fmt.Errorf("no probe could be sent (%v)", res.LastErr))
	case res.Sent == 0:
		return r.Fail(errors.New("no probe was sent"))
	case res.Received == 0:
		return r.noReplies(res.Sent, "probes", res.Unreachable > 0)
	}
	var problems []string
	if res.Corrupted > 0 {
		problems = append(problems, fmt.Sprintf("%d corrupted replies", res.Corrupted))
	}
	if res.LossPercent > r.maxLoss {
		problems = append(problems, fmt.Sprintf("loss %.2f%% is above --max-loss %g%%", res.LossPercent, r.maxLoss))
	}
	if len(problems) > 0 {
		return r.Failf("%s", strings.Join(problems, "; "))
	}
	return 0 // interrupted after some replies is a success, as with ping
}

// runLoad keeps one request outstanding per socket and prints the summary.
func runLoad(ctx context.Context, r *invocation) int {
	res, err := r.c.Load(ctx, r.load)
	// The run did not start: nothing to summarise.
	if code, ok := r.Summary(res, err, res.Interrupted && res.Sent > 0); !ok {
		return code
	}
	switch {
	case res.Received == 0:
		return r.noReplies(res.Sent, "requests", res.Errors[ErrKindRefused] > 0)
	case res.LossPercent > r.maxLoss:
		return r.Failf("loss %.2f%% is above --max-loss %g%%", res.LossPercent, r.maxLoss)
	}
	return 0 // interrupted after some replies is a success, as with ping
}

func (r *invocation) noReplies(sent int64, what string, refused bool) int {
	msg := fmt.Sprintf("no replies from %s (%d %s sent)", r.c.Addr, sent, what)
	if refused {
		msg += ": connection refused (nothing listening on that port?)"
	}
	return r.Failf("%s", msg)
}

// progressLine keeps one progress line on stderr up to date with \r.
type progressLine struct {
	w       io.Writer
	width   int // of the last line, to blank out what a shorter one leaves
	printed bool
}

func (p *progressLine) update(pr Progress) {
	line := fmt.Sprintf("sent %d/%d received %d unanswered %d reordered %d duplicated %d corrupted %d",
		pr.Sent, pr.Count, pr.Received, pr.Unanswered(), pr.Reordered, pr.Duplicated, pr.Corrupted)
	pad := max(p.width-len(line), 0)
	p.width = len(line)
	fmt.Fprintf(p.w, "\r%s%s", line, strings.Repeat(" ", pad))
	p.printed = true
}

// finish rewrites the line with the final counts and ends it, if a
// progress line was printed at all.
func (p *progressLine) finish(res Result) {
	if p == nil || !p.printed {
		return
	}
	p.update(Progress{
		Count: int64(res.Count), Sent: res.Sent, Received: res.Received,
		Reordered: res.Reordered, Duplicated: res.Duplicated, Corrupted: res.Corrupted,
	})
	fmt.Fprintln(p.w)
}
