// Command http-client talks to an http-hello server (or any HTTP server):
// one request with a timing breakdown, a load run (--count) and the raw
// bytes of an HTTP/1.1 exchange (--raw). Run http-client --help.
package main

import (
	"github.com/netlab/netlab/services/http-hello/internal/httpclient"
	"github.com/netlab/netlab/services/platform/clientcli"
)

func main() { clientcli.Run(httpclient.Main) }
