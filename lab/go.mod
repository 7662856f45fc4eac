module github.com/netlab/netlab/lab

go 1.26.0

require (
	github.com/netlab/netlab/services/peer v0.0.0-00010101000000-000000000000
	github.com/netlab/netlab/services/udp-responder v0.0.0-00010101000000-000000000000
	github.com/prometheus/client_model v0.6.3
	github.com/prometheus/common v0.72.0
	golang.org/x/image v0.47.0
)

require (
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

replace (
	github.com/netlab/netlab/services/peer => ../services/peer
	github.com/netlab/netlab/services/platform => ../services/platform
	github.com/netlab/netlab/services/udp-responder => ../services/udp-responder
)
