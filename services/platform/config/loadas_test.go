package config_test

import (
	"slices"
	"testing"

	"github.com/netlab/netlab/services/platform/config"
	"github.com/netlab/netlab/services/platform/config/configtest"
)

type portConfig struct {
	Port int `env:"PORT" envDefault:"80"`
}

func (c portConfig) Validate() error { return config.InRange("PORT", c.Port, 1, 65535) }

// LoadAs returns what Load fills in, validated, and Load's errors.
func TestLoadAs(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		environ  map[string]string
		want     int
		wantVars []string
	}{
		{map[string]string{}, 80, nil},
		{map[string]string{"PORT": "8080"}, 8080, nil},
		{map[string]string{"PORT": "x"}, 0, []string{"PORT"}},
		{map[string]string{"PORT": "0"}, 0, []string{"PORT"}},
	} {
		c, err := config.LoadAs[portConfig](tt.environ)
		if got := configtest.Vars(err); !slices.Equal(got, tt.wantVars) {
			t.Errorf("LoadAs(%v): error variables %v, want %v (err: %v)", tt.environ, got, tt.wantVars, err)
		}
		if err == nil && c.Port != tt.want {
			t.Errorf("LoadAs(%v).Port = %d, want %d", tt.environ, c.Port, tt.want)
		}
	}
}
