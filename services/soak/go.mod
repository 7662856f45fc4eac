module github.com/netlab/netlab/services/soak

go 1.26.0
