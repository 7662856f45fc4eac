package soak

import (
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"
)

// phaseNames are the phases, in the order they run.
var phaseNames = []string{"tcp", "udp", "http", "peer"}

// options are the command line's settings.
type options struct {
	only    []string // phases to run, in order
	onlyArg string   // -only as given
	scale   float64
	bin     string
	json    bool
	timeout time.Duration

	tcpConns, tcpActive int
	tcpHold, tcpSettle  time.Duration
	tcpRSSWait          time.Duration
	udpDuration         time.Duration
	udpFlooders         int
	udpRate             int
	udpUnpinned         bool
	httpDuration        time.Duration
	httpSlow            int
	httpClients         int
	peerNodes           int
	peerMiB             int
	peerBound           time.Duration
}

// defaults are the settings of a full run.
func defaults() options {
	return options{
		scale: 1, bin: "bin", timeout: 6 * time.Minute,
		tcpConns: 10000, tcpActive: 2000, tcpHold: time.Minute, tcpSettle: 30 * time.Second, tcpRSSWait: 250 * time.Second,
		udpDuration: 30 * time.Second, udpFlooders: 4, udpRate: 200,
		httpDuration: 30 * time.Second, httpSlow: 1000, httpClients: 20,
		peerNodes: 10, peerMiB: 256, peerBound: 2 * time.Minute,
	}
}

// flagRow is one flag: its name, the setting it sets (whose value before
// parsing is the default), and its help.
type flagRow struct {
	name  string
	value any // *string, *bool, *int, *float64 or *time.Duration
	usage string
}

// flags lists every flag of the command.
func (o *options) flags() []flagRow {
	return []flagRow{
		{"only", &o.onlyArg, "comma-separated phases to run: " + strings.Join(phaseNames, ",") + " (default: all)"},
		{"scale", &o.scale, "multiply every hold and load duration by this (0.1 for a quick run)"},
		{"bin", &o.bin, "directory with netlab's binaries (make build)"},
		{"json", &o.json, "print the result as one JSON document"},
		{"timeout", &o.timeout, "bound on the whole run"},
		{"tcp-conns", &o.tcpConns, "tcp: connections held at once"},
		{"tcp-active", &o.tcpActive, "tcp: of those, connections echoing in a loop"},
		{"tcp-hold", &o.tcpHold, "tcp: how long the connections are held"},
		{"tcp-settle", &o.tcpSettle, "tcp: bound on the wait for the server's goroutines and files to return to baseline"},
		{"tcp-rss-wait", &o.tcpRSSWait, "tcp: bound on the wait for its memory, from the clients leaving: two of Go's periodic GCs, 2 min apart, free it; other phases run meanwhile; 0 skips the check"},
		{"udp-duration", &o.udpDuration, "udp: length of the flood"},
		{"udp-flooders", &o.udpFlooders, "udp: flooding sources (127.0.0.2, .3, ...)"},
		{"udp-rate", &o.udpRate, "udp: the well-behaved client's probes per second"},
		{"udp-unpinned", &o.udpUnpinned, "udp: pin neither the flooders nor the responder (by default the clients share the last CPU and the responder gets the others: an attacker's CPU is not the victim's)"},
		{"http-duration", &o.httpDuration, "http: length of the normal load"},
		{"http-slow", &o.httpSlow, "http: slowloris connections"},
		{"http-clients", &o.httpClients, "http: normal clients, one request at a time each"},
		{"peer-nodes", &o.peerNodes, "peer: nodes in the swarm"},
		{"peer-mib", &o.peerMiB, "peer: size of the shared file in MiB"},
		{"peer-bound", &o.peerBound, "peer: bound on the downloads"},
	}
}

// define declares the rows on fs, each with its setting's current value
// as the default.
func define(fs *flag.FlagSet, rows []flagRow) {
	for _, r := range rows {
		switch v := r.value.(type) {
		case *string:
			fs.StringVar(v, r.name, *v, r.usage)
		case *bool:
			fs.BoolVar(v, r.name, *v, r.usage)
		case *int:
			fs.IntVar(v, r.name, *v, r.usage)
		case *float64:
			fs.Float64Var(v, r.name, *v, r.usage)
		case *time.Duration:
			fs.DurationVar(v, r.name, *v, r.usage)
		default:
			panic(fmt.Sprintf("flag -%s: no flag type for %T", r.name, r.value))
		}
	}
}

// envDefaults sets every flag not given on the command line from
// SOAK_<NAME> (dashes as underscores), when that is set.
func envDefaults(fs *flag.FlagSet, getenv func(string) string) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		key := envKey(f.Name)
		if v := getenv(key); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", key, v, err))
			}
		}
	})
	return errors.Join(errs...)
}

// envKey is the environment variable of a flag: -tcp-hold is
// SOAK_TCP_HOLD.
func envKey(flagName string) string {
	return "SOAK_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseOnly turns -only into the phases to run, in the order given.
func (o *options) parseOnly() error {
	o.only = nil
	if o.onlyArg == "" {
		o.only = phaseNames
		return nil
	}
	for p := range strings.SplitSeq(o.onlyArg, ",") {
		p = strings.TrimSpace(p)
		if !slices.Contains(phaseNames, p) {
			return fmt.Errorf("-only: unknown phase %q (have %s)", p, strings.Join(phaseNames, ","))
		}
		o.only = append(o.only, p)
	}
	return nil
}

// validate checks the settings' ranges; each error names its flag.
func (o *options) validate() error {
	switch {
	case o.scale <= 0 || o.scale > 10:
		return errors.New("-scale must be above 0 and at most 10")
	case o.tcpConns < 1 || o.tcpActive < 0 || o.tcpActive > o.tcpConns:
		return errors.New("-tcp-conns must be at least 1 and -tcp-active between 0 and -tcp-conns")
	case o.udpFlooders < 1 || o.udpFlooders > 100 || o.udpRate < 1 || o.udpRate > 10000:
		return errors.New("-udp-flooders must be 1..100 and -udp-rate 1..10000")
	case o.httpSlow < 0 || o.httpClients < 1:
		return errors.New("-http-slow must be at least 0 and -http-clients at least 1")
	case o.peerNodes < 2 || o.peerMiB < 1:
		return errors.New("-peer-nodes must be at least 2 and -peer-mib at least 1")
	case o.tcpRSSWait < 0:
		return errors.New("-tcp-rss-wait must be 0 (skip) or more")
	case o.timeout <= 0:
		return errors.New("-timeout must be positive")
	}
	return nil
}
