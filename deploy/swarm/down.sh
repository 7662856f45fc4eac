#!/usr/bin/env bash
# Removes a netlab stack from Docker Swarm and everything it left: its
# services, its containers, its overlay network and the peer nodes' share
# volumes (docker stack rm keeps volumes). The swarm itself stays.
#   deploy/swarm/down.sh [STACK]    (default netlab; SWARM_WAIT seconds, default 60)
set -euo pipefail
stack=${1:-netlab}
wait=${SWARM_WAIT:-60}
case $wait in '' | *[!0-9]*) echo "SWARM_WAIT=$wait: want whole seconds" >&2; exit 2 ;; esac
label=com.docker.stack.namespace=$stack

if [[ $(docker info --format '{{.Swarm.LocalNodeState}}') == active ]]; then
	# stack rm may fail to remove the network while replicas still stop.
	docker stack rm "$stack" || true
fi
# Replicas stop within their stop_grace_period; their volumes and the
# network can go only after them.
deadline=$((SECONDS + wait))
while [[ -n $(docker ps -aq --filter "label=$label") ]]; do
	if ((SECONDS >= deadline)); then
		echo "containers of stack $stack still there after ${wait}s:" >&2
		docker ps -a --filter "label=$label" >&2
		exit 1
	fi
	sleep 1
done
# Client containers still attached to the overlay (docker run --network)
# would keep it: disconnect them, they are not the stack's to remove.
for net in $(docker network ls -q --filter "label=$label"); do
	for ctr in $(docker network inspect -f '{{range $id, $c := .Containers}}{{$id}} {{end}}' "$net" 2>/dev/null); do
		[[ $ctr == lb-* ]] && continue # the network's own load-balancer endpoint
		echo "disconnecting container $ctr from the stack's network"
		docker network disconnect --force "$net" "$ctr" >/dev/null 2>&1 || true
	done
	docker network rm "$net" >/dev/null 2>&1 || true
done
vols=$(docker volume ls -q --filter "label=$label")
[[ -z $vols ]] || docker volume rm $vols >/dev/null
while [[ -n $(docker network ls -q --filter "label=$label") ]]; do
	if ((SECONDS >= deadline)); then
		echo "network of stack $stack still there after ${wait}s" >&2
		exit 1
	fi
	sleep 1
	for net in $(docker network ls -q --filter "label=$label"); do
		docker network rm "$net" >/dev/null 2>&1 || true
	done
done
echo "stack $stack removed (services, network, volumes)"
