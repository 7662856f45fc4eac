package bench

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/netlab/netlab/lab/internal/proc"
	"github.com/netlab/netlab/services/peer/api"
)

// transferSize is the file of the bulk transfer workload.
const transferSize = 1 << 30

// ScratchDir makes the directory the bulk workload keeps its files in:
// memory when the machine has /dev/shm, so the disk does not set the pace
// for every tool, else under parent. The caller removes it when the run
// ends: a 1 GiB file left in /dev/shm holds that much memory.
func ScratchDir(parent string) (string, error) {
	if info, err := os.Stat("/dev/shm"); err == nil && info.IsDir() {
		parent = "/dev/shm"
	}
	return os.MkdirTemp(parent, "netlab-bench-xfer-")
}

// writeRandom creates the transfer file once.
func writeRandom(path string, size int64) error {
	if info, err := os.Stat(path); err == nil && info.Size() == size {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	rng := rand.NewChaCha8([32]byte{7})
	buf := make([]byte, 1<<20)
	for left := size; left > 0; left -= int64(len(buf)) {
		_, _ = rng.Read(buf)
		if _, err := f.Write(buf[:min(int64(len(buf)), left)]); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// childCPU is the CPU a finished command used.
func childCPU(cmd *exec.Cmd) time.Duration {
	if cmd.ProcessState == nil {
		return 0
	}
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// pipeTransfer times one receiver/sender pair of commands moving the file
// over loopback TCP, and reports the CPU of each (a shell and the tool it
// runs: a waited-for child's CPU counts in its parent's).
func pipeTransfer(ctx context.Context, recvArgv func(port, out string) []string, sendArgv func(port, in string) []string, in, dir string) (Sample, error) {
	ports, err := proc.FreePorts(1)
	if err != nil {
		return Sample{}, err
	}
	port := ports[0]
	out := filepath.Join(dir, "received.bin")
	defer os.Remove(out)
	p := fmt.Sprint(port)
	ra := recvArgv(p, out)
	recv := exec.CommandContext(ctx, ra[0], ra[1:]...)
	var recvErr bytes.Buffer
	recv.Stderr = &recvErr
	if err := recv.Start(); err != nil {
		return Sample{}, err
	}
	// Not a probe connection: nc would take it as the transfer and exit.
	if err := poll(ctx, 10*time.Second, func() (bool, error) { return proc.Listening(port), nil }); err != nil {
		_ = recv.Process.Kill()
		_ = recv.Wait()
		return Sample{}, fmt.Errorf("receiver not listening: %w", err)
	}
	start := time.Now()
	sa := sendArgv(p, in)
	send := exec.CommandContext(ctx, sa[0], sa[1:]...)
	if outb, err := send.CombinedOutput(); err != nil {
		_ = recv.Process.Kill()
		_ = recv.Wait()
		return Sample{}, fmt.Errorf("send: %w: %s", err, outb)
	}
	if err := recv.Wait(); err != nil {
		return Sample{}, fmt.Errorf("receive: %w: %s", err, recvErr.String())
	}
	elapsed := time.Since(start)
	info, err := os.Stat(out)
	if err != nil || info.Size() != transferSize {
		return Sample{}, fmt.Errorf("received %v bytes, want %d", sizeOf(info), transferSize)
	}
	return transferSample(transferSize, elapsed, childCPU(send), childCPU(recv)), nil
}

func sizeOf(info os.FileInfo) int64 {
	if info == nil {
		return -1
	}
	return info.Size()
}

// PeerTransfer is one verified 1 GiB download between two peer nodes,
// beside nc and socat pipes of the same file.
func (c Config) PeerTransfer() Workload {
	w := Workload{
		Name: "peer-1gib", Unit: "MB/s", OpUnit: "MB", Reference: "nc", Subject: "netlab",
		About: "1 GiB file over loopback: two peer nodes (every piece verified, written, fsynced; netlab-secret: with PEER_SECRET, every frame sealed with AES-256-GCM) vs nc and socat pipes into a file",
		Goals: []Goal{{"nc", 0.9, Throughput}, {"socat", 1.5, Throughput}, {"nc", 1.25, BothEndsCPU}},
	}
	f := &transferFile{dir: c.ScratchDir}
	w.Targets = append(w.Targets, Target{Name: "netlab", Command: "peer", Measure: f.measure(func(ctx context.Context) (Sample, error) {
		return c.peerTransfer(ctx, f.dir, c.nativeNode)
	})}, Target{Name: "netlab-secret", Command: "peer", Measure: f.measure(func(ctx context.Context) (Sample, error) {
		return c.peerTransfer(ctx, f.dir, withSecret(c.nativeNode))
	})})
	if c.Containers != nil {
		w.Targets = append(w.Targets, Target{Name: "netlab-container", Command: "server", Measure: f.measure(func(ctx context.Context) (Sample, error) {
			return c.peerTransfer(ctx, f.dir, c.containerNode)
		})})
	}
	w.Targets = append(w.Targets,
		f.pipeTarget("nc", "make bench-tools: apt-get install netcat-openbsd",
			func(nc, port, out string) []string {
				return []string{"sh", "-c", nc + " -l 127.0.0.1 " + port + " > " + out}
			},
			func(nc, port, in string) []string {
				return []string{"sh", "-c", nc + " -N 127.0.0.1 " + port + " < " + in}
			}),
		f.pipeTarget("socat", "make bench-tools: apt-get install socat",
			func(socat, port, out string) []string {
				return []string{socat, "-u", "TCP-LISTEN:" + port + ",bind=127.0.0.1,reuseaddr", "CREATE:" + out}
			},
			func(socat, port, in string) []string {
				return []string{socat, "-u", "OPEN:" + in, "TCP:127.0.0.1:" + port}
			}))
	return w
}

// transferFile is the bulk workload's file, dir/src/bench.bin, written when
// the first target measures (a run that skips the workload writes nothing).
type transferFile struct {
	dir, path string
}

func (f *transferFile) prepare() error {
	if f.path != "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Join(f.dir, "src"), 0o755); err != nil {
		return err
	}
	f.path = filepath.Join(f.dir, "src", transferName)
	return writeRandom(f.path, transferSize)
}

// measure runs m once the file is ready.
func (f *transferFile) measure(m func(context.Context) (Sample, error)) func(context.Context) (Sample, error) {
	return func(ctx context.Context) (Sample, error) {
		if err := f.prepare(); err != nil {
			return Sample{}, err
		}
		return m(ctx)
	}
}

// pipeTarget times tool (nc, socat) moving the file into a receiving copy
// of itself: recv and send build the two command lines from the tool's
// path, the port and the file to write or read.
func (f *transferFile) pipeTarget(tool, install string, recv, send func(path, port, file string) []string) Target {
	path, ok := lookTool(tool)
	if !ok {
		return missing(tool, install)
	}
	return Target{Name: tool, Command: tool, Measure: f.measure(func(ctx context.Context) (Sample, error) {
		return pipeTransfer(ctx,
			func(port, out string) []string { return recv(path, port, out) },
			func(port, in string) []string { return send(path, port, in) },
			f.path, f.dir)
	})}
}

// nodeStarter starts a peer node sharing the directory share, and returns
// it with its admin base URL.
type nodeStarter func(ctx context.Context, name, share string, env ...string) (*Server, string, error)

// nativeNode runs bin/peer on loopback.
func (c Config) nativeNode(ctx context.Context, name, share string, env ...string) (*Server, string, error) {
	addr, err := proc.FreeAddr()
	if err != nil {
		return nil, "", err
	}
	env = append(append([]string{"SHARE_DIR=" + share}, peerBenchEnv...), env...)
	p, admin, err := c.Procs.StartService(ctx, name, filepath.Join(c.Bin, "peer"), addr, env...)
	if err != nil {
		return nil, "", err
	}
	return procServer(p, addr), admin, nil
}

// withSecret starts the nodes of a swarm with a secret: a CPace
// handshake, then every frame sealed.
func withSecret(node nodeStarter) nodeStarter {
	return func(ctx context.Context, name, share string, env ...string) (*Server, string, error) {
		return node(ctx, name, share, append(env, "PEER_SECRET=netlab-bench-secret")...)
	}
}

// containerNode runs the peer image with share mounted as /share; the
// image's user must own it.
func (c Config) containerNode(ctx context.Context, name, share string, env ...string) (*Server, string, error) {
	if err := os.Chown(share, containerUID, containerUID); err != nil {
		return nil, "", fmt.Errorf("%s: the container's user must own %s: %w", name, share, err)
	}
	return c.Containers.Start(ctx, "peer", "8001", append(peerBenchEnv, env...), share+":/share")
}

// containerUID is the numeric user the images run as.
const containerUID = 65532

// peerBenchEnv makes nodes see files and each other at once.
var peerBenchEnv = []string{"LOG_LEVEL=warn", "REFRESH_INTERVAL=200ms", "SCAN_INTERVAL=200ms", "SCAN_SETTLE=0s"}

// peerTransfer starts a source node sharing dir/src and a fresh
// destination node, and times the destination's download of the file.
func (c Config) peerTransfer(ctx context.Context, dir string, node nodeStarter) (Sample, error) {
	src, srcAdmin, err := node(ctx, "peer source", filepath.Join(dir, "src"))
	if err != nil {
		return Sample{}, err
	}
	defer src.Stop()
	id, err := catalogID(ctx, srcAdmin)
	if err != nil {
		return Sample{}, fmt.Errorf("source catalog: %w", err)
	}
	dstDir := filepath.Join(dir, "dst")
	_ = os.RemoveAll(dstDir)
	if err := os.MkdirAll(dstDir, 0o755); err != nil {
		return Sample{}, err
	}
	defer os.RemoveAll(dstDir)
	dst, dstAdmin, err := node(ctx, "peer destination", dstDir, "PEERS="+src.Addr)
	if err != nil {
		return Sample{}, err
	}
	defer dst.Stop()
	// Connected and seeing the file before the clock starts.
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	dstAPI := &api.Client{Base: dstAdmin}
	if _, err := dstAPI.WaitSwarm(sctx, transferName, 1, 100*time.Millisecond); err != nil {
		return Sample{}, fmt.Errorf("destination never saw the file: %w", err)
	}
	srcBefore, _ := src.CPU()
	dstBefore, _ := dst.CPU()
	start := time.Now()
	d, err := download(ctx, dstAPI, id)
	if err != nil {
		return Sample{}, err
	}
	elapsed := transferElapsed(start, d.Finished, time.Now())
	srcAfter, _ := src.CPU()
	dstAfter, _ := dst.CPU()
	return transferSample(transferSize, elapsed, srcAfter-srcBefore, dstAfter-dstBefore), nil
}

// transferElapsed is how long a download took: until the node says it
// finished, not until the next status poll saw it (up to a poll interval,
// 100 ms, later: a tenth of a 1 GiB transfer at 1 GB/s). A finish time
// outside start..polled (another clock, a node that does not set it)
// falls back to polled.
func transferElapsed(start, finished, polled time.Time) time.Duration {
	if finished.After(start) && !finished.After(polled) {
		return finished.Sub(start)
	}
	return polled.Sub(start)
}

// transferName is the file a peer transfer moves.
const transferName = "bench.bin"

// catalogID waits until the node at admin offers one file, and returns
// its id.
func catalogID(ctx context.Context, admin string) (string, error) {
	var id string
	c := &api.Client{Base: admin}
	err := poll(ctx, 2*time.Minute, func() (bool, error) {
		files, err := c.Catalog(ctx)
		if err != nil || len(files) != 1 {
			return false, nil
		}
		id = files[0].ID
		return true, nil
	})
	return id, err
}

// download asks the node to download file id and waits until it is
// complete.
func download(ctx context.Context, c *api.Client, id string) (api.Download, error) {
	d, err := c.Start(ctx, id)
	if err != nil {
		return api.Download{}, fmt.Errorf("POST %s/api/downloads: %w", c.Base, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	return c.Wait(wctx, d.ID, 100*time.Millisecond)
}
