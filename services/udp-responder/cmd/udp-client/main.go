// Command udp-client talks to a udp-responder: the tutorial's exchange,
// the tutorial's "exit" (--exit), numbered probes that measure loss,
// reordering, duplication, corruption, RTT and jitter (--count), and a
// closed-loop load (--load). Run udp-client --help.
package main

import (
	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/udp-responder/internal/udpclient"
)

func main() { clientcli.Run(udpclient.Main) }
