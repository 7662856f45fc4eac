// Command tcp-echo-client talks to a tcp-echo server: the tutorial's echo,
// RTT probes (--count), throughput (--bulk) and load (--load). Run
// tcp-echo-client --help.
package main

import (
	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/tcp-echo/internal/client"
)

func main() { clientcli.Run(client.Main) }
