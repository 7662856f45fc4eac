package config_test

import (
	"testing"

	"github.com/netlab/netlab/services/http-hello/internal/config"
	"github.com/netlab/netlab/services/platform/config/configtest"
)

// FuzzLoad: whatever the environment holds, Load returns errors that each
// name one of the server's variables, and never panics.
func FuzzLoad(f *testing.F) { configtest.FuzzLoad(f, config.Load) }
