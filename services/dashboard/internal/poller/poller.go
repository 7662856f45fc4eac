// Package poller finds the replicas of each target service by DNS and
// polls each one's admin listener every round: /readyz, /metrics,
// /version, and a peer node's JSON API. It keeps what it knows of each
// replica between rounds (state and since when, version, last answer), so
// a replica that stops answering, or drops out of DNS, is shown as down
// with the error and the time it went down.
package poller

import (
	"cmp"
	"context"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/netlab/netlab/services/dashboard/internal/scrape"
	"github.com/netlab/netlab/services/peer/api"
	"github.com/netlab/netlab/services/platform/version"
)

// Replica states.
const (
	StateUp       = "up"        // /readyz answered 200
	StateNotReady = "not_ready" // it answers, but /readyz does not say ready
	StateDown     = "down"      // it does not answer
)

// Resolver is the DNS lookups the poller makes (net.Resolver has them).
type Resolver interface {
	LookupHost(ctx context.Context, host string) ([]string, error)
	LookupAddr(ctx context.Context, addr string) ([]string, error)
}

// Options configure a Poller.
type Options struct {
	Targets     []Target
	Timeout     time.Duration // for a replica's requests in one round
	MaxReplicas int           // replicas tracked over every target
	MaxBytes    int64         // largest answer read
	// Expiry is how long a replica that neither resolves nor answers stays
	// listed as down.
	Expiry   time.Duration
	Resolver Resolver
	Client   *http.Client
	// Parallel is how many replicas are polled at once.
	Parallel int
}

// Replica is what a round learned of one replica.
type Replica struct {
	Service  string // the target's name
	Key      string // stable across rounds: the service and the DNS name, or the address
	Name     string // for people: the container name, or the address
	Addr     string // host:port polled
	Kind     string // the service the binary says it is (netlab_build_info)
	State    string
	Err      string
	Since    time.Time // in State since
	LastSeen time.Time // last answer; zero if never
	Resolved bool      // the last lookup found it
	Version  version.Info
	Started  time.Time      // the process's start (process_start_time_seconds)
	Metrics  *scrape.Result // this round's scrape; nil when it failed
	Peer     *PeerInfo      // this round's peer API answers, for a peer node
}

// PeerInfo is a peer node's JSON API as read in one round.
type PeerInfo struct {
	Status    api.Status
	Peers     []api.Peer
	Downloads []api.Download
	Catalog   []api.LocalFile
}

// Service is one target service in a round.
type Service struct {
	Name     string
	Err      string    // why its name did not resolve, "" if it did
	Since    time.Time // when the lookup started failing
	Replicas []Replica
}

// Round is one poll of every target.
type Round struct {
	Time     time.Time
	Took     time.Duration
	Services []Service
	// Untracked counts replicas found but not polled: MaxReplicas were
	// tracked already.
	Untracked int
}

// Poller polls the targets. Poll is called from one goroutine.
type Poller struct {
	opts     Options
	replicas map[string]*Replica
	names    map[string]nameEntry // reverse lookups by IP
	lookups  map[string]lookupState
}

type nameEntry struct {
	name string
	at   time.Time
}

type lookupState struct {
	err   string
	since time.Time
}

// nameTTL is how long a reverse lookup is reused: a restarted container may
// come back on another address, and its old one go to another container.
const nameTTL = 10 * time.Second

// New returns a poller.
func New(opts Options) *Poller {
	opts.Parallel = max(opts.Parallel, 1)
	return &Poller{opts: opts, replicas: map[string]*Replica{}, names: map[string]nameEntry{}, lookups: map[string]lookupState{}}
}

// found is a replica address a lookup returned.
type found struct {
	target Target
	addr   string
	key    string
	name   string
}

// Poll runs one round at now.
func (p *Poller) Poll(ctx context.Context, now time.Time) Round {
	start := time.Now()
	addrs, lookupErrs := p.resolve(ctx, now)
	untracked := p.track(addrs, now)
	p.expire(now)
	p.pollAll(ctx, now)
	round := Round{Time: now, Untracked: untracked}
	for _, name := range p.serviceNames() {
		svc := Service{Name: name}
		if st, ok := lookupErrs[name]; ok {
			svc.Err, svc.Since = st.err, st.since
		}
		for _, r := range p.replicas {
			if r.Service == name {
				svc.Replicas = append(svc.Replicas, *r)
			}
		}
		slices.SortFunc(svc.Replicas, func(a, b Replica) int { return NaturalCompare(a.Name, b.Name) })
		round.Services = append(round.Services, svc)
	}
	round.Took = time.Since(start)
	return round
}

// serviceNames are the targets' names, each once, in their order.
func (p *Poller) serviceNames() []string {
	var names []string
	for _, t := range p.opts.Targets {
		if !slices.Contains(names, t.Service) {
			names = append(names, t.Service)
		}
	}
	return names
}

// resolve looks every target up and returns the replica addresses found,
// and the lookup errors by service (with since when).
func (p *Poller) resolve(ctx context.Context, now time.Time) ([]found, map[string]lookupState) {
	type answer struct {
		ips []string
		err error
	}
	answers := make([]answer, len(p.opts.Targets))
	var wg sync.WaitGroup
	for i, t := range p.opts.Targets {
		if ip := net.ParseIP(t.Host); ip != nil {
			answers[i] = answer{ips: []string{t.Host}}
			continue
		}
		wg.Go(func() {
			lctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
			defer cancel()
			ips, err := p.opts.Resolver.LookupHost(lctx, t.Host)
			answers[i] = answer{ips, err}
		})
	}
	wg.Wait()
	var out []found
	errs := map[string]lookupState{}
	for i, t := range p.opts.Targets {
		a := answers[i]
		if a.err != nil {
			st, ok := p.lookups[t.Addr()]
			if !ok {
				st = lookupState{since: now}
			}
			st.err = "lookup " + t.Host + ": " + shortError(a.err)
			p.lookups[t.Addr()] = st
			errs[t.Service] = st
			continue
		}
		delete(p.lookups, t.Addr())
		slices.Sort(a.ips)
		for _, ip := range a.ips {
			out = append(out, p.found(ctx, t, ip, now))
		}
	}
	return out, errs
}

// found names a replica address: by its DNS name where the resolver has
// one (Docker's names a container), else by the address itself.
func (p *Poller) found(ctx context.Context, t Target, ip string, now time.Time) found {
	addr := net.JoinHostPort(ip, t.Port)
	f := found{target: t, addr: addr, key: t.Service + "/" + addr, name: addr}
	if net.ParseIP(t.Host) != nil || t.Host == "localhost" {
		return f
	}
	e, ok := p.names[ip]
	if !ok || now.Sub(e.at) > nameTTL {
		lctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
		names, err := p.opts.Resolver.LookupAddr(lctx, ip)
		cancel()
		e = nameEntry{at: now}
		if err == nil && len(names) > 0 {
			e.name, _, _ = strings.Cut(names[0], ".")
		}
		p.names[ip] = e
	}
	if e.name != "" {
		f.key, f.name = t.Service+"/"+e.name, e.name
	}
	return f
}

// track adds the replicas found to those known, up to MaxReplicas, and
// marks which were found; it returns how many were left out.
func (p *Poller) track(addrs []found, now time.Time) (untracked int) {
	for _, r := range p.replicas {
		r.Resolved = false
	}
	for _, f := range addrs {
		r, ok := p.replicas[f.key]
		if !ok {
			if len(p.replicas) >= p.opts.MaxReplicas {
				untracked++
				continue
			}
			r = &Replica{Service: f.target.Service, Key: f.key, State: StateDown, Since: now}
			p.replicas[f.key] = r
		}
		r.Name, r.Addr, r.Resolved = f.name, f.addr, true
	}
	for key := range p.names {
		if now.Sub(p.names[key].at) > 6*nameTTL {
			delete(p.names, key)
		}
	}
	return untracked
}

// expire forgets replicas that have neither resolved nor answered for
// Expiry.
func (p *Poller) expire(now time.Time) {
	for key, r := range p.replicas {
		if !r.Resolved && r.State == StateDown && now.Sub(cmp.Or(r.LastSeen, r.Since)) > p.opts.Expiry {
			delete(p.replicas, key)
		}
	}
}

// pollAll polls every tracked replica, Parallel at a time.
func (p *Poller) pollAll(ctx context.Context, now time.Time) {
	sem := make(chan struct{}, p.opts.Parallel)
	var wg sync.WaitGroup
	for _, r := range p.replicas {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			rctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
			defer cancel()
			p.pollReplica(rctx, r, now)
		})
	}
	wg.Wait()
}

// setState records a replica's state, and since when it has been in it.
func setState(r *Replica, state, err string, now time.Time) {
	if r.State != state {
		r.Since = now
	}
	r.State, r.Err = state, err
}

// NaturalCompare orders names with numbers by value: peer-2 before peer-10.
func NaturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if c := cmp.Or(cmp.Compare(len(na), len(nb)), strings.Compare(na, nb)); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

func digits(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}
