package e2e

import (
	"bytes"
	"context"
	"errors"
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

// The services of docker-compose.yml, by their compose names. Each is also
// the name of its image and of its stage in deploy/Dockerfile.
const (
	TCPEcho      = "tcp-echo"
	UDPResponder = "udp-responder"
	HTTPHello    = "http-hello"
	Peer         = "peer"
	Dashboard    = "dashboard"
)

// Services are every service with an image, in build order.
var Services = []string{TCPEcho, UDPResponder, HTTPHello, Peer, Dashboard}

// buildStage is the stage of deploy/Dockerfile that compiles every binary
// the service stages copy.
const buildStage = "build"

const (
	// ProjectLabel marks every image, container and network of the project.
	ProjectLabel = "org.netlab.project"
	// builtTag is the tag of the images the tests build themselves.
	builtTag = "e2e"
	// defaultPrefix is the image repository prefix of docker-compose.yml.
	defaultPrefix = "netlab"
	// defaultGoImage is the builder image `make builder-image` creates.
	defaultGoImage = "netlab/go-builder:1.26.8"
	// buildTimeout bounds building every image.
	buildTimeout = 10 * time.Minute
)

// imageSet is where the service images come from: the ones `make images`
// built (reuse), or ones the tests build from deploy/Dockerfile.
type imageSet struct {
	prefix, tag string
	reuse       bool
}

// images reads NETLAB_IMAGE_PREFIX and NETLAB_TAG once.
var images = sync.OnceValue(func() imageSet {
	s := imageSet{prefix: os.Getenv("NETLAB_IMAGE_PREFIX"), tag: os.Getenv("NETLAB_TAG")}
	if s.prefix == "" {
		s.prefix = defaultPrefix
	}
	s.reuse = s.tag != ""
	if !s.reuse {
		s.tag = builtTag
	}
	return s
})

// Image is the image the tests run for service: <prefix>/<service>:<tag>.
func Image(service string) string {
	s := images()
	return s.prefix + "/" + service + ":" + s.tag
}

// composeImageEnv is what docker-compose.yml reads to run the same images.
func composeImageEnv() map[string]string {
	s := images()
	return map[string]string{"NETLAB_IMAGE_PREFIX": s.prefix, "NETLAB_TAG": s.tag}
}

// SkipShort skips t under -short: everything here needs Docker.
func SkipShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("e2e: skipped with -short")
	}
}

// imagesReady is the outcome of finding or building the images, once per
// process.
var imagesReady = sync.OnceValue(func() error {
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	if images().reuse {
		return findImages(ctx)
	}
	return buildImages(ctx)
})

// RequireImages makes sure every service image is there: with NETLAB_TAG set
// it only looks for them, otherwise it builds them on first use (later calls
// reuse the result). It fails t if they are not there.
func RequireImages(t testing.TB) {
	t.Helper()
	SkipShort(t)
	start := time.Now()
	if err := imagesReady(); err != nil {
		t.Fatalf("service images: %v", err)
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Logf("service images ready in %s", d.Round(100*time.Millisecond))
	}
}

// findImages checks that every image `make images` should have built is
// there and is netlab's.
func findImages(ctx context.Context) error {
	cli, err := dockerClient()
	if err != nil {
		return err
	}
	s := images()
	for _, service := range Services {
		image := Image(service)
		if _, err := cli.ImageInspect(ctx, image); err != nil {
			return fmt.Errorf("image %s: %w\nNETLAB_TAG=%s asks for the images `make images` built and never builds them: run `make images` first, or unset NETLAB_TAG to let the tests build their own",
				image, err, s.tag)
		}
		if err := checkLabel(ctx, cli, image); err != nil {
			return err
		}
	}
	return nil
}

// buildImages builds the build stage and every service's stage of
// deploy/Dockerfile with the classic builder, one after the other. Images
// are kept: the next run rebuilds from the layer cache in seconds, and `make
// clean` removes them.
func buildImages(ctx context.Context) error {
	root, err := RepoRoot()
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
	// The build stage first, tagged as `make images` tags it: it is the
	// layer cache, and untagged it would be pruned as dangling.
	for _, stage := range append([]string{buildStage}, Services...) {
		if err := buildImage(ctx, provider, root, goImage, stage); err != nil {
			return err
		}
		if err := checkLabel(ctx, cli, Image(stage)); err != nil {
			return err
		}
	}
	return nil
}

// buildImage builds the stage of deploy/Dockerfile named stage (a service,
// or the build stage) as Image(stage).
func buildImage(ctx context.Context, provider *testcontainers.DockerProvider, root, goImage, stage string) error {
	var buildLog bytes.Buffer
	image := Image(stage)
	repo, tag, _ := strings.Cut(image, ":")
	req := &testcontainers.ContainerRequest{
		FromDockerfile: testcontainers.FromDockerfile{
			Context:    root,
			Dockerfile: "deploy/Dockerfile",
			Repo:       repo,
			Tag:        tag,
			BuildArgs: map[string]*string{
				"GO_IMAGE": new(goImage),
				"VERSION":  new(builtTag),
			},
			BuildLogWriter: &buildLog,
			KeepImage:      true,
			BuildOptionsModifier: func(o *client.ImageBuildOptions) {
				o.Target = stage
				// Classic builder: there is no buildx/BuildKit here.
				o.Version = build.BuilderV1
				// No intermediate containers left behind, even when a step fails.
				o.Remove, o.ForceRemove = true, true
				o.Labels = map[string]string{ProjectLabel: "netlab"}
			},
		},
	}
	if _, err := provider.BuildImage(ctx, req); err != nil {
		return fmt.Errorf("build %s (stage %s of deploy/Dockerfile): %w\n%s", image, stage, err, Tail(buildLog.String(), 40))
	}
	return nil
}

// checkLabel fails unless image carries the project label.
func checkLabel(ctx context.Context, cli *testcontainers.DockerClient, image string) error {
	img, err := cli.ImageInspect(ctx, image)
	if err != nil {
		return fmt.Errorf("inspect %s: %w", image, err)
	}
	if img.Config == nil || img.Config.Labels[ProjectLabel] != "netlab" {
		return errors.New(image + ": missing label " + ProjectLabel + "=netlab")
	}
	return nil
}

// RepoRoot is the repository root: the build context and the directory that
// holds docker-compose.yml. `go test` runs in the test package's directory,
// tests/.
func RepoRoot() (string, error) {
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

// dockerClient is the Docker API client for what testcontainers does not
// wrap (kill with a signal, top, demultiplexed logs).
var dockerClient = sync.OnceValues(func() (*testcontainers.DockerClient, error) {
	cli, err := testcontainers.NewDockerClientWithOpts(context.Background())
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	return cli, nil
})

// Docker returns the shared Docker client or fails t.
func Docker(t testing.TB) *testcontainers.DockerClient {
	t.Helper()
	cli, err := dockerClient()
	if err != nil {
		t.Fatal(err)
	}
	return cli
}

// Tail returns the last n lines of s.
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
