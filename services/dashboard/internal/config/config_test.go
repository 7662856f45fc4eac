package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/services/dashboard/dash"
	"github.com/netlab/netlab/services/dashboard/internal/config"
)

func TestLoad_Defaults(t *testing.T) {
	cfg, err := config.Load(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.Options()
	if o.Listen != ":8080" || o.Interval != time.Second || o.History != 15*time.Minute || o.MaxSeries != 8192 ||
		o.MaxBytes != 4<<20 || !strings.Contains(o.Targets, "peer=peer:9090") || o.ShutdownTimeout != 10*time.Second {
		t.Errorf("defaults: %+v", o)
	}
	if b := o.MemoryBound(); b != 8192*900*4 {
		t.Errorf("default memory bound %d, want 8192 × 900 × 4", b)
	}
	// The variables' defaults are netlab dashboard's flags' defaults too.
	o.Listen, o.Targets, o.ShutdownTimeout = "", "", 0
	if want := dash.DefaultLimits(); o != want {
		t.Errorf("defaults of the variables %+v, dash.DefaultLimits %+v", o, want)
	}
}

func TestLoad_BadValuesNameTheirVariable(t *testing.T) {
	tests := map[string]string{
		"LISTEN_ADDR":      "nope",
		"POLL_INTERVAL":    "1h",
		"MAX_SCRAPE_BYTES": "1KiB",
		"TARGETS":          "a=b",
		"MAX_CLIENTS":      "x",
	}
	for name, value := range tests {
		_, err := config.Load(map[string]string{name: value})
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: %v, want an error naming it", name, value, err)
		}
	}
}
