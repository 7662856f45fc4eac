#!/usr/bin/env bash
# Makes sure a Go builder image for deploy/Dockerfile exists and prints its
# name on stdout (progress goes to stderr).
#
#   deploy/builder-image.sh [GO_IMAGE]
#
# 1. GO_IMAGE is already in the local engine: use it.
# 2. netlab/go-builder:<local go version> was made earlier: use it.
# 3. GO_IMAGE can be pulled: pull it and use it.
# 4. Otherwise (no registry): import this machine's own Go toolchain as
#    netlab/go-builder:<go version>, with the standard library precompiled,
#    and use that. Its RUN steps are exec-form because it has no shell.
set -euo pipefail

want=${1:-golang:1.26.8}
label=org.netlab.project=netlab

if docker image inspect "$want" >/dev/null 2>&1; then
	echo "$want"
	exit 0
fi
# A builder made earlier from the local toolchain saves a pull attempt that
# fails (or hangs) on a machine without a registry.
local_image=
if command -v go >/dev/null; then
	goversion=$(go env GOVERSION)
	goversion=${goversion#go}
	goroot=$(go env GOROOT)
	local_image=netlab/go-builder:${goversion}
	if docker image inspect "$local_image" >/dev/null 2>&1; then
		echo "builder image: $want is not here; using $local_image (made earlier from the local Go $goversion)" >&2
		echo "$local_image"
		exit 0
	fi
fi

echo "builder image: $want is not here; trying to pull it" >&2
if timeout 300 docker pull "$want" >&2 2>&1; then
	echo "$want"
	exit 0
fi
[[ -n $local_image ]] || { echo "builder image: cannot pull $want and no local Go toolchain to build one from" >&2; exit 1; }

echo "builder image: cannot pull $want; making $local_image from $goroot" >&2
base=${local_image}-base
certs=()
[[ -f /etc/ssl/certs/ca-certificates.crt ]] && certs=(-C / etc/ssl/certs/ca-certificates.crt)
# One tar stream: the toolchain moved to /usr/local/go inside the image
# (wherever it lives here), plus this machine's CA bundle so `go mod
# download` can verify the module proxy (and any TLS proxy in between).
tar --transform 's,^\.,usr/local/go,' -cf - -C "$goroot" . "${certs[@]}" \
	| docker import \
		-c 'ENV PATH=/usr/local/go/bin' \
		-c 'ENV CGO_ENABLED=0' \
		-c 'ENV GOCACHE=/tmp/gocache' \
		-c 'ENV GOMODCACHE=/tmp/gomod' \
		-c 'ENV GOTOOLCHAIN=local' \
		-c "LABEL $label" \
		- "$base" >&2

# Precompile the standard library once, with the flags the Dockerfile uses,
# so a one-file change rebuilds in seconds instead of half a minute.
printf 'FROM %s\nWORKDIR /tmp\nRUN ["go", "build", "-trimpath", "std"]\n' "$base" \
	| DOCKER_BUILDKIT=0 docker build -q --label "$label" -t "$local_image" - >&2
docker rmi "$base" >/dev/null 2>&1 || true
echo "$local_image"
