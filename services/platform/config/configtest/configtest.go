// Package configtest fuzzes a service's configuration loading: whatever the
// environment holds, Load returns a configuration or errors that each name
// one of the service's variables — it never panics.
package configtest

import (
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/netlab/netlab/services/platform/config"
)

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
