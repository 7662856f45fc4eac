// Package peerctl is the command line of a peer node: it drives a node
// through its JSON API on the admin listener (ls, get, status, peers, and
// the tutorial's send / receive) with the API's own client.
package peerctl

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/netlab/netlab/services/peer/api"
)

// NodeEnv names the variable holding the node's admin address.
const NodeEnv = "PEER_NODE"

// DefaultNode is the admin address of a node running on this host.
const DefaultNode = "127.0.0.1:9090"

// putFile uploads the file at path ("-": stdin) into the node's share as
// name and offers it.
func putFile(ctx context.Context, c *api.Client, path string, stdin io.Reader, name string) (api.LocalFile, error) {
	if path == "-" {
		return c.Put(ctx, name, stdin, -1) // size unknown: sent chunked
	}
	f, err := os.Open(path)
	if err != nil {
		return api.LocalFile{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return api.LocalFile{}, err
	}
	if !info.Mode().IsRegular() {
		return api.LocalFile{}, fmt.Errorf("%s is not a regular file", path)
	}
	return c.Put(ctx, name, f, info.Size())
}
