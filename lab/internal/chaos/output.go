package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/netlab/netlab/services/platform/loadgen"
)

// Clock is the time the runner reads and waits on, the one a load
// generator's timetable keeps; tests give a fake one.
type Clock = loadgen.Clock

// RealClock is the machine's clock, loadgen.Wall.
type RealClock struct{}

// Now is the wall clock's time.
func (RealClock) Now() time.Time { return loadgen.Wall.Now() }

// SleepUntil returns once t has come (true) or ctx has ended (false).
func (RealClock) SleepUntil(ctx context.Context, t time.Time) bool {
	return loadgen.Wall.SleepUntil(ctx, t)
}

// Schema names the JSON lines --json prints.
const Schema = "netlab-chaos/1"

// Record is one line of output: something that happened, when, and to
// what. --json prints each as a JSON object on a line of its own.
type Record struct {
	Schema     string    `json:"schema"`
	Event      string    `json:"event"` // start, plan, action, undo, interrupted, left, done
	T          float64   `json:"t"`     // seconds since the start; for an action, when it began
	Time       time.Time `json:"time"`  // the wall clock then
	Step       int       `json:"step,omitempty"`
	At         *float64  `json:"at,omitempty"` // seconds: when the plan has it
	Action     string    `json:"action,omitempty"`
	Command    string    `json:"command,omitempty"` // the netlab command it amounts to
	Containers []string  `json:"containers,omitempty"`
	Result     string    `json:"result,omitempty"`
	Took       float64   `json:"took,omitempty"` // seconds the action took
	Late       float64   `json:"late,omitempty"` // seconds after its time it began
	Error      string    `json:"error,omitempty"`
	Message    string    `json:"message"` // the text line, without the times
}

// printer writes records as text lines (relative time, wall clock,
// message) or JSON lines.
type printer struct {
	w     io.Writer
	json  bool
	clock Clock
	start time.Time
}

// print stamps r with the time now and writes it.
func (p *printer) print(r Record) { p.printAt(r, p.clock.Now()) }

// printAt stamps r with the time now (an action: when it began) and
// writes it.
func (p *printer) printAt(r Record, now time.Time) {
	r.Schema, r.T, r.Time = Schema, now.Sub(p.start).Seconds(), now
	if p.json {
		b, _ := json.Marshal(r) // a Record always marshals
		fmt.Fprintf(p.w, "%s\n", b)
		return
	}
	fmt.Fprintf(p.w, "%+9.3fs  %s  %s\n", r.T, now.Format("15:04:05.000"), r.Message)
}

func seconds(d time.Duration) *float64 {
	s := d.Seconds()
	return &s
}
