package shaper_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/internal/shaper"
)

func TestParse_Values(t *testing.T) {
	rates := map[string]uint64{"20mbit": 20e6, "500kbit": 500e3, "1gbit": 1e9, "2mbps": 16e6, "1000": 1000, "1.5Mbit": 1.5e6}
	for in, want := range rates {
		if got, err := shaper.ParseRate(in); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "fast", "20mbt", "-1mbit", "1e400"} {
		if _, err := shaper.ParseRate(bad); err == nil {
			t.Errorf("ParseRate(%q) accepted", bad)
		}
	}
	sizes := map[string]uint32{"32kb": 32 << 10, "1mb": 1 << 20, "1500": 1500, "64k": 64 << 10}
	for in, want := range sizes {
		if got, err := shaper.ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for in, want := range map[string]float64{"2%": 2, "0.1%": 0.1, "10": 10} {
		if got, err := shaper.ParsePercent(in); err != nil || got != want {
			t.Errorf("ParsePercent(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	ge, err := shaper.ParseGE("5%,50%")
	if err != nil || *ge != (shaper.GE{P: 5, R: 50, H1: 100, K1: 0}) {
		t.Errorf("ParseGE = %+v, %v; want p 5 r 50 1-h 100 1-k 0", ge, err)
	}
	if _, err := shaper.ParseGE("5%"); err == nil {
		t.Error("ParseGE accepted one value")
	}
	if got := shaper.FormatRate(20e6); got != "20mbit" {
		t.Errorf("FormatRate(20e6) = %q", got)
	}
}

func TestSpec_ValidateNamesTheField(t *testing.T) {
	tests := []struct {
		name  string
		spec  shaper.Spec
		field string // "" means valid
	}{
		{"a full spec", shaper.Spec{Delay: 50 * time.Millisecond, Jitter: 10 * time.Millisecond, Loss: 2, Rate: 20e6, Reorder: 5, Corrupt: 0.1}, ""},
		{"delay above 10 s", shaper.Spec{Delay: 11 * time.Second}, "delay"},
		{"negative delay", shaper.Spec{Delay: -time.Millisecond}, "delay"},
		{"jitter above the delay", shaper.Spec{Delay: time.Millisecond, Jitter: 2 * time.Millisecond}, "jitter"},
		{"loss above 100", shaper.Spec{Loss: 101}, "loss"},
		{"negative duplicate", shaper.Spec{Duplicate: -1}, "duplicate"},
		{"corrupt above 100", shaper.Spec{Corrupt: 200}, "corrupt"},
		{"reorder without delay", shaper.Spec{Reorder: 5}, "reorder"},
		{"rate too low", shaper.Spec{Rate: 100}, "rate"},
		{"rate too high", shaper.Spec{Rate: 1e12}, "rate"},
		{"burst without rate", shaper.Spec{Burst: 4000}, "burst"},
		{"burst too small", shaper.Spec{Rate: 1e6, Burst: 100}, "burst"},
		{"queue too large", shaper.Spec{Rate: 1e6, Queue: 1 << 30}, "queue"},
		{"bad direction", shaper.Spec{Loss: 1, Direction: "sideways"}, "direction"},
		{"bad device", shaper.Spec{Loss: 1, Device: "eth0/1"}, "device"},
		{"multicast peer", shaper.Spec{Loss: 1, To: netip.MustParseAddr("224.0.0.1")}, "to"},
		{"loss and loss-ge", shaper.Spec{Loss: 1, LossGE: &shaper.GE{P: 1, R: 10, H1: 100}}, "loss-ge"},
		{"loss-ge that never recovers", shaper.Spec{LossGE: &shaper.GE{P: 1, R: 0, H1: 100}}, "loss-ge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var fe *shaper.FieldError
			if !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), tt.field+":") {
				t.Fatalf("Validate() = %v, want an error naming %q", err, tt.field)
			}
		})
	}
}

func TestChoose_Mechanisms(t *testing.T) {
	netem := shaper.Caps{Netem: true}
	none := shaper.Caps{NetemWhy: "tc qdisc netem: no such file or directory"}
	full := shaper.Spec{Device: "eth0", Direction: shaper.Egress, Delay: 50 * time.Millisecond, Jitter: 10 * time.Millisecond, Loss: 2, Rate: 20e6, Reorder: 5, Corrupt: 1}
	tests := []struct {
		name    string
		spec    shaper.Spec
		caps    shaper.Caps
		want    map[string]string
		delayer bool
	}{
		{"netem carries everything but the rate", withDup(full), netem,
			map[string]string{"rate": "tbf", "delay": "netem", "loss": "netem", "reorder": "netem", "corrupt": "netem", "duplicate": "netem"}, false},
		{"without netem: tbf, numgen, the delayer", full, none,
			map[string]string{"rate": "tbf", "delay": "nfqueue delayer", "loss": "nft numgen", "reorder": "nfqueue delayer", "corrupt": "nfqueue delayer"}, true},
		{"a peer's rate is an htb class", shaper.Spec{Rate: 1e6, To: netip.MustParseAddr("10.0.0.2")}, none,
			map[string]string{"rate": "htb+u32"}, false},
		{"bursty loss needs the delayer even with netem", shaper.Spec{LossGE: &shaper.GE{P: 5, R: 50, H1: 100}}, netem,
			map[string]string{"loss": "nfqueue delayer"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := shaper.Choose(tt.spec, tt.caps)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, it := range p.Items {
				got[it.Impairment] = it.Mechanism
				if !tt.caps.Netem && it.Mechanism != "tbf" && it.Mechanism != "htb+u32" && it.Note == "" {
					t.Errorf("%s: no note says why not netem", it.Impairment)
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("items %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s by %q, want %q", k, got[k], v)
				}
			}
			if p.Delayer != tt.delayer {
				t.Errorf("delayer %v, want %v", p.Delayer, tt.delayer)
			}
		})
	}
}

func withDup(s shaper.Spec) shaper.Spec { s.Duplicate = 1; return s }

func TestChoose_DuplicateWithoutNetemSaysWhy(t *testing.T) {
	_, err := shaper.Choose(shaper.Spec{Duplicate: 1}, shaper.Caps{NetemWhy: "unknown qdisc"})
	if !errors.Is(err, shaper.ErrUnsupported) || !strings.Contains(err.Error(), "because netem unavailable: unknown qdisc") {
		t.Fatalf("err = %v, want not possible here because netem is unavailable", err)
	}
}
