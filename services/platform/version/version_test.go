package version_test

import (
	"encoding/json"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/netlab/netlab/services/platform/version"
)

// stamp sets the -ldflags variables for one test and restores them after.
// Tests that call it must not run in parallel.
func stamp(t *testing.T, v, commit, date string) {
	t.Helper()
	oldV, oldC, oldD := version.Version, version.Commit, version.Date
	t.Cleanup(func() { version.Version, version.Commit, version.Date = oldV, oldC, oldD })
	version.Version, version.Commit, version.Date = v, commit, date
}

// buildSetting returns what the toolchain recorded for key, or "".
func buildSetting(key string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range bi.Settings {
		if s.Key == key {
			return s.Value
		}
	}
	return ""
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func TestGet(t *testing.T) {
	// unstamped is what Get reports with no -ldflags: the toolchain's VCS
	// settings where it recorded them; each stamped variable overrides its
	// own field only.
	unstamped := version.Info{
		Version:   "dev",
		Commit:    orDefault(buildSetting("vcs.revision"), "unknown"),
		Date:      orDefault(buildSetting("vcs.time"), "unknown"),
		GoVersion: runtime.Version(),
	}
	versionOnly, commitOnly := unstamped, unstamped
	versionOnly.Version = "v0.1.0"
	commitOnly.Commit = "deadbeef"
	tests := []struct {
		name                string
		version, commit, dt string
		want                version.Info
	}{
		{name: "unstamped", want: unstamped},
		{
			name:    "fully stamped",
			version: "v1.2.3", commit: "abc1234", dt: "2025-01-02T03:04:05Z",
			want: version.Info{Version: "v1.2.3", Commit: "abc1234", Date: "2025-01-02T03:04:05Z", GoVersion: runtime.Version()},
		},
		{name: "version only", version: "v0.1.0", want: versionOnly},
		{name: "commit only", commit: "deadbeef", want: commitOnly},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stamp(t, tt.version, tt.commit, tt.dt)
			if got := version.Get(); got != tt.want {
				t.Errorf("Get() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestGet_NeverEmpty(t *testing.T) {
	stamp(t, "", "", "")
	info := version.Get()
	for name, v := range map[string]string{
		"Version": info.Version, "Commit": info.Commit, "Date": info.Date, "GoVersion": info.GoVersion,
	} {
		if v == "" {
			t.Errorf("Get().%s is empty", name)
		}
	}
}

func TestInfo_String(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		info version.Info
		want string
	}{
		{
			name: "stamped",
			info: version.Info{Version: "v1.2.3", Commit: "abc1234", Date: "2025-01-02T03:04:05Z", GoVersion: "go1.26.8"},
			want: "v1.2.3 (commit abc1234, built 2025-01-02T03:04:05Z, go1.26.8)",
		},
		{
			name: "defaults",
			info: version.Info{Version: "dev", Commit: "unknown", Date: "unknown", GoVersion: "go1.26.8"},
			want: "dev (commit unknown, built unknown, go1.26.8)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.info.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestInfo_JSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(version.Info{Version: "v1", Commit: "c", Date: "d", GoVersion: "go1.26.8"})
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"version":"v1","commit":"c","date":"d","go_version":"go1.26.8"}`
	if string(b) != want {
		t.Errorf("json = %s, want %s", b, want)
	}
}
