package clientcli_test

import (
	"math"
	"strconv"
	"testing"

	"github.com/netlab/netlab/services/platform/clientcli"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"1048576", 1 << 20, false},
		{"0", 0, false},
		{"64KiB", 64 << 10, false},
		{"1MiB", 1 << 20, false},
		{"1GiB", 1 << 30, false},
		{"1 GiB", 1 << 30, false},
		{"10MB", 10_000_000, false},
		{"10mb", 10_000_000, false},
		{"5kB", 5000, false},
		{"512k", 512 << 10, false},
		{"2G", 2 << 30, false},
		{"1TiB", 1 << 40, false},
		{"3TB", 3e12, false},
		{"100B", 100, false},
		{" 8 MiB ", 8 << 20, false},
		{"", 0, true},
		{"MiB", 0, true},
		{"-1", 0, true},
		{"1.5MiB", 0, true},
		{"12XB", 0, true},
		{"1 parsec", 0, true},
		{"1MiBs", 0, true},
		{"99999999999999999999", 0, true},
		{"9999999999TiB", 0, true},
	}
	for _, tt := range tests {
		got, err := clientcli.ParseSize(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// FuzzParseSize: a parsed size is never negative, and a number formats to
// text that parses back to it, with any unit, or is refused as too large.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"0", "1048576", "64KiB", "1 MiB", "1GiB", "10MB", "512k", "2T", "1.5MB", "-1", "KiB",
		"9223372036854775807", "9223372036854775808", "8388608T", "8796093022208G", "1e3", "0x10", " 7 kb ", "1\u00a0KiB"} {
		f.Add(s, int64(len(s)))
	}
	f.Fuzz(func(t *testing.T, s string, n int64) {
		if v, err := clientcli.ParseSize(s); err == nil && v < 0 {
			t.Fatalf("ParseSize(%q) = %d", s, v)
		}
		if n < 0 {
			return
		}
		for _, c := range []struct {
			unit string
			mult int64
		}{{"", 1}, {"b", 1}, {" KiB", 1 << 10}, {"k", 1 << 10}, {"M", 1 << 20}, {"MB", 1e6}, {"GiB", 1 << 30}, {"gb", 1e9}, {"tib", 1 << 40}, {"TB", 1e12}} {
			v, err := clientcli.ParseSize(strconv.FormatInt(n, 10) + c.unit)
			if n > math.MaxInt64/c.mult {
				if err == nil {
					t.Fatalf("ParseSize(%d%s) = %d; want an error", n, c.unit, v)
				}
				continue
			}
			if err != nil || v != n*c.mult {
				t.Fatalf("ParseSize(%d%s) = %d, %v", n, c.unit, v, err)
			}
		}
	})
}
