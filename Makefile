# netlab: every task. `make` alone prints this help.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

SERVICES        := tcp-echo udp-responder http-hello peer dashboard
PROJECT         ?= netlab
# The builder stage's image. Without a registry, `make builder-image` makes
# one from this machine's Go toolchain and the build uses that instead.
GO_IMAGE        ?= golang:1.26.8
IMAGE_PREFIX    ?= netlab
TAG             ?= dev
VERSION         ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT          ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
DATE            ?= $(shell git log -1 --format=%cI 2>/dev/null || echo unknown)
E2E_TIMEOUT     ?= 20m
# Where the end-to-end tests leave what they save (the dashboard's
# screenshots): one directory per test.
E2E_ARTIFACTS   ?= $(CURDIR)/.build/e2e
# Pinned so lint results do not change under us; fetched through the module proxy.
STATICCHECK     ?= go run honnef.co/go/tools/cmd/staticcheck@v0.8.2

# docker compose v2 if present, else docker-compose v1.
COMPOSE ?= $(shell if docker compose version >/dev/null 2>&1; then echo "docker compose"; \
	elif command -v docker-compose >/dev/null 2>&1; then echo docker-compose; fi)
COMPOSE_CMD = $(COMPOSE) -p $(PROJECT) -f docker-compose.yml
# The label netlab puts on the shaper containers it starts: the project.
SHAPER_LABEL = org.netlab.shaper.project

# What docker-compose.yml reads, so compose runs the images make built.
up down logs ps clean shape partition heal reset: export NETLAB_IMAGE_PREFIX = $(IMAGE_PREFIX)
up down logs ps clean shape partition heal reset: export NETLAB_TAG = $(TAG)
shape partition heal reset: export COMPOSE_PROJECT_NAME = $(PROJECT)

# testcontainers on a machine without a registry, inside a container.
export TESTCONTAINERS_RYUK_DISABLED ?= true
export TESTCONTAINERS_HOST_OVERRIDE ?= localhost
# Classic builder: there may be no buildx plugin.
export DOCKER_BUILDKIT := 0
export GOTOOLCHAIN := local

# Every Go module of the workspace, the service ones (the platform
# included), and those that must also build outside the workspace.
MODULES     = $(shell go list -m -f '{{.Dir}}')
SVC_MODULES = $(filter $(CURDIR)/services/%,$(MODULES))
ALONE_MODULES = $(SVC_MODULES) $(filter $(CURDIR)/lab,$(MODULES))
BUILDER_STAMP := $(CURDIR)/.build/go-image
RESOLVED_GO_IMAGE = $$(cat $(BUILDER_STAMP))

.PHONY: help
help: ## show this help
	@echo "netlab make targets:"
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-14s %s\n", $$1, $$2}'
	@echo
	@echo "Variables: GO_IMAGE=$(GO_IMAGE) TAG=$(TAG) PROJECT=$(PROJECT) COMPOSE='$(COMPOSE)'"

## ---- stack ----
.PHONY: up
up: service-images ## build the services' images and start the stack; wait until healthy
	@test -n "$(COMPOSE)" || { echo "neither 'docker compose' nor 'docker-compose' is installed" >&2; exit 1; }
	$(COMPOSE_CMD) up -d --no-build --remove-orphans
	@deploy/wait-healthy.sh 90 $$($(COMPOSE_CMD) ps -q)
	@deploy/stack-summary.sh $(PROJECT) "$(COMPOSE_CMD)"

.PHONY: down
down: ## stop the stack and remove its containers and network
	@test -n "$(COMPOSE)" || { echo "neither 'docker compose' nor 'docker-compose' is installed" >&2; exit 1; }
	@# Shaper sidecars (netlab shape with a delay or --for) share a target's
	@# network namespace and carry no compose labels: compose leaves them.
	@ids=$$(docker ps -aq --filter label=$(SHAPER_LABEL)=$(PROJECT)); [ -z "$$ids" ] || docker rm -f $$ids >/dev/null
	$(COMPOSE_CMD) --profile tools --profile shaper down --volumes --remove-orphans

.PHONY: logs
logs: ## follow the stack's logs
	$(COMPOSE_CMD) logs -f --tail 100

.PHONY: ps
ps: ## show the stack's containers and their health
	$(COMPOSE_CMD) ps

## ---- Docker Swarm ----
# The stack's name on Swarm: its services are $(STACK)_<service>, its
# overlay network $(STACK)_netlab.
STACK         ?= netlab
# 1: make this engine a single-node swarm when it is in none (make swarm-up).
SWARM_INIT    ?= 1
# 1: also publish host-mode ports, on every interface (deploy/swarm/publish.yml).
SWARM_PUBLISH ?=

.PHONY: swarm-up
swarm-up: service-images ## deploy the stack on Docker Swarm with the images make images built, no registry (STACK=netlab; SWARM_PUBLISH=1 publishes ports on every interface)
	@NETLAB_IMAGE_PREFIX=$(IMAGE_PREFIX) NETLAB_TAG=$(TAG) SWARM_INIT=$(SWARM_INIT) SWARM_PUBLISH=$(SWARM_PUBLISH) \
		deploy/swarm/up.sh $(STACK)

.PHONY: swarm-down
swarm-down: ## remove the Swarm stack: its services, network and peer volumes (the swarm stays: docker swarm leave --force)
	@deploy/swarm/down.sh $(STACK)

## ---- impairments (the stack from make up) ----
.PHONY: shape
shape: bin/netlab shaper-image ## impair a container's traffic: make shape TARGET=peer-2 ARGS="--delay 50ms --loss 2%" (--show, --reset, --for 30s)
	@test -n "$(TARGET)" || { echo 'shape: TARGET=<service or replica> is required, e.g. make shape TARGET=peer-2 ARGS="--delay 50ms"' >&2; exit 2; }
	bin/netlab shape $(TARGET) $(ARGS)

.PHONY: partition
partition: bin/netlab shaper-image ## cut containers off each other: make partition TARGETS="peer-1 peer-2" (or ARGS="peer-1 --from-all")
	bin/netlab partition $(TARGETS) $(ARGS)

.PHONY: heal
heal: bin/netlab shaper-image ## remove partitions: make heal (every one) or make heal TARGETS=peer-1
	bin/netlab heal $(TARGETS)

.PHONY: reset
reset: bin/netlab shaper-image ## remove every impairment netlab set in the stack: qdiscs, nft tables, delayer sidecars
	bin/netlab reset

## ---- build ----
.PHONY: build
build: bin/netlab ## compile every service and client, and the lab's netlab command, into ./bin
	@for s in $(SERVICES); do \
		echo "go build services/$$s"; \
		(cd services/$$s && go build -o $(CURDIR)/bin/$$s . && if [ -d cmd ]; then go build -o $(CURDIR)/bin/ ./cmd/...; fi) || exit 1; \
	done

# Phony: go build decides what is out of date.
.PHONY: bin/netlab
bin/netlab: # compile the lab's command (netlab bench, soak, compare, chaos, shape...) into bin/netlab
	@mkdir -p bin
	@echo "go build lab/cmd/netlab"
	@go build -o bin/netlab ./lab/cmd/netlab

.PHONY: builder-image
builder-image: ## find, pull or make the Go builder image (GO_IMAGE)
	@mkdir -p $(dir $(BUILDER_STAMP))
	@deploy/builder-image.sh "$(GO_IMAGE)" > $(BUILDER_STAMP).tmp && mv $(BUILDER_STAMP).tmp $(BUILDER_STAMP)
	@echo "builder image: $$(cat $(BUILDER_STAMP))"

.PHONY: images
images: builder-image ## build every image: one build stage compiles every binary once, then a FROM scratch image per service, and the shaper; a line per step with its time
	@deploy/build-images.sh "$(RESOLVED_GO_IMAGE)" "$(IMAGE_PREFIX)" "$(TAG)" "$(VERSION)" "$(COMMIT)" "$(DATE)" $(SERVICES) shaper
	@$(MAKE) prune-images

.PHONY: service-images shaper-image
service-images: builder-image ## the services' images and the dashboard's, what make up runs (not the shaper)
	@deploy/build-images.sh "$(RESOLVED_GO_IMAGE)" "$(IMAGE_PREFIX)" "$(TAG)" "$(VERSION)" "$(COMMIT)" "$(DATE)" $(SERVICES)
	@$(MAKE) prune-images

shaper-image: builder-image ## the shaper image netlab shape, partition, heal and reset run (built on first use)
	@deploy/build-images.sh "$(RESOLVED_GO_IMAGE)" "$(IMAGE_PREFIX)" "$(TAG)" "$(VERSION)" "$(COMMIT)" "$(DATE)" shaper
	@$(MAKE) prune-images

## ---- checks ----
.PHONY: fmt
fmt: ## format all Go code
	gofmt -w services lab tests deploy

.PHONY: vet
vet: ## go vet every module
	@for m in $(MODULES); do echo "go vet $$m"; (cd $$m && go vet ./...); done

.PHONY: lint
lint: vet ## gofmt check, go vet, staticcheck, and each service module and the lab built on their own (GOWORK=off)
	@out=$$(gofmt -l services lab tests deploy); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@for m in $(MODULES); do echo "staticcheck $$m"; (cd $$m && $(STATICCHECK) ./...); done
	@for m in $(ALONE_MODULES); do echo "GOWORK=off go build $$m"; (cd $$m && GOWORK=off go build ./... && GOWORK=off go vet ./...); done

.PHONY: test
test: builder-image ## everything CI runs: lint, unit tests (-race), end-to-end tests
	@# The images build in the background while lint and unit tests run;
	@# the end-to-end tests then use them as they are.
	@$(MAKE) -j2 checks images
	@$(MAKE) e2e
	@$(MAKE) quickstart-check

.PHONY: checks
checks: # lint, then unit tests
	@$(MAKE) lint
	@$(MAKE) unit

.PHONY: k8s-check
k8s-check: ## the Kubernetes manifests alone: render every overlay, decode strictly, check them against docker-compose.yml (part of unit)
	cd deploy/k8s && go test -count=1 ./...

.PHONY: unit
unit: ## unit tests with -race in every module (e2e skipped)
	@for m in $(MODULES); do echo "go test -race $$m"; (cd $$m && go test -race -short -count=1 ./...); done

.PHONY: e2e
e2e: images ## end-to-end tests on the images `make images` built (the same as `make up` runs), the real compose file, testcontainers
	@mkdir -p $(E2E_ARTIFACTS)
	cd tests && NETLAB_IMAGE_PREFIX=$(IMAGE_PREFIX) NETLAB_TAG=$(TAG) GO_IMAGE=$(RESOLVED_GO_IMAGE) \
		go test -race -count=1 -timeout $(E2E_TIMEOUT) -v -artifacts -outputdir $(E2E_ARTIFACTS) ./...

.PHONY: prune-images
prune-images: # images a rebuild superseded (untagged, labelled netlab); the layer cache stays
	@# Housekeeping: when another build's prune is running, that one does the job.
	@out=$$(docker image prune -f --filter label=org.netlab.project=netlab 2>&1) || \
		case "$$out" in *"prune operation is already running"*) ;; *) echo "$$out" >&2; exit 1;; esac

.PHONY: bench
BENCH_FLAGS ?= -reps 5 -duration 5s
# BENCH_CONTAINERS=1 adds each service's image on a bridge network as a row.
BENCH_CONTAINERS ?=
bench: build bench-tools $(if $(BENCH_CONTAINERS),images) ## installs the anchors it can, then runs each server beside its anchors (plain Go, fortio, socat, nginx, go-httpbin, podinfo, whoami) on loopback: table, docs/benchmarks.md section, chart
	bin/netlab bench -bin bin $(BENCH_FLAGS) $(if $(BENCH_CONTAINERS),-containers -image-prefix $(IMAGE_PREFIX) -image-tag $(TAG)) \
		-doc docs/benchmarks.md -chart docs/benchmarks.png

.PHONY: bench-go
bench-go: ## Go benchmarks of every module, with allocations (hot paths, the 1 GiB peer transfer)
	@for m in $(SVC_MODULES); do echo "go test -bench $$m"; (cd $$m && go test -run '^$$' -bench . -benchmem ./...); done

.PHONY: soak
SOAK_FLAGS ?=
soak: build ## soak on loopback, about 4 min: tcp-echo at 10,000 connections, a UDP flood, slowloris on http-hello, a 10-node peer swarm; figures and checks. SOAK_FLAGS (-only tcp,udp -scale 0.1 -json)
	bin/netlab soak -bin bin $(SOAK_FLAGS)

.PHONY: chaos
chaos: bin/netlab shaper-image ## netlab chaos on the stack of PROJECT: ARGS='pause peer-2 --for 10s' (also unpause kill restart stop start), or ARGS='run timeline.yaml' (--check: plan only)
	@test -n "$(ARGS)" || { echo "chaos: give ARGS='ACTION TARGET [--after D] [--for D]' or ARGS='run FILE' (bin/netlab chaos -h)" >&2; exit 2; }
	@bin/netlab chaos $(ARGS) --project $(PROJECT)

.PHONY: bench-tools
bench-tools: ## install the anchors this machine lacks: socat wrk nginx-light netcat-openbsd iperf3 (apt, as root); fortio, go-httpbin, podinfo, whoami (go install, pinned)
	@# Each Debian package with the command that shows it is installed.
	@need=""; for pair in socat:socat wrk:wrk nginx-light:nginx netcat-openbsd:nc iperf3:iperf3; do \
		command -v "$${pair#*:}" >/dev/null || [ -x "/usr/sbin/$${pair#*:}" ] || need="$$need $${pair%%:*}"; \
	done; \
	if [ -z "$$need" ]; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		echo "bench-tools: installing$$need"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need >/dev/null) \
			|| echo "bench-tools: apt-get failed; make bench skips the anchors it cannot find"; \
	else echo "bench-tools: not root or no apt-get: install$$need yourself (make bench skips what is missing)"; fi
	@command -v fortio >/dev/null || [ -x "$$(go env GOPATH)/bin/fortio" ] \
		|| go install fortio.org/fortio@v1.68.2 || echo "bench-tools: fortio did not install; make bench skips it"
	@# The Go HTTP servers http-hello is measured beside, pinned. podinfo's
	@# tags have no "v": the pseudo-version is its release 6.9.2.
	@command -v go-httpbin >/dev/null || [ -x "$$(go env GOPATH)/bin/go-httpbin" ] \
		|| go install github.com/mccutchen/go-httpbin/v2/cmd/go-httpbin@v2.26.0 \
		|| echo "bench-tools: go-httpbin did not install; make bench reports it missing"
	@command -v podinfo >/dev/null || [ -x "$$(go env GOPATH)/bin/podinfo" ] \
		|| go install github.com/stefanprodan/podinfo/cmd/podinfo@v1.8.1-0.20250910200901-e86405a8674e \
		|| echo "bench-tools: podinfo did not install; make bench reports it missing"
	@# Not command -v: coreutils has a whoami too.
	@[ -x "$$(go env GOPATH)/bin/whoami" ] \
		|| go install github.com/traefik/whoami@v1.11.0 \
		|| echo "bench-tools: whoami did not install (the Go module proxy may refuse it: 403 not available); make bench reports it missing"

.PHONY: fuzz
FUZZTIME      ?= 20s
FUZZ_PARALLEL ?= 1
fuzz: ## every Go fuzz target in turn for FUZZTIME (FUZZ_PARALLEL workers); a summary line each, fails if any does
	@log=$$(mktemp); trap 'rm -f "$$log"' EXIT; failed=0; summary=""; \
	for file in $$(grep -rlE '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' --include='*_test.go' services lab tests | sort); do \
		dir=$$(dirname "$$file"); \
		for name in $$(sed -nE 's/^func (Fuzz[A-Za-z0-9_]*)\(f \*testing\.F\).*/\1/p' "$$file"); do \
			echo "go test -fuzz ^$$name\$$ -fuzztime $(FUZZTIME) ./$$dir"; \
			run() { (cd "$$dir" && go test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -parallel $(FUZZ_PARALLEL) .) >"$$log" 2>&1; }; \
			if run; then result=ok; \
			elif grep -q 'context deadline exceeded' "$$log" && ! grep -q 'Failing input written' "$$log" && run; then \
				result=ok; echo "  $$name: Go's fuzz coordinator ended the first try with 'context deadline exceeded' and no failing input (go.dev/issue/75804, Go < 1.27); the second try passed"; \
			else result=FAIL; failed=1; cat "$$log"; fi; \
			execs=$$(grep -oE 'execs: [0-9]+' "$$log" | tail -1 | cut -d' ' -f2 || true); \
			summary+=$$(printf '%-4s %-28s %-48s %12s execs\n' "$$result" "$$name" "$$dir" "$${execs:-0}")$$'\n'; \
		done; \
	done; \
	echo; echo "fuzz summary (FUZZTIME=$(FUZZTIME), FUZZ_PARALLEL=$(FUZZ_PARALLEL)):"; printf '%s' "$$summary"; \
	exit $$failed

## ---- cleanup ----
.PHONY: clean
clean: ## remove the stack, test leftovers, every netlab image and ./bin
	-$(COMPOSE_CMD) --profile tools --profile shaper down --volumes --remove-orphans 2>/dev/null
	@ids=$$(docker ps -aq --filter label=org.netlab.project=netlab); [ -z "$$ids" ] || docker rm -f $$ids
	@# -a includes the classic builder's intermediate images; children must go
	@# before their parents, so repeat until nothing labelled is left.
	@for pass in 1 2 3 4; do \
		ids=$$(docker images -aq --filter label=org.netlab.project=netlab | sort -u); \
		[ -z "$$ids" ] && break; \
		docker rmi -f $$ids >/dev/null 2>&1 || true; \
	done; \
	left=$$(docker images -aq --filter label=org.netlab.project=netlab); \
	if [ -n "$$left" ]; then echo "could not remove netlab images: $$left" >&2; exit 1; fi
	rm -rf bin .build

## ---- the README's quick start ----
# Peer nodes publish their admin ports from a range, in no fixed order, so
# the README asks these targets for a node's address instead of naming a
# port. Both read the compose labels, which v1 and v2 set alike.
.PHONY: peer-addr
peer-addr: ## print the host address of peer node N's admin API (N=1, 2...), for bin/peerctl --node
	@n="$(or $(N),1)"; case "$$n" in ''|*[!0-9]*|0*) echo "peer-addr: N=$$n: want a node number (1, 2...)" >&2; exit 2;; esac; \
	deploy/stack-addrs.sh $(PROJECT) peer "$$n" 9090 2>/dev/null \
		|| { echo "peer-addr: peer node $$n of compose project $(PROJECT) is not running (make up starts it; make ps lists the nodes)" >&2; exit 1; }

.PHONY: peer-name
peer-name: ## print the container name of peer node N (N=1, 2...), its name on the stack's network
	@n="$(or $(N),1)"; case "$$n" in ''|*[!0-9]*|0*) echo "peer-name: N=$$n: want a node number (1, 2...)" >&2; exit 2;; esac; \
	id=$$(docker ps -q --filter label=com.docker.compose.project=$(PROJECT) --filter label=com.docker.compose.service=peer \
		--filter label=com.docker.compose.container-number="$$n"); \
	[[ -n $$id ]] || { echo "peer-name: peer node $$n of compose project $(PROJECT) is not running (make up starts it; make ps lists the nodes)" >&2; exit 1; }; \
	docker inspect --format '{{.Name}}' $$id | sed 's|^/||'

.PHONY: quickstart-check
quickstart-check: ## run the README's quick start command by command on a stack of its own (project netlab, the README's ports), then take it down; refuses to run while that stack is up
	@tests/quickstart-check.sh README.md
