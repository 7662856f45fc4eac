// Package config loads a service's configuration from environment variables
// (with github.com/caarlos0/env/v11) and reports every problem by the name of
// the variable that caused it, so an operator knows what to fix.
package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"

	"github.com/caarlos0/env/v11"
)

// Validator is implemented by configuration structs that check their values
// after parsing. Validate should return one *Error per bad variable, joined
// with errors.Join.
type Validator interface {
	Validate() error
}

// Error is a configuration problem tied to one environment variable.
type Error struct {
	Var    string // the environment variable, e.g. "MAX_CONNS"
	Value  string // what it was set to ("" when unset)
	Reason string // what is wrong, in words
}

func (e *Error) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s: %s", e.Var, e.Reason)
	}
	return fmt.Sprintf("%s=%q: %s", e.Var, e.Value, e.Reason)
}

// Load fills cfg (a pointer to a struct with `env` tags) from environ, or from
// the process environment when environ is nil, then runs cfg.Validate when
// cfg implements Validator. Every error names its variable.
func Load(cfg any, environ map[string]string) error {
	if environ == nil {
		environ = env.ToMap(os.Environ())
	}
	if err := env.ParseWithOptions(cfg, env.Options{Environment: environ}); err != nil {
		return describe(err, cfg, environ)
	}
	if v, ok := cfg.(Validator); ok {
		return v.Validate()
	}
	return nil
}

// LoadAs is Load for a configuration of type C: a service's Load is
// LoadAs of its Config.
func LoadAs[C any](environ map[string]string) (C, error) {
	var cfg C
	err := Load(&cfg, environ)
	return cfg, err
}

// describe rewrites env/v11's errors, which name Go struct fields, into
// errors that name environment variables.
func describe(err error, cfg any, environ map[string]string) error {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return fmt.Errorf("config: %w", err)
	}
	keys := envKeys(reflect.TypeOf(cfg), "", nil)
	var out []error
	for _, e := range agg.Errors {
		var (
			parseErr   env.ParseError
			notSetErr  env.VarIsNotSetError
			emptyVarEr env.EmptyVarError
		)
		switch {
		case errors.As(e, &parseErr):
			key := keyFor(keys[parseErr.Name], environ)
			out = append(out, &Error{Var: key, Value: environ[key], Reason: parseReason(parseErr)})
		case errors.As(e, &notSetErr):
			out = append(out, &Error{Var: notSetErr.Key, Reason: "required but not set"})
		case errors.As(e, &emptyVarEr):
			out = append(out, &Error{Var: emptyVarEr.Key, Reason: "must not be empty"})
		default:
			out = append(out, fmt.Errorf("config: %w", e))
		}
	}
	return errors.Join(out...)
}

// parseReason says why a value did not parse: in the words of the *Error a
// type's UnmarshalText returned (whose Var and Value Load fills in), or
// else by the type's kind.
func parseReason(e env.ParseError) string {
	var own *Error
	if errors.As(e.Err, &own) {
		return own.Reason
	}
	return "not a valid " + kind(e.Type)
}

// kind names a Go type the way an operator thinks of it.
func kind(t reflect.Type) string {
	if k, ok := reflect.New(t).Elem().Interface().(interface{ ValueKind() string }); ok {
		return k.ValueKind()
	}
	switch {
	case t.PkgPath() == "time" && t.Name() == "Duration":
		return "duration (e.g. 500ms, 10s, 5m)"
	case t.Kind() == reflect.Bool:
		return "boolean (true or false)"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		return "integer"
	case t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uint64:
		return "non-negative integer"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "number"
	default:
		return t.String()
	}
}

// envKeys maps struct field names to the `env` keys they may stand for,
// descending into nested structs (such as an embedded Shared) and honouring
// `envPrefix`. Two nested structs may share a field name, so a name can have
// several keys; keyFor picks the right one.
func envKeys(t reflect.Type, prefix string, keys map[string][]string) map[string][]string {
	if keys == nil {
		keys = map[string][]string{}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return keys
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if tag, _, _ := strings.Cut(f.Tag.Get("env"), ","); tag != "" {
			keys[f.Name] = append(keys[f.Name], prefix+tag)
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct {
			envKeys(ft, prefix+f.Tag.Get("envPrefix"), keys)
		}
	}
	return keys
}

// keyFor returns the variable behind a field that failed to parse: the one
// of its candidate keys that is set (a value that is not set cannot fail).
func keyFor(candidates []string, environ map[string]string) string {
	for _, k := range candidates {
		if _, ok := environ[k]; ok {
			return k
		}
	}
	if len(candidates) > 0 {
		return candidates[0]
	}
	return "(unknown variable)"
}
