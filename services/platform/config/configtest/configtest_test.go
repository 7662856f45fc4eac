package configtest_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/config"
	"github.com/netlab/netlab/services/platform/config/configtest"
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

// failures records what a helper reports instead of failing the test.
type failures struct {
	testing.TB
	msgs []string
}

func (f *failures) Helper() {}
func (f *failures) Errorf(format string, args ...any) {
	f.msgs = append(f.msgs, fmt.Sprintf(format, args...))
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	f := &failures{TB: t}
	if cfg := configtest.Defaults(f, loadShared); cfg.AdminAddr != ":9090" || len(f.msgs) != 0 {
		t.Errorf("Defaults = %+v, reported %q; want the defaults and no failure", cfg, f.msgs)
	}

	changed := func(environ map[string]string) (sharedOnly, error) {
		c, err := loadShared(environ)
		c.ShutdownTimeout = time.Second
		return c, err
	}
	f = &failures{TB: t}
	if configtest.Defaults(f, changed); len(f.msgs) != 1 {
		t.Errorf("Defaults with SHUTDOWN_TIMEOUT changed reported %q, want one failure", f.msgs)
	}
}

func TestRefuses(t *testing.T) {
	t.Parallel()
	configtest.Refuses(t, loadShared, []configtest.Bad{
		{Env: map[string]string{"LOG_LEVEL": "loud"}, Var: "LOG_LEVEL"},
		{Name: "parse error quotes the value", Env: map[string]string{"SHUTDOWN_TIMEOUT": "soon"}, Var: "SHUTDOWN_TIMEOUT", Msg: `SHUTDOWN_TIMEOUT="soon": not a valid duration`},
	})
}
