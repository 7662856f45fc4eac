#!/usr/bin/env bash
# Waits until every container given by ID that has a healthcheck is healthy.
#   deploy/wait-healthy.sh TIMEOUT_SECONDS ID...
set -euo pipefail
timeout=$1
shift
deadline=$((SECONDS + timeout))
for id in "$@"; do
	name=$(docker inspect -f '{{.Name}}' "$id")
	while :; do
		status=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$id")
		case $status in
		healthy | none) break ;;
		unhealthy)
			echo "${name#/} is unhealthy; its last checks and logs:" >&2
			docker inspect -f '{{range .State.Health.Log}}{{.Output}}{{end}}' "$id" >&2
			docker logs --tail 20 "$id" >&2
			exit 1
			;;
		esac
		if ((SECONDS >= deadline)); then
			echo "${name#/} not healthy after ${timeout}s (status: $status)" >&2
			docker logs --tail 20 "$id" >&2
			exit 1
		fi
		sleep 1
	done
	echo "${name#/}: $status"
done
