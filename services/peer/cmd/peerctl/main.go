// Command peerctl drives a netlab peer node through its admin API: list
// the swarm's files, download one with a progress bar, show the node and
// its peers, and the tutorial's send / receive. Run peerctl --help.
package main

import (
	"github.com/netlab/netlab/services/peer/internal/peerctl"
	"github.com/netlab/netlab/services/platform/clientcli"
)

func main() { clientcli.Run(peerctl.Main) }
