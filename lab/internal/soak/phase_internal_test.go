package soak

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

// fakePhase records that it ran, adds its checks and returns err.
type fakePhase struct {
	name       string
	err        error
	checks     []Check
	afterwards *fakePhase // its deferred part, if any
	ran        *[]string
	onRun      func()
}

func (f *fakePhase) describe() (string, string) { return f.name, "about " + f.name }

func (f *fakePhase) run(_ context.Context, _ Env, ph *Phase) error {
	*f.ran = append(*f.ran, f.name)
	for _, c := range f.checks {
		ph.Check(c)
	}
	if f.onRun != nil {
		f.onRun()
	}
	return f.err
}

func (f *fakePhase) later() phase {
	if f.afterwards == nil {
		return nil
	}
	return f.afterwards
}

func TestRunPhases(t *testing.T) {
	ok := AtMost("fine", 0, 0, "")
	tests := []struct {
		name     string
		phases   func(ran *[]string, cancel func()) []phase
		wantRan  []string
		want     []string // each phase's name and error, as recorded
		wantPass bool
	}{
		{
			name: "deferred parts run after every other phase",
			phases: func(ran *[]string, _ func()) []phase {
				late := &fakePhase{name: "tcp-rss", checks: []Check{ok}, ran: ran}
				return []phase{
					&fakePhase{name: "tcp", checks: []Check{ok}, afterwards: late, ran: ran},
					&fakePhase{name: "udp", checks: []Check{ok}, ran: ran},
				}
			},
			wantRan:  []string{"tcp", "udp", "tcp-rss"},
			want:     []string{"tcp: ", "udp: ", "tcp-rss: "},
			wantPass: true,
		},
		{
			name: "a phase that cannot finish fails the run, the next still runs",
			phases: func(ran *[]string, _ func()) []phase {
				return []phase{
					&fakePhase{name: "http", err: errors.New("http-hello exited"), checks: []Check{ok}, ran: ran},
					&fakePhase{name: "peer", checks: []Check{ok}, ran: ran},
				}
			},
			wantRan: []string{"http", "peer"},
			want:    []string{"http: http-hello exited", "peer: "},
		},
		{
			name: "after the deadline, the rest is not run",
			phases: func(ran *[]string, cancel func()) []phase {
				return []phase{
					&fakePhase{name: "tcp", checks: []Check{ok}, ran: ran, onRun: cancel},
					&fakePhase{name: "udp", checks: []Check{ok}, ran: ran},
				}
			},
			wantRan: []string{"tcp"},
			want:    []string{"tcp: run timed out or interrupted: context canceled", "udp: not run"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var ran []string
			var table strings.Builder
			res := runPhases(ctx, Env{Log: io.Discard}, tt.phases(&ran, cancel), &table)
			var got []string
			for _, ph := range res.Phases {
				got = append(got, ph.Name+": "+ph.Error)
				if ph.Error != "not run" && (ph.About != "about "+ph.Name || ph.Elapsed <= 0) {
					t.Errorf("phase %s: about %q, elapsed %v; want both recorded", ph.Name, ph.About, ph.Elapsed)
				}
			}
			if !slices.Equal(ran, tt.wantRan) || !slices.Equal(got, tt.want) || res.Passed != tt.wantPass {
				t.Errorf("ran %v, recorded %q, passed %v; want %v, %q, %v", ran, got, res.Passed, tt.wantRan, tt.want, tt.wantPass)
			}
			if !strings.Contains(table.String(), "== "+res.Phases[0].Name+": ") {
				t.Errorf("no table for %s:\n%s", res.Phases[0].Name, table.String())
			}
		})
	}
}
