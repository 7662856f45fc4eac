package runner

import (
	"context"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/netlab/netlab/lab/internal/exp/spec"
	"github.com/netlab/netlab/lab/internal/stack"
	"github.com/netlab/netlab/services/peer/api"
)

// krNode is one downloader a kurose-ross workload started.
type krNode struct {
	id, label string
	api       *api.Client
	dl        string // its download's id
}

// nodeStarts bounds the docker runs at once: more only queue in the
// daemon.
const nodeStarts = 6

// startNodes starts the point's N downloaders on the project's network,
// hardened as the stack's nodes, each with a share in memory, its admin
// port published on loopback, and the server as its seed; it returns
// once every one answers on its API.
func (d *distribution) startNodes(ctx context.Context) error {
	ip, err := d.server.IP(d.e.Network)
	if err != nil {
		return err
	}
	env := d.nodeEnv(net.JoinHostPort(ip, "8001"))
	d.nodes = make([]*krNode, d.n)
	var mu sync.Mutex
	sem := make(chan struct{}, nodeStarts)
	err = parallel(d.n, func(i int) error {
		sem <- struct{}{}
		defer func() { <-sem }()
		nd, err := d.startNode(ctx, i+1, env)
		mu.Lock()
		d.nodes[i] = nd
		mu.Unlock()
		return err
	})
	d.nodes = slices.DeleteFunc(d.nodes, func(nd *krNode) bool { return nd == nil })
	if err != nil {
		return err
	}
	return eachNode(d.nodes, func(nd *krNode) error { return waitAPI(ctx, nd.api) })
}

// nodeEnv is a downloader's settings: the peer service's of the spec,
// its own upload cap, serving switched off in the client-server arm.
func (d *distribution) nodeEnv(seed string) []string {
	env := map[string]string{}
	if k := slices.IndexFunc(d.e.Spec.Services, func(sv spec.Service) bool { return sv.Name == "peer" }); k >= 0 {
		maps.Copy(env, d.e.Spec.Services[k].Env)
	}
	env["PEERS"] = seed
	env["UPLOAD_RATE"] = strconv.FormatInt(d.w.PeerRate, 10)
	env["SERVE_PIECES"] = strconv.FormatBool(d.w.Arm == spec.ArmPeerToPeer)
	env["SHARE_DIR"] = "/share"
	env["ADMIN_ADDR"] = ":9090"
	var out []string
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, "-e", k+"="+env[k])
	}
	return out
}

// startNode runs downloader i; the node is returned, also on an error
// after its container exists, so that it is removed.
func (d *distribution) startNode(ctx context.Context, i int, env []string) (*krNode, error) {
	// The file twice (a part and the copy) and MIN_FREE_SPACE's default.
	share := fmt.Sprintf("/share:rw,size=%d,uid=65532,gid=65532,mode=0700", 2*d.w.Bytes+96<<20)
	args := append([]string{"run", "-d", "--name", fmt.Sprintf("%s-%s-%d", d.e.Project.Name, d.w.Name, i),
		"--network", d.e.Network, "--label", LabelRun + "=" + d.e.Project.Name, "--tmpfs", share, "-p", "127.0.0.1::9090"}, hardening...)
	args = append(append(args, env...), d.e.Image("peer"))
	out, err := d.e.Docker.Run(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("node-%d: %w", i, err)
	}
	nd := &krNode{id: strings.TrimSpace(string(out)), label: fmt.Sprintf("node-%d", i)}
	ports, err := AdminPorts(ctx, d.e.Docker, []stack.Container{{ID: nd.id}})
	if err != nil || ports[nd.id] == "" {
		return nd, fmt.Errorf("%s: no admin port published (%v)", nd.label, err)
	}
	nd.api = &api.Client{Base: "http://" + ports[nd.id], HTTP: d.hc}
	return nd, nil
}

// waitAPI waits until the node answers its status (it has started).
func waitAPI(ctx context.Context, c *api.Client) error {
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		_, err := c.Status(wctx)
		if err == nil {
			return nil
		}
		if serr := sleep(wctx, 100*time.Millisecond); serr != nil {
			return fmt.Errorf("no answer from %s: %w (%v)", c.Base, serr, err)
		}
	}
}

// remove removes the point's downloaders, also when ctx has ended.
func (d *distribution) remove(ctx context.Context) error {
	if len(d.nodes) == 0 {
		return nil
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	args := []string{"rm", "-f", "-v"}
	for _, nd := range d.nodes {
		args = append(args, nd.id)
	}
	_, err := d.e.Docker.Run(rctx, args...)
	d.nodes = nil
	if err != nil {
		return err
	}
	return d.detached(rctx)
}

// detached waits until the network lists none of the point's nodes: a
// busy daemon releases their endpoints after docker rm returns, and the
// network's removal at teardown fails while one is left.
func (d *distribution) detached(ctx context.Context) error {
	prefix := fmt.Sprintf("%s-%s-", d.e.Project.Name, d.w.Name)
	for {
		out, err := d.e.Docker.Run(ctx, "network", "inspect", "-f", "{{range .Containers}}{{.Name}} {{end}}", d.e.Network)
		if err == nil && !slices.ContainsFunc(strings.Fields(string(out)), func(n string) bool { return strings.HasPrefix(n, prefix) }) {
			return nil
		}
		if serr := sleep(ctx, 200*time.Millisecond); serr != nil {
			return fmt.Errorf("the nodes' endpoints are still on %s: %w (%v)", d.e.Network, serr, err)
		}
	}
}
