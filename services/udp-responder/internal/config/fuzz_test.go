package config_test

import (
	"fmt"
	"testing"

	"github.com/netlab/netlab/services/platform/config/configtest"
	"github.com/netlab/netlab/services/udp-responder/internal/config"
)

// FuzzLoad: whatever the environment holds (SHUTDOWN_ALLOW's CIDR list
// included), Load returns errors that each name one of the responder's
// variables, and the networks of a configuration it accepts are in a
// normal form that parses back to itself.
func FuzzLoad(f *testing.F) {
	configtest.Fuzz(f, configtest.Keys(&config.Config{}), func(environ map[string]string) error {
		c, err := config.Load(environ)
		if err == nil {
			nets := c.ShutdownAllow.String()
			if again, nerr := config.ParseNetworks(nets); nerr != nil || again.String() != nets {
				panic(fmt.Sprintf("SHUTDOWN_ALLOW %q parses back as %q, %v", nets, again, nerr))
			}
		}
		return err
	})
}
