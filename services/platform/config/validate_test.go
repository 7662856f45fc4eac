package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/config"
)

// checkErr compares a validator's result with the *config.Error expected
// (nil: no error).
func checkErr(t *testing.T, got error, want *config.Error) {
	t.Helper()
	if want == nil {
		if got != nil {
			t.Errorf("got %v, want nil", got)
		}
		return
	}
	ce, ok := got.(*config.Error)
	if !ok {
		t.Fatalf("got %v (%T), want *config.Error", got, got)
	}
	if *ce != *want {
		t.Errorf("got %#v, want %#v", *ce, *want)
	}
}

// TestNumberValidators: Positive and InRange take ints, int64s and
// durations alike, and name the variable and value they refuse.
func TestNumberValidators(t *testing.T) {
	t.Parallel()
	const positive = "must be greater than zero"
	tests := []struct {
		name string
		run  func() error
		want *config.Error
	}{
		{"positive int one", func() error { return config.Positive("N", 1) }, nil},
		{"positive int zero", func() error { return config.Positive("N", 0) }, &config.Error{Var: "N", Value: "0", Reason: positive}},
		{"positive int negative", func() error { return config.Positive("N", -3) }, &config.Error{Var: "N", Value: "-3", Reason: positive}},
		{"positive int64 large", func() error { return config.Positive("N", int64(1)<<40) }, nil},
		{"positive int64 zero", func() error { return config.Positive("N", int64(0)) }, &config.Error{Var: "N", Value: "0", Reason: positive}},
		{"positive duration nanosecond", func() error { return config.Positive("D", time.Nanosecond) }, nil},
		{"positive duration zero", func() error { return config.Positive("D", time.Duration(0)) }, &config.Error{Var: "D", Value: "0s", Reason: positive}},
		{"positive duration negative", func() error { return config.Positive("D", -time.Second) }, &config.Error{Var: "D", Value: "-1s", Reason: positive}},
		{"in range int low bound", func() error { return config.InRange("N", 1, 1, 10) }, nil},
		{"in range int high bound", func() error { return config.InRange("N", 10, 1, 10) }, nil},
		{"in range int inside", func() error { return config.InRange("N", 5, 1, 10) }, nil},
		{"in range int below", func() error { return config.InRange("N", 0, 1, 10) }, &config.Error{Var: "N", Value: "0", Reason: "must be between 1 and 10"}},
		{"in range int above", func() error { return config.InRange("N", 11, 1, 10) }, &config.Error{Var: "N", Value: "11", Reason: "must be between 1 and 10"}},
		{"in range int64 above", func() error { return config.InRange("N", int64(1)<<33, 0, 1<<32) }, &config.Error{Var: "N", Value: "8589934592", Reason: "must be between 0 and 4294967296"}},
		{"in range duration inside", func() error { return config.InRange("D", time.Minute, time.Second, time.Hour) }, nil},
		{"in range duration below", func() error { return config.InRange("D", time.Millisecond, time.Second, time.Hour) }, &config.Error{Var: "D", Value: "1ms", Reason: "must be between 1s and 1h0m0s"}},
		{"in range duration above", func() error { return config.InRange("D", 2*time.Hour, time.Second, time.Hour) }, &config.Error{Var: "D", Value: "2h0m0s", Reason: "must be between 1s and 1h0m0s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkErr(t, tt.run(), tt.want)
		})
	}
}

func TestOneOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		value   string
		allowed []string
		want    *config.Error
	}{
		{"first", "a", []string{"a", "b"}, nil},
		{"last", "b", []string{"a", "b"}, nil},
		{"missing", "c", []string{"a", "b"}, &config.Error{Var: "K", Value: "c", Reason: "must be one of a, b"}},
		{"case sensitive", "A", []string{"a", "b"}, &config.Error{Var: "K", Value: "A", Reason: "must be one of a, b"}},
		{"empty value", "", []string{"a"}, &config.Error{Var: "K", Value: "", Reason: "must be one of a"}},
		{"nothing allowed", "a", nil, &config.Error{Var: "K", Value: "a", Reason: "must be one of "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkErr(t, config.OneOf("K", tt.value, tt.allowed...), tt.want)
		})
	}
}

// TestLength: the bounds are inclusive, and a refused value is shown cut
// to its first 40 bytes with its full length in the reason.
func TestLength(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 50)
	tests := []struct {
		name  string
		value string
		want  *config.Error
	}{
		{"shortest", "a", nil},
		{"longest", "abcd", nil},
		{"empty", "", &config.Error{Var: "G", Value: "", Reason: "must be 1 to 4 bytes, got 0"}},
		{"too long", "abcde", &config.Error{Var: "G", Value: "abcde", Reason: "must be 1 to 4 bytes, got 5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkErr(t, config.Length("G", tt.value, 1, 4), tt.want)
		})
	}
	checkErr(t, config.Length("G", long, 1, 4), &config.Error{Var: "G", Value: long[:40], Reason: "must be 1 to 4 bytes, got 50"})
}

func TestListenAddr(t *testing.T) {
	t.Parallel()
	const (
		hostPort  = "must be host:port, e.g. :8000"
		portRange = "port must be a number from 0 to 65535"
	)
	tests := []struct {
		value  string
		reason string // "" means valid
	}{
		{":8000", ""},
		{"0.0.0.0:8000", ""},
		{"127.0.0.1:0", ""},
		{"localhost:65535", ""},
		{"[::]:8000", ""},
		{"[::1]:9090", ""},
		{"", hostPort},
		{"8000", hostPort},
		{"127.0.0.1", hostPort},
		{"::1:80", hostPort},
		{":", portRange},
		{":http", portRange},
		{":-1", portRange},
		{":65536", portRange},
		{"127.0.0.1:99999", portRange},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			t.Parallel()
			var want *config.Error
			if tt.reason != "" {
				want = &config.Error{Var: "LISTEN_ADDR", Value: tt.value, Reason: tt.reason}
			}
			checkErr(t, config.ListenAddr("LISTEN_ADDR", tt.value), want)
		})
	}
}
