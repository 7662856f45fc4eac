#!/usr/bin/env bash
# Builds every netlab image from deploy/Dockerfile with the classic builder:
# first the build stage (every binary of every service, compiled once), then
# one small FROM scratch image per service on top of it, then the shaper
# (netlab-shaper from the lab module, in a build stage of its own). Prints
# a line per build step with its time, so a long build is never minutes of
# silence.
#
#   deploy/build-images.sh GO_IMAGE PREFIX TAG VERSION COMMIT DATE IMAGE...
#
# IMAGE is a service (tcp-echo, udp-responder, http-hello, peer, dashboard)
# or shaper;
# the build stage of the services is built only when a service is asked
# for, the shaper's only when the shaper is.
#
# The build stage is tagged PREFIX/build:TAG: it is the layer cache, and a
# tagged image is not pruned as dangling, so the next build reuses it.
set -euo pipefail

(($# >= 7)) || { echo "usage: $0 GO_IMAGE PREFIX TAG VERSION COMMIT DATE IMAGE..." >&2; exit 2; }
go_image=$1 prefix=$2 tag=$3 version=$4 commit=$5 date=$6
shift 6
services=() shaper=""
for image in "$@"; do
	if [[ $image == shaper ]]; then shaper=1; else services+=("$image"); fi
done

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# What every docker build here is given: the same file, arguments and
# cleanup, so the service stages find the build stage in the cache.
common=(--force-rm -f deploy/Dockerfile
	--build-arg GO_IMAGE="$go_image" --build-arg VERSION="$version"
	--build-arg COMMIT="$commit" --build-arg DATE="$date")

# seconds since $1 (an EPOCHREALTIME), with one decimal
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

# Reads `docker build` output and prints one line per finished step:
# its number, the instruction (shortened), "cached" or its duration.
steps() {
	local step="" start="" cached=""
	finish() {
		[[ -n $step ]] || return 0
		if [[ -n $cached ]]; then printf '  %-72.72s cached\n' "$step"
		else printf '  %-72.72s %6ss\n' "$step" "$(since "$start")"; fi
	}
	while IFS= read -r line; do
		printf '%s\n' "$line" >>"$log"
		case $line in
		"Step "*)
			finish
			step=${line#Step }
			step=${step/ : / }
			start=$EPOCHREALTIME cached=""
			;;
		*"Using cache"*) cached=1 ;;
		esac
	done
	finish
}

# build TARGET IMAGE: one docker build of the stage TARGET, tagged IMAGE.
build() {
	local target=$1 image=$2 start=$EPOCHREALTIME
	: >"$log"
	echo "docker build --target $target -t $image"
	if ! docker build "${common[@]}" --target "$target" -t "$image" . 2>&1 | steps; then
		echo "docker build --target $target failed; the end of its output:" >&2
		grep -v -e DEPRECATED -e 'legacy builder' -e BuildKit -e 'environment-variable' "$log" | tail -40 >&2
		return 1
	fi
	echo "  $image built in $(since "$start")s"
}

# quiet TARGET IMAGE: a stage that only copies binaries out of a cached
# build stage, so its steps are not listed one by one.
quiet() {
	local target=$1 image=$2 start=$EPOCHREALTIME
	docker build -q "${common[@]}" --target "$target" -t "$image" . >"$log" 2>&1 || {
		echo "docker build --target $target failed:" >&2
		tail -40 "$log" >&2
		exit 1
	}
	echo "$image built in $(since "$start")s"
}

total=$EPOCHREALTIME
if ((${#services[@]})); then
	build build "$prefix/build:$tag"
	for s in "${services[@]}"; do
		quiet "$s" "$prefix/$s:$tag"
	done
fi
# The shaper comes last in the Dockerfile and builds from the lab module in
# a build stage of its own (tagged too: it is that stage's layer cache).
if [[ -n $shaper ]]; then
	build shaper-build "$prefix/shaper-build:$tag"
	quiet shaper "$prefix/shaper:$tag"
fi
echo "images built in $(since "$total")s"
