package configtest_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/config"
	"github.com/netlab/netlab/services/platform/config/configtest"
	"github.com/netlab/netlab/services/platform/tbtest"
)

func TestVars_FindsEveryConfigErrorInJoinsAndWraps(t *testing.T) {
	t.Parallel()
	err := errors.Join(
		&config.Error{Var: "B", Reason: "bad"},
		fmt.Errorf("wrapped: %w", errors.Join(&config.Error{Var: "A", Reason: "bad"}, errors.New("plain"))),
		&config.Error{Var: "A", Reason: "worse"},
	)
	if got, want := configtest.Vars(err), []string{"A", "A", "B"}; !slices.Equal(got, want) {
		t.Errorf("Vars = %v, want %v", got, want)
	}
	if got := configtest.Vars(nil); got != nil {
		t.Errorf("Vars(nil) = %v, want none", got)
	}
}

type sharedOnly struct{ config.Shared }

func loadShared(environ map[string]string) (sharedOnly, error) {
	var c sharedOnly
	err := config.Load(&c, environ)
	return c, err
}

func TestLoads(t *testing.T) {
	t.Parallel()
	empty := map[string]string{}
	// The shared keys default to what every service documents.
	if got := configtest.Loads(t, loadShared, empty, sharedOnly{configtest.SharedDefaults()}); got.AdminAddr != ":9090" {
		t.Errorf("Loads returned %+v, not what it loaded", got)
	}
	debug := configtest.SharedDefaults()
	debug.LogLevel = "debug"
	configtest.Loads(t, loadShared, map[string]string{"LOG_LEVEL": "debug"}, sharedOnly{debug})

	other := configtest.SharedDefaults()
	other.ShutdownTimeout = time.Second
	for _, tt := range []struct {
		name    string
		environ map[string]string
		want    sharedOnly
	}{
		{"a field differs", empty, sharedOnly{other}},
		{"the environment does not load", map[string]string{"LOG_LEVEL": "loud"}, sharedOnly{configtest.SharedDefaults()}},
	} {
		msgs := tbtest.Report(t, func(tb testing.TB) { configtest.Loads(tb, loadShared, tt.environ, tt.want) })
		if len(msgs) != 1 {
			t.Errorf("%s: Loads reported %q, want one failure", tt.name, msgs)
		}
	}
}

func TestRefuses(t *testing.T) {
	t.Parallel()
	configtest.Refuses(t, loadShared, []configtest.Bad{
		{Env: map[string]string{"LOG_LEVEL": "loud"}, Var: "LOG_LEVEL"},
		{Name: "parse error quotes the value", Env: map[string]string{"SHUTDOWN_TIMEOUT": "soon"}, Var: "SHUTDOWN_TIMEOUT", Msg: `SHUTDOWN_TIMEOUT="soon": not a valid duration`},
	})
}
