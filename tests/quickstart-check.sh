#!/usr/bin/env bash
# Runs the README's quick start as a new user would: every command of the
# ```sh blocks between <!-- quickstart --> and <!-- /quickstart --> in the
# README, one at a time, with bash, from the repository root, on the real
# stack; then takes the stack down. It stops at the first command that
# fails (exit status not 0, or output without what the README's comment
# shows after "→ ") and exits 1 naming it.
#
#   tests/quickstart-check.sh [README]
#
# The commands run as written, so on the README's stack: compose project
# netlab (from .env) on the README's host ports. A stack of that project
# that is already there (a developer's `make up`) is never touched: the
# check refuses to start. The e2e tests' stacks have other project names and
# free host ports, so the two never meet. Files the commands write in the
# repository root are removed afterwards, and files of the same name that
# were there before are put back.
#
# `make test` is not run (it runs this check). Where only one of `docker
# compose` (v2) and `docker-compose` (v1) is installed, the other name runs
# it: the README offers both. QUICKSTART_TIMEOUT (seconds, default 1800)
# bounds each command.
set -euo pipefail
cd "$(dirname "$0")/.."
readme=${1:-README.md}
# The project plain compose commands use here, as the README's do.
project=$(sed -n 's/^COMPOSE_PROJECT_NAME=//p' .env)
project=${project:-netlab}
limit=${QUICKSTART_TIMEOUT:-1800}

say() { printf 'quickstart-check: %s\n' "$*" >&2; }

mapfile -t commands < <(awk '
	/<!-- quickstart -->/ { on = 1; next }
	/<!-- \/quickstart -->/ { on = 0 }
	on && /^```/ { fence = !fence; next }
	on && fence && NF { print }
' "$readme")
if ((${#commands[@]} == 0)); then
	say "no commands in $readme between <!-- quickstart --> and <!-- /quickstart -->"
	exit 1
fi

running=$(docker ps -aq --filter "label=com.docker.compose.project=$project")
if [[ -n $running ]]; then
	say "compose project $project already has containers (a stack from \`make up\`?); the quick start needs that project and its ports for itself and leaves yours alone: run \`make down\` first, or run this check later"
	exit 1
fi

# Untracked files in the root are put back as they were afterwards, and
# new ones removed.
untracked() { git ls-files --others --exclude-standard --directory --no-empty-directory | grep -v / || true; }
saved=$(mktemp -d)
log=$(mktemp)
mapfile -t before < <(untracked)
for f in "${before[@]}"; do cp -p -- "$f" "$saved/"; done

teardown() {
	if [[ -n $(docker ps -aq --filter "label=com.docker.compose.project=$project") ]]; then
		say "taking the stack down"
		make down >/dev/null 2>&1 || say "make down failed: remove compose project $project by hand"
	fi
	local f
	while IFS= read -r f; do
		[[ -e $saved/$f ]] || rm -f -- "$f"
	done < <(untracked)
	for f in "${before[@]}"; do cp -p -- "$saved/$f" "$f"; done
	rm -rf -- "$saved" "$log"
}
trap teardown EXIT

# The README shows `docker compose` and `docker-compose` as the same
# command; whichever is missing here is given by the other.
shim='if ! docker compose version >/dev/null 2>&1 && command -v docker-compose >/dev/null; then
	docker() { if [ "${1-}" = compose ]; then shift; command docker-compose "$@"; else command docker "$@"; fi; }
fi
if ! command -v docker-compose >/dev/null && docker compose version >/dev/null 2>&1; then
	docker-compose() { command docker compose "$@"; }
fi
'

n=0
for cmd in "${commands[@]}"; do
	n=$((n + 1))
	if [[ ${cmd%%#*} =~ ^[[:space:]]*make[[:space:]]+test[[:space:]]*$ ]]; then
		say "[$n/${#commands[@]}] skipped: $cmd (it runs this check)"
		continue
	fi
	say "[$n/${#commands[@]}] \$ $cmd"
	set +e
	timeout "$limit" bash -o pipefail -c "$shim$cmd" </dev/null 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	set -e
	if ((rc != 0)); then
		say "FAILED (exit status $rc): $cmd"
		exit 1
	fi
	[[ -s $log && $(tail -c1 "$log") != "" ]] && echo # output without a final newline
	if [[ $cmd == *'#'*'→ '* ]]; then
		want=${cmd##*→ }
		if ! grep -qF -- "$want" "$log"; then
			say "FAILED: $cmd: its output does not contain \"$want\", as the README says it does"
			exit 1
		fi
	fi
done
say "every command of the quick start in $readme worked"
