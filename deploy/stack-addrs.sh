#!/usr/bin/env bash
# The host addresses a compose project's containers are published on, from
# one `docker ps` (each `compose port` call costs a compose start-up).
#
#   deploy/stack-addrs.sh PROJECT                      every published port:
#       tcp-echo 1 65432/tcp 127.0.0.1:65432
#       peer 2 9090/tcp 127.0.0.1:9105
#   deploy/stack-addrs.sh PROJECT SERVICE INDEX PORT[/PROTO]
#       127.0.0.1:9105                                 one address, or exit 1
set -euo pipefail

(($# == 1 || $# == 4)) || { echo "usage: $0 PROJECT [SERVICE INDEX PORT[/PROTO]]" >&2; exit 2; }
project=$1

# Lines of: service, replica number, and Docker's port list, e.g.
#   peer 2 127.0.0.1:9105->9090/tcp
list() {
	docker ps --filter "label=com.docker.compose.project=$project" \
		--format '{{.Label "com.docker.compose.service"}} {{.Label "com.docker.compose.container-number"}} {{.Ports}}'
}

# Splits Docker's "a->b/tcp, c->d/udp" lists into one line per published port.
published() {
	while read -r service index ports; do
		IFS=',' read -ra mappings <<<"$ports"
		for m in "${mappings[@]}"; do
			m=${m# }
			[[ $m == *"->"* ]] || continue
			echo "$service $index ${m#*->} ${m%->*}"
		done
	done
}

if (($# == 1)); then
	list | published | sort -k1,1 -k2,2n
	exit 0
fi
want=$4
[[ $want == */* ]] || want=$want/tcp
addr=$(list | published | awk -v s="$2" -v i="$3" -v p="$want" '$1 == s && $2 == i && $3 == p { print $4; exit }')
[[ -n $addr ]] || { echo "$2 replica $3 publishes no port $want in project $project (is the stack up?)" >&2; exit 1; }
echo "$addr"
