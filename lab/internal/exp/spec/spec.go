// Package spec is the experiment spec file of `netlab exp`: what to start
// (services and replicas), what to impair (the targets and the swept
// parameter), what load to run (the project's own clients), how often and
// how long. Parsing is strict: an unknown field is refused, and every bad
// value is an error that names its field.
package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"time"

	"go.yaml.in/yaml/v3"
)

// Limits on every count, size and time of a spec.
const (
	MaxFileSize     = 64 << 10
	MaxPeers        = 30 // peer nodes
	MaxOtherReplica = 4  // replicas of any other service
	MaxEnv          = 32
	MaxValues       = 40
	MaxWorkloads    = 4
	MaxRepetitions  = 20
	MaxWarmup       = time.Minute
	MinInterval     = 100 * time.Millisecond
	MaxInterval     = time.Minute
	MaxCount        = 1_000_000
	MaxProbeRate    = 100_000 // probes per second
	MaxSeconds      = 300     // one workload run
	MaxBytes        = 1 << 30
	MaxTotal        = 4 * time.Hour // estimated length of a whole run
	MaxMetrics      = 32
)

// Services a spec may start, with their client.
var Services = []string{"tcp-echo", "udp-responder", "http-hello", "peer"}

// Parameters a sweep may vary, and the unit of their values.
var Parameters = map[string]string{
	"loss":  "%",      // independent loss on the targets' links
	"rate":  "Mbit/s", // bandwidth cap
	"delay": "ms",     // added delay
	"nodes": "nodes",  // peer nodes started (the workload's topology)
}

// Single is the parameter of a spec without a sweep: one point, value 0.
const Single = "none"

// Clients a workload may run.
const (
	UDPProbe   = "udp-probe"   // udp-client --count at --rate: loss, RTT
	TCPBulk    = "tcp-bulk"    // tcp-echo-client --bulk: echoed throughput
	UDPBitrate = "udp-bitrate" // udp-client --duration at --bitrate: received throughput
	// PeerTransfer is one file from the first peer node to the second:
	// the verified download's rate.
	PeerTransfer = "peer-transfer"
	// LatencyMatrix probes every ordered pair of udp-responder's replicas
	// from inside the first's network namespace, under per-link
	// impairments: RTT p50/p99, loss and one-way delay per pair.
	LatencyMatrix = "latency-matrix"
	HTTPPage      = "http-page" // http-client --pages: page load time against round trips
	// KuroseRoss distributes one file from the stack's peer node (the
	// server) to N peer nodes of the workload's own, client-server or
	// peer-to-peer: the time to the last verified copy against the book's
	// bounds (Kurose & Ross §2.5).
	KuroseRoss = "kurose-ross"
)

// Spec is one experiment.
type Spec struct {
	Name        string     `yaml:"name"`
	Title       string     `yaml:"title"`
	Description string     `yaml:"description,omitempty"`
	Services    []Service  `yaml:"services"`
	Impairment  Impairment `yaml:"impairment,omitempty"`
	Sweep       Sweep      `yaml:"sweep,omitempty"`
	Workloads   []Workload `yaml:"workloads"`
	Repetitions int        `yaml:"repetitions"`
	Warmup      Duration   `yaml:"warmup,omitempty"`
	Interval    Duration   `yaml:"interval,omitempty"`
	// Metrics are the /metrics series scraped from every container each
	// interval (their sum over labels), besides DefaultMetrics.
	Metrics []string `yaml:"metrics,omitempty"`
	Quick   Quick    `yaml:"quick"`
}

// Service is a compose service to start, its replicas and extra settings.
type Service struct {
	Name     string            `yaml:"name"`
	Replicas int               `yaml:"replicas"`
	Env      map[string]string `yaml:"env,omitempty"`
}

// Impairment is what is applied to the targets at every sweep point: the
// swept parameter's value, plus fixed parts.
type Impairment struct {
	Targets   []string `yaml:"targets,omitempty"`
	Direction string   `yaml:"direction,omitempty"` // egress (default), ingress, both
	Delay     Duration `yaml:"delay,omitempty"`     // fixed, unless delay is swept
	Loss      float64  `yaml:"loss,omitempty"`      // fixed percent, unless loss is swept
	RateMbit  float64  `yaml:"rate_mbit,omitempty"` // fixed cap, unless rate is swept
}

// Sweep is the parameter varied and its values, in the unit Parameters
// gives. A spec without one runs one point (parameter Single).
type Sweep struct {
	Parameter string    `yaml:"parameter"`
	Values    []float64 `yaml:"values"`
}

// Workload is one client run at every point.
type Workload struct {
	Name   string `yaml:"name"`
	Client string `yaml:"client"`
	// udp-probe: Count probes at Rate per second.
	Count int     `yaml:"count,omitempty"`
	Rate  float64 `yaml:"rate,omitempty"`
	// udp-probe, udp-bitrate: datagram size in bytes.
	Size int `yaml:"size,omitempty"`
	// tcp-bulk, udp-bitrate, peer-transfer: how long to send. tcp-bulk
	// and peer-transfer move cap × Seconds bytes (the rate must be
	// swept) or Bytes.
	// partition-heal: Bytes is the file's size, Seconds the longest the
	// downloads may take from their start.
	Seconds float64 `yaml:"seconds,omitempty"`
	Bytes   int64   `yaml:"bytes,omitempty"`
	// udp-bitrate: send at Over × the cap (rate swept) or at BitrateMbit.
	Over        float64 `yaml:"over,omitempty"`
	BitrateMbit float64 `yaml:"bitrate_mbit,omitempty"`
	// latency-matrix: the first Nodes replicas of udp-responder span the
	// matrix (0: every replica; QuickNodes in the quick form, whose
	// links between those alone are kept); Links are the per-link
	// impairments; Tolerance is how far a cell's RTT and one-way p50 may
	// lie from theory. Count, Rate and Size are each pair's probes.
	Nodes      int      `yaml:"nodes,omitempty"`
	QuickNodes int      `yaml:"quick_nodes,omitempty"`
	Links      []Link   `yaml:"links,omitempty"`
	Tolerance  Duration `yaml:"tolerance,omitempty"`
	// http-page: Count pages per repetition, each of Objects objects of
	// ObjectBytes bytes (0: GET /, the greeting) fetched the Connection
	// way: non-persistent, persistent or multiplexed (pagetime).
	Objects     int    `yaml:"objects,omitempty"`
	Connection  string `yaml:"connection,omitempty"`
	ObjectBytes int    `yaml:"object_bytes,omitempty"`
	// partition-heal: the first Seeds peer nodes hold the file; of the
	// others (the downloaders), the first Cut are cut off from every
	// other node at PartitionAt after the downloads start, and healed at
	// HealAt. The quick form scales both times with the size.
	Seeds       int      `yaml:"seeds,omitempty"`
	Cut         int      `yaml:"cut,omitempty"`
	PartitionAt Duration `yaml:"partition_at,omitempty"`
	HealAt      Duration `yaml:"heal_at,omitempty"`
	// kurose-ross: Bytes is the file (F); Arm is client-server (the
	// downloaders serve no pieces) or peer-to-peer; PeerRate is each
	// downloader's upload cap (u, bytes/s); the server's is the peer
	// service's UPLOAD_RATE (us). The swept nodes are N.
	Arm      string `yaml:"arm,omitempty"`
	PeerRate int64  `yaml:"peer_rate,omitempty"`
}

// Quick is the short form of a spec (--quick): fewer values, fewer
// repetitions, counts and times scaled down.
type Quick struct {
	Values      []float64 `yaml:"values"`
	Repetitions int       `yaml:"repetitions"`
	Scale       float64   `yaml:"scale"` // counts, bytes and seconds × this, 0 < scale ≤ 1
}

// Duration is a time.Duration written as "1s", "250ms".
type Duration time.Duration

// UnmarshalYAML reads a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration like 1s or 250ms", n.Line, s)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration string back.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// D is the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// FieldError is a bad value, with the field's path ("sweep.values[2]").
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func bad(field, format string, a ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, a...)}
}

// Parse reads one spec strictly (unknown fields are errors) and
// validates it.
func Parse(r io.Reader) (*Spec, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("spec larger than %d KiB", MaxFileSize>>10)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var s Spec
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("spec is empty")
		}
		return nil, fmt.Errorf("spec: %w", err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("spec: one YAML document only")
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// Marshal writes s as YAML.
func (s *Spec) Marshal() ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return b.Bytes(), enc.Close()
}

var (
	nameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,39}$`)
	envRE  = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`)
)

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

var metricRE = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]{0,127}$`)

// DefaultMetrics are scraped from every container each interval.
var DefaultMetrics = []string{"process_cpu_seconds_total", "process_resident_memory_bytes", "go_goroutines"}
