// Package promset makes a service's Prometheus collectors and registers each
// one as it is made, so a service declares a metric once, where it names
// and describes it, instead of again in a registration list. Every metric
// is netlab_<subsystem>_<name>.
//
//	s := promset.New(reg, "tcp_echo")
//	m := &metrics{active: s.Gauge("connections_active", "Connections open right now.")}
//	if err := s.Err(); err != nil {
//		return nil, err
//	}
package promset

import "github.com/prometheus/client_golang/prometheus"

// namespace is the first part of every netlab metric name.
const namespace = "netlab"

// Set makes and registers collectors under one subsystem. The first
// registration error is kept for Err; the collectors are returned either
// way, so a caller checks Err once after making them all.
type Set struct {
	reg       prometheus.Registerer
	subsystem string
	err       error
}

// New returns a Set that registers with reg under subsystem.
func New(reg prometheus.Registerer, subsystem string) *Set {
	return &Set{reg: reg, subsystem: subsystem}
}

// Err is the first error a registration returned, or nil.
func (s *Set) Err() error { return s.err }

// add registers c and returns it.
func add[T prometheus.Collector](s *Set, c T) T {
	if err := s.reg.Register(c); err != nil && s.err == nil {
		s.err = err
	}
	return c
}

func (s *Set) opts(name, help string) prometheus.Opts {
	return prometheus.Opts{Namespace: namespace, Subsystem: s.subsystem, Name: name, Help: help}
}

// Counter makes and registers a counter.
func (s *Set) Counter(name, help string) prometheus.Counter {
	return add(s, prometheus.NewCounter(prometheus.CounterOpts(s.opts(name, help))))
}

// CounterVec makes and registers a counter with labels.
func (s *Set) CounterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return add(s, prometheus.NewCounterVec(prometheus.CounterOpts(s.opts(name, help)), labels))
}

// CounterFunc makes and registers a counter whose value f reads when
// scraped.
func (s *Set) CounterFunc(name, help string, f func() float64) {
	add(s, prometheus.NewCounterFunc(prometheus.CounterOpts(s.opts(name, help)), f))
}

// HistogramVec makes and registers a histogram with buckets and labels.
func (s *Set) HistogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	o := s.opts(name, help)
	return add(s, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: o.Namespace, Subsystem: o.Subsystem, Name: o.Name, Help: o.Help, Buckets: buckets,
	}, labels))
}

// Gauge makes and registers a gauge.
func (s *Set) Gauge(name, help string) prometheus.Gauge {
	return add(s, prometheus.NewGauge(prometheus.GaugeOpts(s.opts(name, help))))
}

// GaugeFunc makes and registers a gauge whose value f reads when scraped.
func (s *Set) GaugeFunc(name, help string, f func() float64) {
	add(s, prometheus.NewGaugeFunc(prometheus.GaugeOpts(s.opts(name, help)), f))
}

// GaugeVec makes and registers a gauge with labels.
func (s *Set) GaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	return add(s, prometheus.NewGaugeVec(prometheus.GaugeOpts(s.opts(name, help)), labels))
}
