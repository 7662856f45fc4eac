// Package tests_test holds netlab's black-box end-to-end tests. They build the
// service images from deploy/Dockerfile with the Docker API, bring up the real
// docker-compose.yml with testcontainers-go's compose module and talk to the
// services over the network only: no service code is imported.
//
// Run with TESTCONTAINERS_RYUK_DISABLED=true and
// TESTCONTAINERS_HOST_OVERRIDE=localhost (the Makefile sets both); -short
// skips every test here.
package tests_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

const (
	// imageTag is the tag every image built by the e2e suite carries; the
	// compose stack picks it up through NETLAB_TAG.
	imageTag = "e2e"
	// tcpEchoImage is the tcp-echo image the suite builds and runs.
	tcpEchoImage = "netlab/tcp-echo:" + imageTag
	// udpResponderImage is the udp-responder image: the server and, as
	// /udp-client, its client.
	udpResponderImage = "netlab/udp-responder:" + imageTag
	// httpHelloImage is the http-hello image: the server and, as
	// /http-client, its client.
	httpHelloImage = "netlab/http-hello:" + imageTag
	// peerImage is the peer image: the node and, as /peerctl, its CLI.
	peerImage = "netlab/peer:" + imageTag
	// defaultGoImage is the builder image `make builder-image` creates.
	defaultGoImage = "netlab/go-builder:1.26.8"
	// projectLabel marks every image and container of the project.
	projectLabel = "org.netlab.project"
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	// Stacks shared between tests are torn down here, after the last test
	// that uses them; per-test stacks clean up through t.Cleanup.
	if err := teardownSharedStacks(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: tear down shared stacks: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// skipShort skips e2e tests under -short.
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("e2e: skipped with -short")
	}
}

// repoRoot is the repository root: the build context and the directory that
// holds docker-compose.yml. `go test` runs in the package directory (tests/).
func repoRoot() (string, error) {
	root, err := filepath.Abs("..")
	if err != nil {
		return "", fmt.Errorf("repo root: %w", err)
	}
	for _, f := range []string{"deploy/Dockerfile", "docker-compose.yml"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			return "", fmt.Errorf("repo root %s: %w", root, err)
		}
	}
	return root, nil
}

// dockerClient is the Docker API client the tests use for what testcontainers
// does not wrap (kill with a signal, top, demultiplexed logs).
var dockerClient = sync.OnceValues(func() (*testcontainers.DockerClient, error) {
	cli, err := testcontainers.NewDockerClientWithOpts(context.Background())
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	return cli, nil
})

// requireDocker returns the shared Docker client or fails the test.
func requireDocker(t *testing.T) *testcontainers.DockerClient {
	t.Helper()
	cli, err := dockerClient()
	if err != nil {
		t.Fatal(err)
	}
	return cli
}

// serviceImages maps every service the suite builds (its stage in
// deploy/Dockerfile has the same name) to the image it is tagged as.
var serviceImages = []struct{ service, image string }{
	{"tcp-echo", tcpEchoImage},
	{"udp-responder", udpResponderImage},
	{"http-hello", httpHelloImage},
	{"peer", peerImage},
}

// imageBuild is the result of building the suite's images once per process.
var imageBuild = sync.OnceValue(func() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	return buildImages(ctx)
})

// requireImages builds the images on first use (later calls reuse the result)
// and fails the test if they could not be built.
func requireImages(t *testing.T) {
	t.Helper()
	skipShort(t)
	start := time.Now()
	if err := imageBuild(); err != nil {
		t.Fatalf("build images: %v", err)
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Logf("built the service images in %s", d.Round(100*time.Millisecond))
	}
}

// buildImages builds every image in serviceImages from deploy/Dockerfile
// with the classic builder, one after the other (they share the builder
// image and platform layers). Images are kept: the next run rebuilds from the
// layer cache in seconds, and `make clean` removes them.
func buildImages(ctx context.Context) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	goImage := os.Getenv("GO_IMAGE")
	if goImage == "" {
		goImage = defaultGoImage
	}
	cli, err := dockerClient()
	if err != nil {
		return err
	}
	if _, err := cli.ImageInspect(ctx, goImage); err != nil {
		return fmt.Errorf("builder image %s: %w (nothing can be pulled here: run `make builder-image` or set GO_IMAGE to a local Go image)", goImage, err)
	}

	provider, err := testcontainers.NewDockerProvider()
	if err != nil {
		return fmt.Errorf("docker provider: %w", err)
	}
	defer provider.Close()

	for _, si := range serviceImages {
		if err := buildImage(ctx, provider, cli, root, goImage, si.service, si.image); err != nil {
			return err
		}
	}
	return nil
}

// buildImage builds image from the stage named service in deploy/Dockerfile and
// checks it carries the project label.
func buildImage(ctx context.Context, provider *testcontainers.DockerProvider, cli *testcontainers.DockerClient, root, goImage, service, image string) error {
	var buildLog bytes.Buffer
	repo, tag, _ := strings.Cut(image, ":")
	req := &testcontainers.ContainerRequest{
		FromDockerfile: testcontainers.FromDockerfile{
			Context:    root,
			Dockerfile: "deploy/Dockerfile",
			Repo:       repo,
			Tag:        tag,
			BuildArgs: map[string]*string{
				"GO_IMAGE": new(goImage),
				"VERSION":  new(imageTag),
			},
			BuildLogWriter: &buildLog,
			KeepImage:      true,
			BuildOptionsModifier: func(o *client.ImageBuildOptions) {
				// Classic builder: there is no buildx/BuildKit here.
				o.Version = build.BuilderV1
				// One stage per service in deploy/Dockerfile, named after it.
				o.Target = service
				// No intermediate containers left behind, even when a step fails.
				o.Remove, o.ForceRemove = true, true
				o.Labels = map[string]string{projectLabel: "netlab"}
			},
		},
	}
	if _, err := provider.BuildImage(ctx, req); err != nil {
		return fmt.Errorf("build %s: %w\n%s", image, err, tail(buildLog.String(), 40))
	}

	img, err := cli.ImageInspect(ctx, image)
	if err != nil {
		return fmt.Errorf("inspect %s: %w", image, err)
	}
	if img.Config == nil || img.Config.Labels[projectLabel] != "netlab" {
		return errors.New(image + ": missing label " + projectLabel + "=netlab")
	}
	return nil
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
