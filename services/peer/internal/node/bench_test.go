package node_test

import (
	"crypto/sha256"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

const benchFileSize = 1 << 30

// benchDir is a directory for the benchmark's files: in memory (/dev/shm)
// when the machine has it, so the figures measure the network path and
// verification rather than the disk (a loaded disk flushing 1 GiB at a few
// hundred MB/s would hide both). NETLAB_BENCH_DIR chooses another place.
func benchDir(b *testing.B) string {
	b.Helper()
	parent := os.Getenv("NETLAB_BENCH_DIR")
	if parent == "" {
		if info, err := os.Stat("/dev/shm"); err == nil && info.IsDir() {
			parent = "/dev/shm"
		}
	}
	if parent == "" {
		return b.TempDir()
	}
	dir, err := os.MkdirTemp(parent, "netlab-bench-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// benchFile writes a 1 GiB file of pseudo-random bytes into dir once per
// benchmark and returns its path.
func benchFile(b *testing.B, dir string) string {
	b.Helper()
	path := filepath.Join(dir, "bench.bin")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.NewChaCha8([32]byte{1})
	buf := make([]byte, 1<<20)
	for written := 0; written < benchFileSize; written += len(buf) {
		_, _ = rng.Read(buf)
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkTransfer_1GiB is one verified 1 GiB download between two nodes
// on loopback: every piece is hashed with SHA-256 and written at its offset,
// then the file is fsynced and moved into the share.
func BenchmarkTransfer_1GiB(b *testing.B) { benchTransfer(b, nil) }

// BenchmarkTransfer_1GiB_Secret is the same download in a swarm with a
// secret: a CPace handshake, then every frame sealed with AES-256-GCM.
func BenchmarkTransfer_1GiB_Secret(b *testing.B) {
	benchTransfer(b, map[string]string{"PEER_SECRET": "netlab-bench-secret"})
}

func benchTransfer(b *testing.B, env map[string]string) {
	with := func(more map[string]string) map[string]string {
		out := map[string]string{"PIECE_SIZE": "1MiB"}
		maps.Copy(out, env)
		maps.Copy(out, more)
		return out
	}
	src := startNode(b, benchDir(b), with(nil))
	benchFile(b, src.dir)
	b.SetBytes(benchFileSize)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		dst := startNode(b, benchDir(b), with(map[string]string{"PEERS": src.addr()}))
		id := dst.inSwarm("bench.bin")
		b.StartTimer()
		dst.download(id, 5*time.Minute)
		b.StopTimer()
		dst.stop()
		b.StartTimer()
	}
}

// BenchmarkRawCopy_1GiB is the baseline: the same file sent over one
// loopback TCP connection (sendfile) and written to a file, no framing, no
// hashing.
func BenchmarkRawCopy_1GiB(b *testing.B) {
	benchRawCopy(b, false)
}

// BenchmarkRawCopyHash_1GiB is the baseline plus SHA-256 of the received
// bytes: what verification costs at the least.
func BenchmarkRawCopyHash_1GiB(b *testing.B) {
	benchRawCopy(b, true)
}

func benchRawCopy(b *testing.B, hash bool) {
	path := benchFile(b, benchDir(b))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	b.SetBytes(benchFileSize)
	b.ResetTimer()
	for range b.N {
		sent := make(chan error, 1)
		go func() {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				sent <- err
				return
			}
			defer c.Close()
			f, err := os.Open(path)
			if err != nil {
				sent <- err
				return
			}
			defer f.Close()
			_, err = io.Copy(c, f)
			sent <- err
		}()
		c, err := ln.Accept()
		if err != nil {
			b.Fatal(err)
		}
		out, err := os.Create(filepath.Join(benchDir(b), "copy.bin"))
		if err != nil {
			b.Fatal(err)
		}
		var w io.Writer = out
		if hash {
			w = io.MultiWriter(out, sha256.New())
		}
		n, err := io.Copy(w, c)
		if err != nil || n != benchFileSize {
			b.Fatalf("copied %d bytes: %v", n, err)
		}
		if err := out.Sync(); err != nil {
			b.Fatal(err)
		}
		out.Close()
		c.Close()
		if err := <-sent; err != nil {
			b.Fatal(err)
		}
	}
}
