package config_test

import (
	"testing"

	"github.com/netlab/netlab/services/platform/config/configtest"
	"github.com/netlab/netlab/services/udp-responder/internal/config"
)

// FuzzLoad: whatever the environment holds (SHUTDOWN_ALLOW's CIDR list
// included), Load returns errors that each name one of the responder's
// variables, and a configuration it accepts has networks that parse.
func FuzzLoad(f *testing.F) {
	configtest.Fuzz(f, configtest.Keys(&config.Config{}), func(environ map[string]string) error {
		c, err := config.Load(environ)
		if err == nil {
			if _, nerr := c.ShutdownNetworks(); nerr != nil {
				panic("Load accepted SHUTDOWN_ALLOW that ShutdownNetworks refuses: " + nerr.Error())
			}
		}
		return err
	})
}
