#!/usr/bin/env bash
# Deploys the netlab stack on Docker Swarm with the local images `make
# images` built, and waits until every replica is running and healthy.
#   deploy/swarm/up.sh [STACK]      (default netlab)
# Environment: NETLAB_IMAGE_PREFIX, NETLAB_TAG (the images), PEER_REPLICAS,
# SWARM_PUBLISH=1 (also deploy/swarm/publish.yml: host-mode ports on every
# interface), SWARM_INIT=1 (make this engine a single-node swarm when it is
# in none), SWARM_WAIT (seconds, default 120).
set -euo pipefail
stack=${1:-netlab}
dir=$(cd "$(dirname "$0")" && pwd)
prefix=${NETLAB_IMAGE_PREFIX:-netlab}
tag=${NETLAB_TAG:-dev}
wait=${SWARM_WAIT:-120}
case $wait in '' | *[!0-9]*) echo "SWARM_WAIT=$wait: want whole seconds" >&2; exit 2 ;; esac

state=$(docker info --format '{{.Swarm.LocalNodeState}}')
if [[ $state != active ]]; then
	if [[ ${SWARM_INIT:-} != 1 ]]; then
		echo "this Docker Engine is not in a swarm (state: $state): run 'docker swarm init' (one node: --advertise-addr 127.0.0.1), or SWARM_INIT=1" >&2
		exit 1
	fi
	docker swarm init --advertise-addr 127.0.0.1 >/dev/null
	echo "this engine is now a single-node swarm; 'docker swarm leave --force' ends that"
fi
if [[ $(docker info --format '{{.Swarm.ControlAvailable}}') != true ]]; then
	echo "this node is not a swarm manager: deploy from a manager" >&2
	exit 1
fi

# Without a registry every node needs the images itself: on one node they
# are the ones make images built. docs/deploy.md shows the registry way.
for s in tcp-echo udp-responder http-hello peer dashboard; do
	docker image inspect "$prefix/$s:$tag" >/dev/null 2>&1 ||
		{ echo "image $prefix/$s:$tag is missing: run make images TAG=$tag first" >&2; exit 1; }
done

files=(-c "$dir/stack.yml")
[[ ${SWARM_PUBLISH:-} == 1 ]] && files+=(-c "$dir/publish.yml")
NETLAB_IMAGE_PREFIX=$prefix NETLAB_TAG=$tag docker stack deploy --resolve-image never --prune "${files[@]}" "$stack"

# A replica counts as running once its healthcheck passed, so n/n means
# every replica of the service is healthy; on a second deploy, an update
# in progress still has old replicas running.
deadline=$((SECONDS + wait))
while :; do
	pending=$(docker stack services "$stack" --format '{{.Name}} {{.Replicas}}' |
		awk '{ split($2, r, "/"); sub(/ .*/, "", r[2]); if (r[1] != r[2] || r[2] == 0) print $1 " " $2 }')
	for svc in $(docker stack services "$stack" --format '{{.Name}}'); do
		update=$(docker service inspect "$svc" --format '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}')
		case $update in updating | rollback_started) pending+=$'\n'"$svc $update" ;; esac
	done
	[[ -z $pending ]] && break
	if ((SECONDS >= deadline)); then
		echo "not every replica is running and healthy after ${wait}s:" >&2
		echo "$pending" >&2
		docker stack ps "$stack" --no-trunc --filter desired-state=running --format '{{.Name}} {{.CurrentState}} {{.Error}}' >&2
		exit 1
	fi
	sleep 1
done
docker stack services "$stack" --format '{{.Name}} {{.Replicas}} {{.Image}}'
echo "stack $stack is up; clients join its network: docker run --rm --network ${stack}_netlab ..."
