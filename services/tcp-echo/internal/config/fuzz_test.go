package config_test

import (
	"testing"

	"github.com/netlab/netlab/services/platform/config/configtest"
	"github.com/netlab/netlab/services/tcp-echo/internal/config"
)

// FuzzLoad: whatever the environment holds, Load returns errors that each
// name one of the server's variables, and never panics.
func FuzzLoad(f *testing.F) { configtest.FuzzLoad(f, config.Load) }
