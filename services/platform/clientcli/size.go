package clientcli

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// sizeUnit returns the multiplier of a lower-cased unit: SI units are
// powers of 1000, IEC units and single letters (as in dd and docker) powers
// of 1024.
func sizeUnit(u string) (int64, bool) {
	switch u {
	case "", "b":
		return 1, true
	case "k", "kib":
		return 1 << 10, true
	case "m", "mib":
		return 1 << 20, true
	case "g", "gib":
		return 1 << 30, true
	case "t", "tib":
		return 1 << 40, true
	case "kb":
		return 1e3, true
	case "mb":
		return 1e6, true
	case "gb":
		return 1e9, true
	case "tb":
		return 1e12, true
	}
	return 0, false
}

// ParseSize parses a byte count: a whole number with an optional unit,
// case-insensitive, optionally separated by a space: 1048576, 64KiB, 1MiB,
// 1GiB, 10MB, 512k. KB/MB/GB/TB are powers of 1000; KiB/MiB/GiB/TiB and
// K/M/G/T powers of 1024. It does not check limits; zero is allowed.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("invalid size %q: want a whole number with an optional unit (B, KB, MB, GB, KiB, MiB, GiB)", s)
	}
	mult, ok := sizeUnit(strings.ToLower(strings.TrimSpace(t[i:])))
	if !ok {
		return 0, fmt.Errorf("invalid size %q: unknown unit %q (want B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)", s, strings.TrimSpace(t[i:]))
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("invalid size %q: too large", s)
	}
	return n * mult, nil
}
