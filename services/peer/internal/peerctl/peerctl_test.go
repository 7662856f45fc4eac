package peerctl_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netlab/netlab/services/peer/api"
	"github.com/netlab/netlab/services/peer/internal/node"
	"github.com/netlab/netlab/services/peer/internal/node/nodetest"
	"github.com/netlab/netlab/services/peer/internal/peerctl"
	"github.com/netlab/netlab/services/platform/clientcli/clitest"
	"github.com/netlab/netlab/services/platform/poll"
)

// testNode is a node on loopback with its JSON API on an httptest server.
type testNode struct {
	n   *node.Node
	dir string
	api string // host:port of the API, as --node takes it
}

func (tn *testNode) addr() string { return tn.n.Addr().String() }

// startNode starts a node sharing dir (a new temp dir when ""); env adds or
// overrides settings. It stops when the test ends.
func startNode(t *testing.T, dir string, env map[string]string) *testNode {
	t.Helper()
	e := map[string]string{"DIAL_TIMEOUT": "1s"}
	maps.Copy(e, env)
	n := nodetest.Start(t, dir, e)
	return &testNode{n: n.Node, dir: n.Dir, api: strings.TrimPrefix(n.API, "http://")}
}

// ctl runs peerctl with stdin and returns its exit code and output.
func ctl(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = peerctl.Main(t.Context(), args, func(string) string { return "" }, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// mustCtl runs peerctl and fails the test unless it exits 0.
func mustCtl(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := ctl(t, "", args...)
	if code != 0 {
		t.Fatalf("peerctl %q: exit %d, stderr: %s", args, code, stderr)
	}
	return stdout
}

type swarmFile struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Size    int64    `json:"size"`
	Local   bool     `json:"local"`
	Offered bool     `json:"offered"`
	Holders []string `json:"holders"`
}

// seesFile waits until tn lists name as held by another node, using
// peerctl --json ls, and returns the file.
func (tn *testNode) seesFile(t *testing.T, name string) swarmFile {
	t.Helper()
	var found swarmFile
	poll.Until(t, name+" in the swarm", 10*time.Second, func() bool {
		var files []swarmFile
		if err := json.Unmarshal([]byte(mustCtl(t, "--node", tn.api, "--json", "ls")), &files); err != nil {
			t.Fatalf("ls --json: %v", err)
		}
		for _, f := range files {
			if f.Name == name && len(f.Holders) > 0 {
				found = f
				return true
			}
		}
		return false
	})
	return found
}

// checkWords wants every one of want in got and none of reject; what
// names got in the messages.
func checkWords(t *testing.T, what, got string, want, reject []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s = %q, want it to contain %q", what, got, w)
		}
	}
	for _, w := range reject {
		if strings.Contains(got, w) {
			t.Errorf("%s = %q, want it without %q", what, got, w)
		}
	}
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func checkFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read saved copy: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: %d bytes differ from the %d bytes shared", path, len(got), len(want))
	}
}

func TestPeerctl_SendThenReceiveSavesTheFile(t *testing.T) {
	t.Parallel()
	a := startNode(t, "", nil)
	b := startNode(t, "", map[string]string{"PEERS": a.addr()})

	data := randomBytes(t, 200<<10+123) // 4 pieces of 64 KiB
	src := filepath.Join(t.TempDir(), "hello.bin")
	writeFile(t, src, data)
	code, stdout, stderr := ctl(t, "", "--node", a.api, "send", src)
	if code != 0 {
		t.Fatalf("send: exit %d, stderr: %s", code, stderr)
	}
	if !strings.Contains(stdout, "offered hello.bin") {
		t.Errorf("send output %q does not say it offered hello.bin", stdout)
	}

	out := filepath.Join(t.TempDir(), "received.bin")
	code, stdout, stderr = ctl(t, "", "--node", b.api, "receive", "--out", out, "--timeout", "10s", "--stall-timeout", "10s")
	if code != 0 {
		t.Fatalf("receive: exit %d, stderr: %s", code, stderr)
	}
	checkFile(t, out, data)
	if !strings.Contains(stderr, "receiving hello.bin") || !strings.Contains(stderr, a.addr()) {
		t.Errorf("receive stderr %q does not name the file and its holder %s", stderr, a.addr())
	}
	for _, want := range []string{"hello.bin", "complete", "saved to " + out} {
		if !strings.Contains(stdout, want) {
			t.Errorf("receive stdout %q does not contain %q", stdout, want)
		}
	}
	if _, err := os.Stat(out + ".part"); !os.IsNotExist(err) {
		t.Errorf("%s.part left behind: %v", out, err)
	}
}

func TestPeerctl_SendStdinThenReceiveToStdout(t *testing.T) {
	t.Parallel()
	a := startNode(t, "", nil)
	b := startNode(t, "", map[string]string{"PEERS": a.addr()})

	data := "hello from stdin\n"
	code, stdout, stderr := ctl(t, data, "--node", a.api, "send", "-", "--name", "x.txt")
	if code != 0 {
		t.Fatalf("send -: exit %d, stderr: %s", code, stderr)
	}
	if !strings.Contains(stdout, "offered x.txt") {
		t.Errorf("send output %q does not say it offered x.txt", stdout)
	}
	code, stdout, stderr = ctl(t, "", "--node", b.api, "receive", "--out", "-", "--timeout", "10s")
	if code != 0 {
		t.Fatalf("receive --out -: exit %d, stderr: %s", code, stderr)
	}
	if stdout != data {
		t.Errorf("stdout = %q, want exactly the file %q", stdout, data)
	}
	if _, err := os.Stat(filepath.Join(b.dir, "x.txt")); err != nil {
		t.Errorf("the file is not in the receiver's share: %v", err)
	}
}

func TestPeerctl_GetSavesACopy(t *testing.T) {
	t.Parallel()
	a := startNode(t, "", nil)
	data := randomBytes(t, 300<<10)
	writeFile(t, filepath.Join(a.dir, "data.bin"), data)
	b := startNode(t, "", map[string]string{"PEERS": a.addr()})
	f := b.seesFile(t, "data.bin")

	out := filepath.Join(t.TempDir(), "copy.bin")
	code, stdout, stderr := ctl(t, "", "--node", b.api, "get", "data.bin", "--out", out, "--progress", "--stall-timeout", "10s")
	if code != 0 {
		t.Fatalf("get: exit %d, stderr: %s", code, stderr)
	}
	checkFile(t, out, data)
	for _, want := range []string{"data.bin", "complete", shortID(f.ID), "from " + a.addr(), "saved to " + out} {
		if !strings.Contains(stdout, want) {
			t.Errorf("get stdout %q does not contain %q", stdout, want)
		}
	}
	if !strings.Contains(stderr, "100%") {
		t.Errorf("progress on stderr %q does not reach 100%%", stderr)
	}

	// Asking again, by id and as JSON: the file is already here.
	code, stdout, stderr = ctl(t, "", "--node", b.api, "--json", "get", f.ID)
	if code != 0 {
		t.Fatalf("get again: exit %d, stderr: %s", code, stderr)
	}
	var d struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		State string `json:"state"`
		Size  int64  `json:"size"`
	}
	if err := json.Unmarshal([]byte(stdout), &d); err != nil {
		t.Fatalf("--json get: %v\n%s", err, stdout)
	}
	if d.ID != f.ID || d.Name != "data.bin" || d.State != "complete" || d.Size != int64(len(data)) {
		t.Errorf("--json get = %+v, want the complete data.bin", d)
	}
}

// The progress line counts the peers pieces came from, read from the
// node's download record: two nodes hold the file, each capped so that
// neither can send it all before the other starts, and the line must say
// both, as the summary does, even once the download has ended.
func TestPeerctl_GetProgressCountsThePeersPiecesCameFrom(t *testing.T) {
	t.Parallel()
	data := randomBytes(t, 1<<20) // 16 pieces of 64 KiB
	capped := map[string]string{"UPLOAD_RATE": "256KiB"}
	a := startNode(t, "", capped)
	b := startNode(t, "", capped)
	writeFile(t, filepath.Join(a.dir, "two.bin"), data)
	writeFile(t, filepath.Join(b.dir, "two.bin"), data)
	c := startNode(t, "", map[string]string{"PEERS": a.addr() + "," + b.addr()})
	poll.Until(t, "two.bin held by both nodes", 10*time.Second, func() bool {
		return len(c.seesFile(t, "two.bin").Holders) == 2
	})

	code, stdout, stderr := ctl(t, "", "--node", c.api, "get", "two.bin", "--stall-timeout", "10s")
	if code != 0 {
		t.Fatalf("get: exit %d, stderr: %s", code, stderr)
	}
	for _, addr := range []string{a.addr(), b.addr()} {
		if !strings.Contains(stdout, "from "+addr) {
			t.Fatalf("get stdout %q does not list %s as a source; the test needs both", stdout, addr)
		}
	}
	last := lineWith(stderr, "100%")
	if last == "" {
		t.Fatalf("no progress line at 100%% in %q", stderr)
	}
	if !strings.Contains(last, "from 2 peers") {
		t.Errorf("last progress line %q does not say the pieces came from 2 peers", last)
	}
}

// A download that starts is not stalled while its peers have yet to say
// which pieces they hold: the bar, redrawn at every poll, never says so
// while the file arrives.
func TestPeerctl_GetProgressNotStalledWhilePeersAnswer(t *testing.T) {
	t.Parallel()
	a := startNode(t, "", map[string]string{"UPLOAD_RATE": "256KiB"})
	writeFile(t, filepath.Join(a.dir, "slow.bin"), randomBytes(t, 512<<10))
	b := startNode(t, "", map[string]string{"PEERS": a.addr()})
	b.seesFile(t, "slow.bin")

	code, _, stderr := ctl(t, "", "--node", b.api, "get", "slow.bin", "--progress", "--stall-timeout", "10s")
	if code != 0 {
		t.Fatalf("get: exit %d, stderr: %s", code, stderr)
	}
	for line := range strings.SplitSeq(stderr, "\r") {
		if strings.Contains(line, "stalled") {
			t.Errorf("progress %q says stalled during a download that never stopped", line)
		}
	}
}

// TestPeerctl_GetReportsIntervals downloads from a node whose uploads are
// capped, so the transfer spans several report intervals: with --json the
// interval objects come first and their bytes add up to the file, then the
// download itself.
func TestPeerctl_GetReportsIntervals(t *testing.T) {
	t.Parallel()
	a := startNode(t, "", map[string]string{"UPLOAD_RATE": "2MiB", "PIECE_SIZE": "64KiB"})
	data := randomBytes(t, 1<<20)
	writeFile(t, filepath.Join(a.dir, "slow.bin"), data)
	b := startNode(t, "", map[string]string{"PEERS": a.addr()})
	b.seesFile(t, "slow.bin")
	code, stdout, stderr := ctl(t, "", "--node", b.api, "--json", "get", "slow.bin", "--report-interval", "100ms")
	if code != 0 {
		t.Fatalf("get: exit %d, stderr: %s", code, stderr)
	}
	r := clitest.ParseReport(t, stdout)
	var d struct {
		State string `json:"state"`
	}
	if err := json.Unmarshal(r.Summary, &d); err != nil || d.State != "complete" {
		t.Fatalf("the last line is not the complete download (%v): %s", err, r.Summary)
	}
	if sum := r.Sum(); len(r.Intervals) < 3 || sum.Bytes != 1<<20 || sum.Ops != 16 {
		t.Errorf("%d intervals adding up to %d bytes and %d pieces, want at least 3 with 1048576 and 16:\n%s",
			len(r.Intervals), sum.Bytes, sum.Ops, stdout)
	}
}

// A piece size that is not a power of two, and --out into directories that
// do not exist yet: the copy is still checked against the id and saved.
func TestPeerctl_GetOddPieceSizeIntoNewDirectory(t *testing.T) {
	t.Parallel()
	a := startNode(t, "", map[string]string{"PIECE_SIZE": "100KiB"})
	data := randomBytes(t, 250<<10)
	writeFile(t, filepath.Join(a.dir, "odd.bin"), data)
	b := startNode(t, "", map[string]string{"PEERS": a.addr()})
	b.seesFile(t, "odd.bin")
	out := filepath.Join(t.TempDir(), "new", "dir", "copy.bin")
	code, _, stderr := ctl(t, "", "--node", b.api, "get", "odd.bin", "--out", out)
	if code != 0 {
		t.Fatalf("get: exit %d, stderr: %s", code, stderr)
	}
	checkFile(t, out, data)
}

func TestPeerctl_GetFailures(t *testing.T) {
	t.Parallel()
	alone := startNode(t, "", nil)
	// Its only seed refuses connections: nothing can be downloaded.
	stranded := startNode(t, "", map[string]string{"PEERS": "127.0.0.1:1"})
	unknownID := strings.Repeat("ab", 32)

	tests := []struct {
		name    string
		node    *testNode
		args    []string
		wantErr []string
	}{
		{
			"name nobody has", alone, []string{"get", "nothing.txt"},
			[]string{`peerctl: not found: no file named "nothing.txt" in the swarm`},
		},
		{
			"name outside the share", alone, []string{"get", "../../etc/passwd"},
			[]string{"invalid file name", "../../etc/passwd"},
		},
		{
			"stalled download", stranded, []string{"get", unknownID, "--stall-timeout", "1s"},
			[]string{"download of " + shortID(unknownID) + " stalled for 1s", "no connected peer has the manifest"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := ctl(t, "", append([]string{"--node", tt.node.api}, tt.args...)...)
			if code != 1 {
				t.Errorf("exit %d, want 1 (stderr: %s)", code, stderr)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr %q does not contain %q", stderr, want)
				}
			}
		})
	}
}

func TestPeerctl_ReceiveWithoutPeersTimesOut(t *testing.T) {
	t.Parallel()
	n := startNode(t, "", nil)
	start := time.Now()
	code, _, stderr := ctl(t, "", "--node", n.api, "receive", "--timeout", "1s")
	if code != 1 {
		t.Errorf("exit %d, want 1 (stderr: %s)", code, stderr)
	}
	if !strings.Contains(stderr, "no peers") {
		t.Errorf("stderr %q does not say the node has no peers", stderr)
	}
	if elapsed := time.Since(start); elapsed < time.Second {
		t.Errorf("gave up after %s, before the 1s timeout", elapsed)
	}
}

func TestPeerctl_ListsFilesPeersAndStatus(t *testing.T) {
	t.Parallel()
	a := startNode(t, "", nil)
	writeFile(t, filepath.Join(a.dir, "listed.txt"), []byte("some bytes to list\n"))
	b := startNode(t, "", map[string]string{"PEERS": a.addr()})
	quiet := startNode(t, "", map[string]string{"SERVE_PIECES": "false"})

	if out := mustCtl(t, "--node", b.api, "ls"); !strings.Contains(out, "no files in the swarm") &&
		!strings.Contains(out, "listed.txt") {
		t.Errorf("ls = %q, want no files or listed.txt", out)
	}
	f := b.seesFile(t, "listed.txt")
	poll.Until(t, a.addr()+" connected", 10*time.Second, func() bool {
		return lineWith(mustCtl(t, "--node", b.api, "peers"), a.addr(), "connected") != ""
	})

	tests := []struct {
		name string
		node *testNode
		args []string
		want [][]string // each: words that must share one line of the output
	}{
		{"ls elsewhere", b, []string{"ls"}, [][]string{
			{"ID", "NAME", "SIZE", "HOLDERS", "HERE"},
			{shortID(f.ID), "listed.txt", "19 B", "1"},
		}},
		{"ls here", a, []string{"ls"}, [][]string{{shortID(f.ID), "listed.txt", "yes"}}},
		{"peers", b, []string{"peers"}, [][]string{
			{"ADDRESS", "STATE", "VERSION", "SOURCE", "FILES"},
			{a.addr(), "connected", " 4 "},
		}},
		{"status", b, []string{"status"}, [][]string{
			{"node", "listening on " + b.addr()},
			{"files shared: 0", "connected"},
			{"protocol version 4", "uploaded 0 B in 0 pieces"},
		}},
		{"status of a node serving no pieces", quiet, []string{"status"}, [][]string{
			{"serving pieces: off"},
		}},
		{"status with files", a, []string{"status"}, [][]string{{"files shared: 1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := mustCtl(t, append([]string{"--node", tt.node.api}, tt.args...)...)
			for _, words := range tt.want {
				if lineWith(out, words...) == "" {
					t.Errorf("no line of %q has all of %q", out, words)
				}
			}
		})
	}

	t.Run("json", func(t *testing.T) {
		var files []swarmFile
		if err := json.Unmarshal([]byte(mustCtl(t, "--node", b.api, "--json", "ls")), &files); err != nil {
			t.Fatalf("--json ls is not a JSON array: %v", err)
		}
		if len(files) != 1 || files[0].Name != "listed.txt" || files[0].Size != 19 || files[0].Local {
			t.Errorf("--json ls = %+v, want listed.txt held elsewhere", files)
		}
		var peers []struct {
			Addr      string `json:"addr"`
			Connected bool   `json:"connected"`
		}
		if err := json.Unmarshal([]byte(mustCtl(t, "--node", b.api, "--json", "peers")), &peers); err != nil {
			t.Fatalf("--json peers is not a JSON array: %v", err)
		}
		var status struct {
			Node struct {
				NodeID string `json:"node_id"`
				Listen string `json:"listen"`
			} `json:"node"`
			Downloads []any `json:"downloads"`
		}
		if err := json.Unmarshal([]byte(mustCtl(t, "--node", b.api, "--json", "status")), &status); err != nil {
			t.Fatalf("--json status: %v", err)
		}
		if status.Node.Listen != b.addr() || status.Node.NodeID == "" || status.Downloads == nil {
			t.Errorf("--json status = %+v", status)
		}
	})
}

// lineWith returns the first line of out containing every word, or "".
func lineWith(out string, words ...string) string {
	for line := range strings.SplitSeq(out, "\n") {
		all := true
		for _, w := range words {
			all = all && strings.Contains(line, w)
		}
		if all {
			return line
		}
	}
	return ""
}

func TestPeerctl_GlobalFlagsAfterTheCommand(t *testing.T) {
	t.Parallel()
	a := startNode(t, "", nil)
	writeFile(t, filepath.Join(a.dir, "after.txt"), []byte("flags after the command\n"))
	b := startNode(t, "", map[string]string{"PEERS": a.addr()})
	b.seesFile(t, "after.txt")

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"ls --node --json", []string{"ls", "--node", b.api, "--json"}, `"name":"after.txt"`},
		{"status --json --node", []string{"status", "--json", "--node", a.api}, `"files":1`},
		{"--json before, --node after", []string{"--json", "peers", "--node", b.api}, a.addr()},
		{"get NAME --node", []string{"get", "after.txt", "--node", b.api}, "after.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if out := mustCtl(t, tt.args...); !strings.Contains(out, tt.want) {
				t.Errorf("peerctl %q = %q, want it to contain %q", tt.args, out, tt.want)
			}
		})
	}
}

func TestPeerctl_UsageErrors(t *testing.T) {
	t.Parallel()
	// No node answers here; none of these may get as far as asking one.
	const node = "127.0.0.1:1"
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no command", []string{"--node", node}, "missing command"},
		{"unknown command", []string{"--node", node, "frobnicate"}, `unknown command "frobnicate"`},
		{"unknown flag", []string{"--bogus", "ls"}, "bogus"},
		{"bad node address", []string{"--node", "http://x/y/z", "ls"}, "invalid node address"},
		{"bad node address after the command", []string{"ls", "--node", "http://x/y/z"}, "invalid node address"},
		{"unknown flag after the command", []string{"--node", node, "status", "--bogus"}, "bogus"},
		{"https node", []string{"--node", "https://x:1", "ls"}, "invalid node address"},
		{"get without argument", []string{"--node", node, "get"}, "get takes one file id or name"},
		{"get with two arguments", []string{"--node", node, "get", "a", "b"}, "get takes one file id or name"},
		{"get with bad stall timeout", []string{"--node", node, "get", "a", "--stall-timeout", "0s"}, "must be positive"},
		{"get with unknown flag", []string{"--node", node, "get", "a", "--fast"}, "fast"},
		{"send without file", []string{"--node", node, "send"}, "send takes one file"},
		{"send stdin without name", []string{"--node", node, "send", "-"}, "send - (stdin) needs --name"},
		{"receive with an argument", []string{"--node", node, "receive", "x"}, "receive takes no arguments"},
		{"ls with an argument", []string{"--node", node, "ls", "x"}, "ls takes no arguments"},
		{"peers with an argument", []string{"--node", node, "peers", "x"}, "peers takes no arguments"},
		{"status with an argument", []string{"--node", node, "status", "x"}, "status takes no arguments"},
		{"report interval for send", []string{"--node", node, "send", "f", "--report-interval", "1s"}, "--report-interval needs get or receive"},
		{"report interval too short", []string{"--node", node, "get", "f", "--report-interval", "1ms"}, "invalid --report-interval 1ms"},
		{"report interval with the file on stdout", []string{"--node", node, "receive", "--out", "-", "--report-interval", "1s"}, "cannot be combined with --out -"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := ctl(t, "", tt.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2 (stderr: %s)", code, stderr)
			}
			if !strings.Contains(stderr, tt.wantErr) || !strings.Contains(stderr, "Run 'peerctl --help' for usage.") {
				t.Errorf("stderr %q does not contain %q and the --help hint", stderr, tt.wantErr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
		})
	}
}

func TestPeerctl_HelpPrintsUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		code, stdout, stderr := ctl(t, "", args...)
		if code != 0 {
			t.Errorf("peerctl %q: exit %d, want 0 (stderr: %s)", args, code, stderr)
		}
		for _, want := range []string{"Usage: peerctl", "receive [--out P]", "--stall-timeout", "Exit status"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("peerctl %q: stdout %q does not contain %q", args, stdout, want)
			}
		}
	}
}

func TestPeerctl_UnreachableNodeFails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		env     string // PEER_NODE
		wantErr string
	}{
		{"from the flag", []string{"--node", "127.0.0.1:1", "ls"}, "", "node http://127.0.0.1:1"},
		{"from the environment", []string{"status"}, "127.0.0.1:1", "node http://127.0.0.1:1"},
		{"url form", []string{"--node", "http://127.0.0.1:1/", "peers"}, "", "node http://127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			getenv := func(k string) string {
				if k == peerctl.NodeEnv {
					return tt.env
				}
				return ""
			}
			code := peerctl.Main(t.Context(), tt.args, getenv, strings.NewReader(""), &out, &errOut)
			if code != 1 {
				t.Errorf("exit %d, want 1 (stderr: %s)", code, errOut.String())
			}
			if !strings.HasPrefix(errOut.String(), "peerctl: ") || !strings.Contains(errOut.String(), tt.wantErr) {
				t.Errorf("stderr %q does not contain %q", errOut.String(), tt.wantErr)
			}
		})
	}
}

// An address that answers HTTP but is no node (a proxy's empty 502, a web
// server's HTML page) must fail with the node, the status and a short
// line of what came back, never an empty message or a page of markup.
func TestPeerctl_NotANodeNamesTheAnswer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		want   []string
		reject []string
	}{
		{"empty 502", http.StatusBadGateway, "", []string{"502 Bad Gateway"}, nil},
		{"an HTML page", http.StatusNotImplemented, "<!DOCTYPE HTML>\n<html><body><h1>Error response</h1>\n" + strings.Repeat("x", 500) + "</body></html>",
			[]string{"501 Not Implemented", "<!DOCTYPE HTML>"}, []string{"\n<html>", strings.Repeat("x", 300)}},
		{"a long line of multi-byte text", http.StatusBadGateway, "x" + strings.Repeat("é", 200),
			[]string{"502 Bad Gateway", "x" + strings.Repeat("é", 59) + "…"}, []string{`\x`}},
		{"the node's own JSON error", http.StatusNotFound, `{"error":"no such download"}`, []string{"no such download"}, []string{"404"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			t.Cleanup(srv.Close)
			code, _, stderr := ctl(t, "", "--node", srv.Listener.Addr().String(), "ls")
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			msg := strings.TrimSuffix(strings.TrimPrefix(stderr, "peerctl: "), "\n")
			if strings.Contains(msg, "\n") {
				t.Errorf("stderr is more than one line: %q", stderr)
			}
			checkWords(t, "stderr", msg, tt.want, tt.reject)
		})
	}
}

func TestHumanBytes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0 B"},
		{1, "1 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{1536, "1.5 KiB"},
		{1 << 20, "1.0 MiB"},
		{5<<20 + 512<<10, "5.5 MiB"},
		{3 << 30, "3.0 GiB"},
		{1 << 40, "1.0 TiB"},
		{1 << 50, "1.0 PiB"},
		{1 << 60, "1024.0 PiB"},
	}
	for _, tt := range tests {
		if got := peerctl.HumanBytes(tt.in); got != tt.want {
			t.Errorf("humanBytes(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestProgressLine(t *testing.T) {
	t.Parallel()
	id := strings.Repeat("0123456789abcdef", 4)
	tests := []struct {
		name    string
		d       api.Download
		rate    float64
		want    []string
		notWant []string
	}{
		{
			"half way",
			api.Download{ID: id, Name: "f.bin", State: "downloading", Size: 1000, Bytes: 500, PeersWorking: 3,
				Sources: map[string]api.Source{"a:1": {Pieces: 3, Bytes: 300}, "b:1": {Pieces: 2, Bytes: 200}}},
			100,
			[]string{"f.bin [===========>            ]", " 50%", "500 B/1000 B", "100 B/s", "ETA 5s", "from 2 peers"},
			[]string{"stalled", "("},
		},
		{
			// A peer whose only pieces failed verification sent nothing kept.
			"one source and one bad sender",
			api.Download{ID: id, Name: "f.bin", State: "downloading", Size: 1000, Bytes: 100,
				Sources: map[string]api.Source{"a:1": {Pieces: 1, Bytes: 100}, "b:1": {Bad: 2}}},
			0,
			[]string{"from 1 peer"},
			[]string{"peers"},
		},
		{
			"stalled",
			api.Download{ID: id, Name: "f.bin", State: "downloading", Size: 4 << 20, Bytes: 1 << 20, Stalled: "no peers connected"},
			0,
			[]string{" 25%", "1.0 MiB/4.0 MiB", "0 B/s", "ETA -", "(stalled: no peers connected)"},
			nil,
		},
		{
			"finding, no name yet",
			api.Download{ID: id, State: "finding", Stalled: "no connected peer has the manifest"},
			0,
			[]string{shortID(id) + " [", "  0%", "ETA -", "(finding)"},
			[]string{"stalled"},
		},
		{
			"queued",
			api.Download{ID: id, Name: "q", State: "queued", Size: 10},
			0,
			[]string{"(queued)"},
			nil,
		},
		{
			"complete",
			api.Download{ID: id, Name: "f.bin", State: "complete", Size: 2048, Bytes: 2048},
			1 << 20,
			[]string{"[========================]", "100%", "2.0 KiB/2.0 KiB", "1.0 MiB/s", "ETA -", "from 0 peers"},
			[]string{">"},
		},
		{
			"complete empty file",
			api.Download{ID: id, Name: "empty", State: "complete"},
			0,
			[]string{"100%", "0 B/0 B"},
			nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkWords(t, "progressLine", peerctl.ProgressLine(tt.d, tt.rate), tt.want, tt.notWant)
		})
	}
}

// shortID is what peerctl prints for a file id: the digest's first 12 hex
// digits, without the algorithm a BLAKE3 id starts with.
func shortID(id string) string { return strings.TrimPrefix(id, "blake3:")[:12] }
