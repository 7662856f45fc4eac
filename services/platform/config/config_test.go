package config_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/services/platform/config"
	"github.com/netlab/netlab/services/platform/config/configtest"
)

// testConfig is a service-like configuration: the shared keys plus a few of
// its own, validated the way a service does it.
type testConfig struct {
	config.Shared

	ListenAddr  string        `env:"LISTEN_ADDR" envDefault:":8000"`
	MaxConns    int           `env:"MAX_CONNS" envDefault:"100"`
	IdleTimeout time.Duration `env:"IDLE_TIMEOUT" envDefault:"5m"`
	Verbose     bool          `env:"VERBOSE" envDefault:"false"`
	QueueSize   uint          `env:"QUEUE_SIZE" envDefault:"8"`
	LossRate    float64       `env:"LOSS_RATE" envDefault:"0"`
}

func (c testConfig) Validate() error {
	return errors.Join(
		c.Shared.Validate(),
		config.ListenAddr("LISTEN_ADDR", c.ListenAddr),
		config.Positive("MAX_CONNS", c.MaxConns),
		config.InRange("IDLE_TIMEOUT", c.IdleTimeout, time.Second, time.Hour),
	)
}

// requiredConfig has keys without defaults.
type requiredConfig struct {
	Token string `env:"TOKEN,required"`
	Name  string `env:"NAME,notEmpty"`
}

// nestedConfig groups keys in a named (not embedded) struct field.
type nestedConfig struct {
	Limits struct {
		MaxBody int `env:"MAX_BODY" envDefault:"1024"`
	}
}

// sharedOnly embeds Shared and nothing else, so it gets Shared's Validate.
type sharedOnly struct {
	config.Shared
}

// An empty environment gives every default; set variables replace them and
// unrelated ones are ignored.
func TestLoad_ReadsEnvironOverDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		environ map[string]string
		want    testConfig
	}{
		{
			name:    "defaults",
			environ: map[string]string{},
			want: testConfig{
				Shared:      configtest.SharedDefaults(),
				ListenAddr:  ":8000",
				MaxConns:    100,
				IdleTimeout: 5 * time.Minute,
				Verbose:     false,
				QueueSize:   8,
				LossRate:    0,
			},
		},
		{
			name: "every key set",
			environ: map[string]string{
				"ADMIN_ADDR":       "127.0.0.1:9191",
				"LOG_LEVEL":        "debug",
				"LOG_FORMAT":       "console",
				"SHUTDOWN_TIMEOUT": "3s",
				"LISTEN_ADDR":      "0.0.0.0:65432",
				"MAX_CONNS":        "7",
				"IDLE_TIMEOUT":     "90s",
				"VERBOSE":          "true",
				"QUEUE_SIZE":       "16",
				"LOSS_RATE":        "0.25",
				"UNRELATED":        "ignored",
			},
			want: testConfig{
				Shared: config.Shared{
					AdminAddr:       "127.0.0.1:9191",
					LogLevel:        "debug",
					LogFormat:       "console",
					ShutdownTimeout: 3 * time.Second,
				},
				ListenAddr:  "0.0.0.0:65432",
				MaxConns:    7,
				IdleTimeout: 90 * time.Second,
				Verbose:     true,
				QueueSize:   16,
				LossRate:    0.25,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			configtest.Loads(t, config.LoadAs[testConfig], tt.environ, tt.want)
		})
	}
}

// Not parallel: t.Setenv changes the process environment.
func TestLoad_NilEnvironReadsProcessEnvironment(t *testing.T) {
	t.Setenv("ADMIN_ADDR", ":9191")
	t.Setenv("LOG_LEVEL", "warn")
	t.Setenv("LOG_FORMAT", "json")
	t.Setenv("SHUTDOWN_TIMEOUT", "1s")
	t.Setenv("LISTEN_ADDR", ":8001")
	t.Setenv("MAX_CONNS", "42")
	t.Setenv("IDLE_TIMEOUT", "2s")
	t.Setenv("VERBOSE", "true")
	t.Setenv("QUEUE_SIZE", "1")
	t.Setenv("LOSS_RATE", "0.5")

	var c testConfig
	if err := config.Load(&c, nil); err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.MaxConns != 42 || c.LogLevel != "warn" || c.AdminAddr != ":9191" || !c.Verbose {
		t.Errorf("Load(nil) = %+v, want values from the process environment", c)
	}
}

func TestLoad_BadValueNamesTheVariable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		key     string
		value   string
		wantMsg string
	}{
		{"integer", "MAX_CONNS", "abc", `MAX_CONNS="abc": not a valid integer`},
		{"duration", "IDLE_TIMEOUT", "5 minutes", `IDLE_TIMEOUT="5 minutes": not a valid duration (e.g. 500ms, 10s, 5m)`},
		{"duration without unit", "IDLE_TIMEOUT", "30", `IDLE_TIMEOUT="30": not a valid duration (e.g. 500ms, 10s, 5m)`},
		{"bool", "VERBOSE", "yes please", `VERBOSE="yes please": not a valid boolean (true or false)`},
		{"unsigned", "QUEUE_SIZE", "-1", `QUEUE_SIZE="-1": not a valid non-negative integer`},
		{"float", "LOSS_RATE", "half", `LOSS_RATE="half": not a valid number`},
		{"shared duration", "SHUTDOWN_TIMEOUT", "soon", `SHUTDOWN_TIMEOUT="soon": not a valid duration (e.g. 500ms, 10s, 5m)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var c testConfig
			err := config.Load(&c, map[string]string{tt.key: tt.value})
			if err == nil {
				t.Fatalf("Load(%s=%q) = nil, want an error", tt.key, tt.value)
			}
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("Load error %q (%T) is not a *config.Error", err, err)
			}
			if ce.Var != tt.key || ce.Value != tt.value {
				t.Errorf("Error{Var: %q, Value: %q}, want {Var: %q, Value: %q}", ce.Var, ce.Value, tt.key, tt.value)
			}
			if got := err.Error(); got != tt.wantMsg {
				t.Errorf("Error() = %q, want %q", got, tt.wantMsg)
			}
			// The Go field name must not leak into what the operator reads.
			for _, field := range []string{"MaxConns", "IdleTimeout", "Verbose", "QueueSize", "LossRate", "ShutdownTimeout"} {
				if strings.Contains(err.Error(), field) {
					t.Errorf("Error() = %q names Go field %s", err, field)
				}
			}
		})
	}
}

// color refuses a value in its own words, with an *Error that names no
// variable.
type color string

func (c *color) UnmarshalText(text []byte) error {
	if s := string(text); s != "red" && s != "green" {
		return &config.Error{Reason: "must be red or green"}
	}
	*c = color(text)
	return nil
}

func TestLoad_ParseErrorInTheTypesOwnWords(t *testing.T) {
	t.Parallel()
	var c struct {
		Color color `env:"COLOR" envDefault:"red"`
	}
	err := config.Load(&c, map[string]string{"COLOR": "blue"})
	if got, want := fmt.Sprint(err), `COLOR="blue": must be red or green`; got != want {
		t.Errorf("Load(COLOR=blue) = %q, want %q", got, want)
	}
	if got := configtest.Vars(err); !slices.Equal(got, []string{"COLOR"}) {
		t.Errorf("error names %v, want [COLOR]", got)
	}
}

func TestLoad_RequiredAndNotEmpty(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		environ  map[string]string
		wantVars []string
		wantMsgs []string
	}{
		{
			name:     "both unset",
			environ:  map[string]string{},
			wantVars: []string{"NAME", "TOKEN"},
			wantMsgs: []string{"TOKEN: required but not set", "NAME: must not be empty"},
		},
		{
			name:     "name empty",
			environ:  map[string]string{"TOKEN": "t", "NAME": ""},
			wantVars: []string{"NAME"},
			wantMsgs: []string{"NAME: must not be empty"},
		},
		{
			name:     "token unset",
			environ:  map[string]string{"NAME": "n"},
			wantVars: []string{"TOKEN"},
			wantMsgs: []string{"TOKEN: required but not set"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var c requiredConfig
			err := config.Load(&c, tt.environ)
			if err == nil {
				t.Fatal("Load = nil, want an error")
			}
			if got := configtest.Vars(err); !slices.Equal(got, tt.wantVars) {
				t.Errorf("error vars = %v, want %v (err: %v)", got, tt.wantVars, err)
			}
			for _, msg := range tt.wantMsgs {
				if !strings.Contains(err.Error(), msg) {
					t.Errorf("Error() = %q, want it to contain %q", err, msg)
				}
			}
		})
	}

	t.Run("both set", func(t *testing.T) {
		t.Parallel()
		var c requiredConfig
		if err := config.Load(&c, map[string]string{"TOKEN": "t", "NAME": "n"}); err != nil {
			t.Fatalf("Load: %v", err)
		}
		if c.Token != "t" || c.Name != "n" {
			t.Errorf("Load() = %+v", c)
		}
	})
}

func TestLoad_ReportsEveryParseError(t *testing.T) {
	t.Parallel()
	var c testConfig
	err := config.Load(&c, map[string]string{
		"MAX_CONNS":        "many",
		"IDLE_TIMEOUT":     "forever",
		"VERBOSE":          "maybe",
		"SHUTDOWN_TIMEOUT": "later",
	})
	if err == nil {
		t.Fatal("Load = nil, want an error")
	}
	want := []string{"IDLE_TIMEOUT", "MAX_CONNS", "SHUTDOWN_TIMEOUT", "VERBOSE"}
	if got := configtest.Vars(err); !slices.Equal(got, want) {
		t.Errorf("error vars = %v, want %v (err: %v)", got, want, err)
	}
}

func TestLoad_RunsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		environ  map[string]string
		wantVars []string
	}{
		{"valid", map[string]string{"MAX_CONNS": "1"}, nil},
		{"zero max conns", map[string]string{"MAX_CONNS": "0"}, []string{"MAX_CONNS"}},
		{"idle timeout too short", map[string]string{"IDLE_TIMEOUT": "10ms"}, []string{"IDLE_TIMEOUT"}},
		{"bad listen addr", map[string]string{"LISTEN_ADDR": "8000"}, []string{"LISTEN_ADDR"}},
		{"bad shared key", map[string]string{"LOG_LEVEL": "loud"}, []string{"LOG_LEVEL"}},
		{
			name: "every problem at once",
			environ: map[string]string{
				"ADMIN_ADDR":       "admin",
				"LOG_LEVEL":        "trace",
				"LOG_FORMAT":       "xml",
				"SHUTDOWN_TIMEOUT": "-1s",
				"LISTEN_ADDR":      ":70000",
				"MAX_CONNS":        "-5",
				"IDLE_TIMEOUT":     "2h",
			},
			wantVars: []string{
				"ADMIN_ADDR", "IDLE_TIMEOUT", "LISTEN_ADDR", "LOG_FORMAT",
				"LOG_LEVEL", "MAX_CONNS", "SHUTDOWN_TIMEOUT",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var c testConfig
			err := config.Load(&c, tt.environ)
			if tt.wantVars == nil {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Load = nil, want a validation error")
			}
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("errors.As(%v, *config.Error) = false", err)
			}
			if got := configtest.Vars(err); !slices.Equal(got, tt.wantVars) {
				t.Errorf("error vars = %v, want %v (err: %v)", got, tt.wantVars, err)
			}
		})
	}
}

func TestLoad_ParseErrorSkipsValidate(t *testing.T) {
	t.Parallel()
	var c testConfig
	// LOG_LEVEL is bad too, but Validate only runs once parsing succeeded.
	err := config.Load(&c, map[string]string{"MAX_CONNS": "x", "LOG_LEVEL": "loud"})
	if got, want := configtest.Vars(err), []string{"MAX_CONNS"}; !slices.Equal(got, want) {
		t.Errorf("error vars = %v, want %v (err: %v)", got, want, err)
	}
}

func TestLoad_EmbeddedSharedIsValidated(t *testing.T) {
	t.Parallel()
	var c sharedOnly
	err := config.Load(&c, map[string]string{"LOG_FORMAT": "xml"})
	var ce *config.Error
	if !errors.As(err, &ce) || ce.Var != "LOG_FORMAT" {
		t.Fatalf("Load = %v, want a *config.Error for LOG_FORMAT", err)
	}
}

func TestLoad_NestedStructNamesTheVariable(t *testing.T) {
	t.Parallel()
	var c nestedConfig
	if err := config.Load(&c, map[string]string{}); err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Limits.MaxBody != 1024 {
		t.Errorf("Limits.MaxBody = %d, want the default 1024", c.Limits.MaxBody)
	}
	err := config.Load(&c, map[string]string{"MAX_BODY": "big"})
	var ce *config.Error
	if !errors.As(err, &ce) {
		t.Fatalf("Load = %v, want a *config.Error", err)
	}
	if ce.Var != "MAX_BODY" || ce.Value != "big" {
		t.Errorf("Error{Var: %q, Value: %q}, want MAX_BODY=big", ce.Var, ce.Value)
	}
}

func TestLoad_NotAStructPointer(t *testing.T) {
	t.Parallel()
	err := config.Load(testConfig{}, map[string]string{})
	if err == nil {
		t.Fatal("Load(non-pointer) = nil, want an error")
	}
	if !strings.HasPrefix(err.Error(), "config: ") {
		t.Errorf("Error() = %q, want the prefix %q", err, "config: ")
	}
}

func TestError_Error(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  config.Error
		want string
	}{
		{"with value", config.Error{Var: "MAX_CONNS", Value: "abc", Reason: "not a valid integer"}, `MAX_CONNS="abc": not a valid integer`},
		{"without value", config.Error{Var: "TOKEN", Reason: "required but not set"}, "TOKEN: required but not set"},
		{"value is quoted", config.Error{Var: "X", Value: `a "b"`, Reason: "bad"}, `X="a \"b\"": bad`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoad_PrefixedNestedStructNamesTheVariable(t *testing.T) {
	type sub struct {
		Port int `env:"PORT"`
	}
	type cfg struct {
		Port int `env:"MAIN_PORT"`
		Sub  sub `envPrefix:"SUB_"`
	}
	var c cfg
	err := config.Load(&c, map[string]string{"SUB_PORT": "x"})
	if err == nil || !strings.Contains(err.Error(), `SUB_PORT="x"`) {
		t.Fatalf("error %v: want it to name SUB_PORT", err)
	}
}
