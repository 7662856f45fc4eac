package httpclient

import "github.com/netlab/netlab/services/platform/clientcli"

// LatencyStats summarises durations; see clientcli.LatencyStats.
type LatencyStats = clientcli.LatencyStats
