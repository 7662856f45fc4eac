package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"
)

// Shaper is the image stage of netlab-shaper, and shaperBuild its build
// stage; neither is a service.
const (
	Shaper      = "shaper"
	shaperBuild = "shaper-build"
)

// shaperReady finds or builds the shaper image once per process.
var shaperReady = sync.OnceValue(func() error {
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cli, err := dockerClient()
	if err != nil {
		return err
	}
	if images().reuse {
		if _, err := cli.ImageInspect(ctx, Image(Shaper)); err != nil {
			return fmt.Errorf("image %s: %w (make images builds it)", Image(Shaper), err)
		}
		return checkLabel(ctx, cli, Image(Shaper))
	}
	root, err := RepoRoot()
	if err != nil {
		return err
	}
	goImage := cmpOr(os.Getenv("GO_IMAGE"), defaultGoImage)
	provider, err := testcontainers.NewDockerProvider()
	if err != nil {
		return err
	}
	defer provider.Close()
	for _, stage := range []string{shaperBuild, Shaper} {
		if err := buildImage(ctx, provider, root, goImage, stage); err != nil {
			return err
		}
	}
	return checkLabel(ctx, cli, Image(Shaper))
})

func cmpOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// RequireShaper makes sure the service images and the shaper image are
// there (see RequireImages), and the netlab command is built.
func RequireShaper(t testing.TB) {
	t.Helper()
	RequireImages(t)
	if err := shaperReady(); err != nil {
		t.Fatalf("shaper image: %v", err)
	}
	if _, err := netlabBin(); err != nil {
		t.Fatal(err)
	}
}

// netlabBuilt is set once netlabBin has run, so RemoveNetlabBin does
// not build the command only to remove it.
var netlabBuilt atomic.Bool

// netlabBin builds lab/cmd/netlab once into a temporary directory.
var netlabBin = sync.OnceValues(func() (string, error) {
	netlabBuilt.Store(true)
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "netlab-e2e-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "netlab")
	cmd := exec.Command("go", "build", "-o", bin, "./lab/cmd/netlab")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./lab/cmd/netlab: %v\n%s", err, out)
	}
	return bin, nil
})

// RemoveNetlabBin removes the netlab command built for the tests.
func RemoveNetlabBin() error {
	if !netlabBuilt.Load() {
		return nil
	}
	bin, err := netlabBin()
	if err != nil {
		return nil
	}
	return os.RemoveAll(filepath.Dir(bin))
}

// NetlabRun is one run of the netlab command.
type NetlabRun struct {
	Code           int
	Stdout, Stderr string
}

func (r NetlabRun) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, Tail(r.Stdout, 30), Tail(r.Stderr, 30))
}

// Netlab runs the netlab command with args against the stack's project
// and the tests' shaper image.
func (s *Stack) Netlab(t testing.TB, args ...string) NetlabRun {
	t.Helper()
	bin, err := netlabBin()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	img := images()
	cmd.Env = append(os.Environ(), "COMPOSE_PROJECT_NAME="+s.Name, "NETLAB_IMAGE_PREFIX="+img.prefix, "NETLAB_TAG="+img.tag)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	run := NetlabRun{Stdout: stdout.String(), Stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		run.Code = exit.ExitCode()
	case err != nil:
		t.Fatalf("netlab %s: %v", strings.Join(args, " "), err)
	}
	return run
}

// ShaperContainers lists the shaper containers netlab left for the
// project (sidecars, running or not), by name.
func ShaperContainers(t testing.TB, project string) []string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "docker", "ps", "-a", "--filter", "label=org.netlab.shaper.project="+project, "--format", "{{.Names}}").Output()
	if err != nil {
		t.Fatalf("docker ps: %v", err)
	}
	return strings.Fields(string(out))
}

// RemoveShaperContainers removes what ShaperContainers lists; for
// t.Cleanup, before the stack goes.
func RemoveShaperContainers(project string) {
	out, _ := exec.Command("docker", "ps", "-aq", "--filter", "label=org.netlab.shaper.project="+project).Output()
	if ids := strings.Fields(string(out)); len(ids) > 0 {
		_ = exec.Command("docker", slices.Concat([]string{"rm", "-f"}, ids)...).Run()
	}
}

// ResetOnCleanup runs `netlab reset` on the stack when t ends, whatever
// happened (a shape left on a stack that other tests share would skew
// them), then removes any shaper container that is still there.
func (s *Stack) ResetOnCleanup(t testing.TB) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		bin, err := netlabBin()
		if err == nil {
			cmd := exec.CommandContext(ctx, bin, "reset")
			img := images()
			cmd.Env = append(os.Environ(), "COMPOSE_PROJECT_NAME="+s.Name, "NETLAB_IMAGE_PREFIX="+img.prefix, "NETLAB_TAG="+img.tag)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("netlab reset: %v\n%s", err, out)
			}
		}
		RemoveShaperContainers(s.Name)
	})
}
