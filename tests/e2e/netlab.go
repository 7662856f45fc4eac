package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"
)

// netlabBuildTimeout bounds compiling the lab's command (cold: the plot
// libraries take a while on two cores).
const netlabBuildTimeout = 5 * time.Minute

// NetlabBinary builds the lab's netlab command from this checkout into a
// directory of t's and returns its path: the tests run it as a user would,
// as a program (go build's cache makes a second build a link).
func NetlabBinary(t testing.TB) string {
	t.Helper()
	SkipShort(t)
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "netlab")
	ctx, cancel := context.WithTimeout(t.Context(), netlabBuildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./lab/cmd/netlab")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./lab/cmd/netlab: %v\n%s", err, out)
	}
	return bin
}

// ContainerEvents are the Docker events of the compose project's
// containers from since to until (both in the past), in the order the
// daemon reports them.
func ContainerEvents(t testing.TB, project string, since, until time.Time) []events.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	stamp := func(tm time.Time) string { return fmt.Sprintf("%d.%09d", tm.Unix(), tm.Nanosecond()) }
	res := Docker(t).Events(ctx, client.EventsListOptions{
		Since: stamp(since), Until: stamp(until),
		Filters: make(client.Filters).Add("type", "container").Add("label", "com.docker.compose.project="+project),
	})
	var out []events.Message
	for {
		select {
		case m := <-res.Messages:
			out = append(out, m)
		case err := <-res.Err:
			if err != nil && !errors.Is(err, io.EOF) {
				t.Fatalf("docker events: %v", err)
			}
			return slices.Clone(out)
		}
	}
}

// EventTime is when the daemon says a Docker event happened.
func EventTime(m events.Message) time.Time { return time.Unix(0, m.TimeNano) }
