#!/usr/bin/env bash
# Prints where a running netlab stack answers and a first command for each
# service, with the host ports Docker actually published.
#
#   deploy/stack-summary.sh PROJECT "COMPOSE COMMAND"
set -euo pipefail
(($# == 2)) || { echo "usage: $0 PROJECT 'COMPOSE COMMAND'" >&2; exit 2; }
project=$1 compose=$2
all=$(deploy/stack-addrs.sh "$project")
# addr SERVICE INDEX PORT/PROTO: the published host address, or "?"
addr() { awk -v s="$1" -v i="$2" -v p="$3" '$1 == s && $2 == i && $3 == p { print $4; f = 1; exit } END { if (!f) print "?" }' <<<"$all"; }

echo
echo "netlab is up:"
echo "  dashboard       http://$(addr dashboard 1 8080/tcp)/   (live pages of every service; also /swarm)"
echo "  tcp-echo        $(addr tcp-echo 1 65432/tcp)"
echo "                  printf 'Hello, world' | nc -q1 $(addr tcp-echo 1 65432/tcp | tr : ' ')"
echo "                  $compose run --rm tcp-echo-client --count 5"
echo "  tcp-echo admin  http://$(addr tcp-echo 1 9090/tcp)/metrics  (also /healthz /readyz /version)"
echo "  udp-responder   $(addr udp-responder 1 12345/udp) (udp)"
echo "                  $compose run --rm udp-client --count 1000"
echo "  udp admin       http://$(addr udp-responder 1 9090/tcp)/metrics"
echo "  http-hello      http://$(addr http-hello 1 8000/tcp)/"
echo "                  curl -s http://$(addr http-hello 1 8000/tcp)/"
echo "                  $compose run --rm http-client --count 100 --connections 4"
echo "  http admin      http://$(addr http-hello 1 9090/tcp)/metrics"
peers=$(awk '$1 == "peer" && $3 == "9090/tcp"' <<<"$all" | wc -l)
for i in $(seq 1 "$peers"); do
	echo "  peer $i admin    http://$(addr peer "$i" 9090/tcp)/api/status"
done
echo "                  make build && bin/peerctl --node $(addr peer 1 9090/tcp) send file.txt"
echo "                  bin/peerctl --node $(addr peer 2 9090/tcp) receive --out received_file.txt"
echo "                  $compose run --rm peerctl ls"
echo "  stop with: make down"
