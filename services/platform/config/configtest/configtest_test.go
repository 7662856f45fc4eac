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

func TestDefaults(t *testing.T) {
	t.Parallel()
	var cfg sharedOnly
	if msgs := tbtest.Report(t, func(tb testing.TB) { cfg = configtest.Defaults(tb, loadShared) }); cfg.AdminAddr != ":9090" || len(msgs) != 0 {
		t.Errorf("Defaults = %+v, reported %q; want the defaults and no failure", cfg, msgs)
	}

	changed := func(environ map[string]string) (sharedOnly, error) {
		c, err := loadShared(environ)
		c.ShutdownTimeout = time.Second
		return c, err
	}
	if msgs := tbtest.Report(t, func(tb testing.TB) { configtest.Defaults(tb, changed) }); len(msgs) != 1 {
		t.Errorf("Defaults with SHUTDOWN_TIMEOUT changed reported %q, want one failure", msgs)
	}
}

func TestRefuses(t *testing.T) {
	t.Parallel()
	configtest.Refuses(t, loadShared, []configtest.Bad{
		{Env: map[string]string{"LOG_LEVEL": "loud"}, Var: "LOG_LEVEL"},
		{Name: "parse error quotes the value", Env: map[string]string{"SHUTDOWN_TIMEOUT": "soon"}, Var: "SHUTDOWN_TIMEOUT", Msg: `SHUTDOWN_TIMEOUT="soon": not a valid duration`},
	})
}
