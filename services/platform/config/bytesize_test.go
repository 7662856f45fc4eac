package config_test

import (
	"strings"
	"testing"

	"github.com/netlab/netlab/services/platform/config"
)

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want config.ByteSize
		bad  bool
	}{
		{in: "0", want: 0},
		{in: "1048576", want: 1 << 20},
		{in: "512KiB", want: 512 << 10},
		{in: "4MiB", want: 4 << 20},
		{in: "1GiB", want: 1 << 30},
		{in: "10MB", want: 10_000_000},
		{in: "1.5GB", want: 1_500_000_000},
		{in: "2kB", want: 2000},
		{in: "64B", want: 64},
		{in: " 3 MiB ", want: 3 << 20},
		{in: "", bad: true},
		{in: "-1", bad: true},
		{in: "-1MiB", bad: true},
		{in: "ten", bad: true},
		{in: "5XB", bad: true},
		{in: "9999999TiB", bad: true},
	}
	for _, tt := range tests {
		got, err := config.ParseByteSize(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseByteSize(%q) = %d, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestByteSize_String(t *testing.T) {
	for in, want := range map[config.ByteSize]string{0: "0B", 1 << 20: "1MiB", 1536: "1536B", 3 << 30: "3GiB", 1000: "1000B"} {
		if got := in.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int64(in), got, want)
		}
	}
}

func TestLoad_ByteSizeErrorNamesVariable(t *testing.T) {
	var cfg struct {
		Rate config.ByteSize `env:"UPLOAD_RATE" envDefault:"0"`
	}
	err := config.Load(&cfg, map[string]string{"UPLOAD_RATE": "fast"})
	if err == nil || !strings.Contains(err.Error(), `UPLOAD_RATE="fast": not a valid size`) {
		t.Fatalf("err = %v, want it to name UPLOAD_RATE and say it is not a valid size", err)
	}
	if err := config.Load(&cfg, map[string]string{"UPLOAD_RATE": "2MiB"}); err != nil || cfg.Rate != 2<<20 {
		t.Fatalf("UPLOAD_RATE=2MiB: %v, %d", err, cfg.Rate)
	}
}
