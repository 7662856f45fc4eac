module github.com/netlab/netlab/services/peer

go 1.26.0

require (
	github.com/netlab/netlab/services/internal/platform v0.0.0
	github.com/prometheus/client_golang v1.25.0
	go.uber.org/zap v1.28.0
)

replace github.com/netlab/netlab/services/internal/platform => ../internal/platform
