package httpclient

import "github.com/netlab/netlab/services/internal/platform/clientcli"

// LatencyStats summarises durations; see clientcli.LatencyStats.
type LatencyStats = clientcli.LatencyStats
