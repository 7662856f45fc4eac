package logging_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/netlab/netlab/services/platform/logging"
)

// jsonLines decodes every line of out as a JSON object.
func jsonLines(t *testing.T, out []byte) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	return lines
}

func TestNew_WritesJSONWithRootFields(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log, err := logging.New(logging.Options{
		Level: "info", Format: "json", Service: "tcp-echo", Version: "v1.2.3", Output: &buf,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	log.Info("hello", zap.String("remote", "10.0.0.1:5000"))
	log.With(zap.Int("conn_id", 7)).Warn("child")

	lines := jsonLines(t, buf.Bytes())
	if len(lines) != 2 {
		t.Fatalf("got %d log lines, want 2:\n%s", len(lines), buf.String())
	}
	first := lines[0]
	for key, want := range map[string]any{
		"level": "info", "msg": "hello", "service": "tcp-echo", "version": "v1.2.3", "remote": "10.0.0.1:5000",
	} {
		if first[key] != want {
			t.Errorf("line 1 %s = %v, want %v", key, first[key], want)
		}
	}
	ts, ok := first["ts"].(string)
	if !ok {
		t.Fatalf("ts = %v (%T), want an ISO 8601 string", first["ts"], first["ts"])
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000Z0700", ts); err != nil {
		t.Errorf("ts %q is not ISO 8601: %v", ts, err)
	}
	second := lines[1]
	for key, want := range map[string]any{
		"level": "warn", "msg": "child", "service": "tcp-echo", "version": "v1.2.3", "conn_id": float64(7),
	} {
		if second[key] != want {
			t.Errorf("line 2 %s = %v, want %v", key, second[key], want)
		}
	}
}

func TestNew_FiltersByLevel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		level string
		want  []string // messages that appear, in order
	}{
		{"debug", []string{"debug", "info", "warn", "error"}},
		{"info", []string{"info", "warn", "error"}},
		{"warn", []string{"warn", "error"}},
		{"error", []string{"error"}},
	}
	for _, tt := range tests {
		t.Run(tt.level, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			log, err := logging.New(logging.Options{Level: tt.level, Format: "json", Service: "s", Version: "v", Output: &buf})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			log.Debug("debug")
			log.Info("info")
			log.Warn("warn")
			log.Error("error")

			var got []string
			for _, line := range jsonLines(t, buf.Bytes()) {
				got = append(got, line["msg"].(string))
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("level %s logged %v, want %v", tt.level, got, tt.want)
			}
		})
	}
}

func TestNew_ConsoleFormat(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log, err := logging.New(logging.Options{Level: "debug", Format: "console", Service: "peer", Version: "dev", Output: &buf})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	log.Info("listening", zap.String("addr", ":8001"))

	line := strings.TrimSpace(buf.String())
	if strings.HasPrefix(line, "{") {
		t.Fatalf("console line looks like JSON: %q", line)
	}
	for _, want := range []string{"\tINFO\t", "listening", `"service": "peer"`, `"version": "dev"`, `"addr": ":8001"`} {
		if !strings.Contains(line, want) {
			t.Errorf("console line %q does not contain %q", line, want)
		}
	}
}

func TestNew_AutoFormatWithoutTerminalIsJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		format string
		toFile bool // a regular *os.File, which is not a terminal
	}{
		{name: "auto to buffer", format: "auto"},
		{name: "empty to buffer", format: ""},
		{name: "auto to regular file", format: "auto", toFile: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var (
				buf  bytes.Buffer
				file *os.File
			)
			opts := logging.Options{Level: "info", Format: tt.format, Service: "s", Version: "v", Output: &buf}
			if tt.toFile {
				var err error
				file, err = os.Create(filepath.Join(t.TempDir(), "log"))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = file.Close() })
				opts.Output = file
			}
			log, err := logging.New(opts)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			log.Info("auto")
			out := buf.Bytes()
			if tt.toFile {
				if out, err = os.ReadFile(file.Name()); err != nil {
					t.Fatal(err)
				}
			}
			lines := jsonLines(t, out)
			if len(lines) != 1 || lines[0]["msg"] != "auto" {
				t.Errorf("got %v, want one JSON line with msg auto", lines)
			}
		})
	}
}

func TestNew_RejectsBadOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    logging.Options
		wantErr string
	}{
		{"unknown level", logging.Options{Level: "verbose", Format: "json"}, "log level"},
		{"unknown format", logging.Options{Level: "info", Format: "xml"}, `log format "xml"`},
		{"upper-case format", logging.Options{Level: "info", Format: "JSON"}, `log format "JSON"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.opts.Output = &bytes.Buffer{}
			log, err := logging.New(tt.opts)
			if err == nil {
				t.Fatalf("New(%+v) = %v, nil; want an error", tt.opts, log)
			}
			if log != nil {
				t.Errorf("New returned a logger with an error")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
		})
	}
}
