package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ByteSize is a number of bytes read from the environment as a plain
// integer or with a unit: 1048576, 512KiB, 4MiB, 10MB, 1GiB, 1.5GB.
// Binary units (KiB, MiB, GiB, TiB) are powers of 1024; decimal ones (kB,
// KB, MB, GB, TB) powers of 1000; B is bytes.
type ByteSize int64

var byteUnits = []struct {
	suffix string
	factor float64
}{
	// Longest suffixes first, so "MiB" is not read as "B".
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"B", 1},
}

// UnmarshalText parses a size for env/v11.
func (b *ByteSize) UnmarshalText(text []byte) error {
	v, err := ParseByteSize(string(text))
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// ParseByteSize parses the forms ByteSize accepts.
func ParseByteSize(s string) (ByteSize, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("negative size %q", s)
		}
		return ByteSize(n), nil
	}
	for _, u := range byteUnits {
		num, ok := strings.CutSuffix(s, u.suffix)
		if !ok {
			continue
		}
		num = strings.TrimSpace(num)
		// Whole numbers exactly: through a float64, "9223372036854775807B"
		// (what String gives for the largest size) would round up and overflow.
		if n, err := strconv.ParseInt(num, 10, 64); err == nil && n >= 0 {
			if n > math.MaxInt64/int64(u.factor) {
				return 0, fmt.Errorf("size too large: %q", s)
			}
			return ByteSize(n * int64(u.factor)), nil
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
			return 0, fmt.Errorf("not a size: %q", s)
		}
		v := f * u.factor
		if v >= math.MaxInt64 {
			return 0, fmt.Errorf("size too large: %q", s)
		}
		return ByteSize(v), nil
	}
	return 0, fmt.Errorf("not a size: %q", s)
}

// String formats the size with the largest binary unit that divides it.
func (b ByteSize) String() string {
	for _, u := range []struct {
		suffix string
		factor int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if b != 0 && int64(b)%u.factor == 0 {
			return strconv.FormatInt(int64(b)/u.factor, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(b), 10) + "B"
}

// ValueKind names the type in configuration errors.
func (ByteSize) ValueKind() string { return "size (e.g. 1048576, 512KiB, 10MB, 1GiB)" }
