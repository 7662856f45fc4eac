// Package configtest tests a service's configuration loading: what an
// environment loads as (Loads, with the shared keys' defaults in
// SharedDefaults), which variables an error names (Refuses, Vars), and a
// fuzz target (Fuzz) checking that whatever the environment holds, Load
// returns a configuration or errors that each name one of the service's
// variables — it never panics.
package configtest

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/config"
)

// SharedDefaults are the shared keys' defaults, which the README documents
// for every service.
func SharedDefaults() config.Shared {
	return config.Shared{AdminAddr: ":9090", LogLevel: "info", LogFormat: "auto", ShutdownTimeout: 10 * time.Second}
}

// Loads loads environ with load and fails the test unless that gives want,
// field for field; it returns what it loaded. A test of the defaults
// passes an empty environ and SharedDefaults in want.
func Loads[C any](tb testing.TB, load func(environ map[string]string) (C, error), environ map[string]string, want C) C {
	tb.Helper()
	got, err := load(environ)
	if err != nil {
		tb.Fatalf("Load(%v): %v", environ, err)
	}
	if !reflect.DeepEqual(got, want) {
		tb.Errorf("Load(%v):\n got %+v\nwant %+v", environ, got, want)
	}
	return got
}

// Bad is an environment Load must refuse: the error names Var and no
// other variable, and its text contains Msg when Msg is set.
type Bad struct {
	Name string // the subtest's name; the environment when empty
	Env  map[string]string
	Var  string
	Msg  string
}

// Refuses loads each environment with load as a subtest and checks that it
// is refused as the case says, with *config.Error values only.
func Refuses[C any](t *testing.T, load func(environ map[string]string) (C, error), cases []Bad) {
	t.Helper()
	for _, tc := range cases {
		name := tc.Name
		if name == "" {
			name = fmt.Sprint(tc.Env)
		}
		t.Run(name, func(t *testing.T) {
			_, err := load(tc.Env)
			if err == nil {
				t.Fatalf("Load(%v) = nil error, want one naming %s", tc.Env, tc.Var)
			}
			if got := slices.Compact(Vars(err)); !slices.Equal(got, []string{tc.Var}) {
				t.Errorf("Load(%v) names %v, want [%s] (err: %v)", tc.Env, got, tc.Var, err)
			}
			for _, e := range leaves(err) {
				if ce := (*config.Error)(nil); !errors.As(e, &ce) {
					t.Errorf("Load(%v): error %q (%T) does not name a variable", tc.Env, e, e)
				}
			}
			if !strings.Contains(err.Error(), tc.Msg) {
				t.Errorf("Load(%v) = %q, want it to contain %q", tc.Env, err, tc.Msg)
			}
		})
	}
}

// Errors returns the *config.Error values in err (a tree of errors.Join
// results and wrapped errors), in order.
func Errors(err error) []*config.Error {
	var out []*config.Error
	var walk func(error)
	walk = func(e error) {
		if ce, ok := e.(*config.Error); ok {
			out = append(out, ce)
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, inner := range u.Unwrap() {
				walk(inner)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// Vars returns the variables the errors in err name, one per error, sorted.
func Vars(err error) []string {
	var vars []string
	for _, e := range Errors(err) {
		vars = append(vars, e.Var)
	}
	slices.Sort(vars)
	return vars
}

// Keys returns every `env` key of the struct cfg points to, nested structs
// (such as an embedded config.Shared) included, sorted.
func Keys(cfg any) []string {
	var keys []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return
		}
		for i := range t.NumField() {
			f := t.Field(i)
			if tag, _, _ := strings.Cut(f.Tag.Get("env"), ","); tag != "" {
				keys = append(keys, tag)
				continue
			}
			walk(f.Type)
		}
	}
	walk(reflect.TypeOf(cfg))
	slices.Sort(keys)
	return slices.Compact(keys)
}

// values are seeds every key gets: empty, signs, overflows, units, special
// floats, separators and control characters.
var values = []string{
	"", " ", "0", "-1", "1", "64", "65536", "9223372036854775807", "-9223372036854775808",
	"18446744073709551616", "1e308", "1e999", "NaN", "+Inf", "-0", "0.5", "abc",
	"1s", "-1s", "10m", "1h", "9999999h", "1KiB", "16GiB", "1.5GB", "1e3MiB", "-1MiB",
	":0", ":8000", "127.0.0.1:65536", "[::1]:80", "host:port", "true", "maybe",
	"a,b,,c", "10.0.0.0/8,::1/128", "10.0.0.0/33", "\x00", "\n", "${HOME}",
}

// Fuzz runs a fuzz target that sets up to two of keys (chosen by the fuzzer)
// to fuzzed values and calls load. It checks that load is deterministic and
// that a failure is made only of *config.Error values naming a key, each
// parse error quoting the value that was set.
func Fuzz(f *testing.F, keys []string, load func(environ map[string]string) error) {
	f.Helper()
	if len(keys) == 0 {
		f.Fatal("configtest.Fuzz: no keys")
	}
	for i := range keys {
		for _, v := range values {
			f.Add(uint8(i), v, uint8(i), v)
		}
	}
	f.Fuzz(func(t *testing.T, k1 uint8, v1 string, k2 uint8, v2 string) {
		if len(v1)+len(v2) > 256 {
			// Longer values add no paths, and minimizing them costs the
			// fuzzer up to len² runs.
			return
		}
		environ := map[string]string{
			keys[int(k1)%len(keys)]: v1,
			keys[int(k2)%len(keys)]: v2,
		}
		err := load(maps.Clone(environ))
		if err2 := load(maps.Clone(environ)); (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
			t.Fatalf("Load(%q) is not deterministic: %v, then %v", environ, err, err2)
		}
		if err == nil {
			return
		}
		for _, e := range leaves(err) {
			var ce *config.Error
			if !errors.As(e, &ce) {
				t.Fatalf("Load(%q): error %q (%T) does not name a variable", environ, e, e)
			}
			if !slices.Contains(keys, ce.Var) {
				t.Fatalf("Load(%q): error names %q, not one of the variables", environ, ce.Var)
			}
			if strings.HasPrefix(ce.Reason, "not a valid") && ce.Value != environ[ce.Var] {
				t.Fatalf("Load(%q): parse error of %s quotes %q", environ, ce.Var, ce.Value)
			}
		}
	})
}

// FuzzLoad is Fuzz over every key of the configuration load returns.
func FuzzLoad[C any](f *testing.F, load func(environ map[string]string) (C, error)) {
	f.Helper()
	Fuzz(f, Keys(new(C)), func(environ map[string]string) error {
		_, err := load(environ)
		return err
	})
}

// leaves flattens errors.Join trees.
func leaves(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leaves(e)...)
		}
		return out
	}
	return []error{err}
}
