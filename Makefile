# syncreport — see README.md. `make help` lists the targets.
SHELL := bash
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
IMAGE ?= ghcr.io/syncreport/syncreport:$(VERSION)
LDFLAGS := -s -w -X main.version=$(VERSION)
# Test cluster binaries (etcd, kube-apiserver, kubectl, helm), built once per machine from the Go module proxy.
TOOLS_BIN = $(shell hack/tools/install.sh)
FUZZTIME ?= 10s

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN{FS=":.*## "} /^[a-zA-Z_-]+:.*## /{printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build the hook binary into bin/hook (static, stripped).
	CGO_ENABLED=0 go build -trimpath -ldflags="$(LDFLAGS)" -o bin/hook ./cmd/hook

.PHONY: tools
tools: ## Build/cache etcd, kube-apiserver, kubectl and helm for the tests.
	@hack/tools/install.sh

.PHONY: lint
lint: ## gofmt and go vet (test/e2e is its own module: vetted by e2e).
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	go vet ./...

.PHONY: test
test: lint ## Run every test: unit, golden, real kube-apiserver end-to-end, chart tests, real Argo CD end-to-end, fuzz.
	SYNCREPORT_TOOLS_BIN=$(TOOLS_BIN) go test -count=1 -timeout 40m ./...
	$(MAKE) e2e
	$(MAKE) fuzz FUZZTIME=$(FUZZTIME)

.PHONY: e2e
e2e: ## Syncs under a real Argo CD (own module test/e2e; needs git and redis-server; one-time builds ~15 min).
	hack/tools/install-e2e.sh >/dev/null
	cd test/e2e && go vet ./... && go test -count=1 -timeout 60m ./...

# Every fuzz target, as package:Target. Seeds run in `go test` too; this explores.
FUZZ_TARGETS := ./internal/report:FuzzRender ./internal/argocd:FuzzDecode ./internal/recipients:FuzzCollect \
	./internal/notify:FuzzClassify ./internal/health:FuzzPodCause ./internal/argocdapi:FuzzRevisionMetadata

# -fuzzminimizetime bounds the minimisation of new inputs: on a busy machine
# an unbounded one can outlast -fuzztime and fail with "context deadline exceeded".
.PHONY: fuzz
fuzz: ## Run each fuzz target for FUZZTIME (default 10s).
	@set -e; for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; name=$${t##*:}; \
	  if go test -list "^$$name$$" $$pkg | grep -qx "$$name"; then \
	    echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
	    go test -run='^$$' -fuzz="^$$name$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=1s $$pkg; \
	  else echo "fuzz target $$name missing in $$pkg"; exit 1; fi; \
	done

.PHONY: demo
demo: ## Start a local embedded cluster, load sample apps, run `hook report` against each (stdout notifier).
	SYNCREPORT_TOOLS_BIN=$(TOOLS_BIN) go run ./test/demo

.PHONY: bench
bench: ## Benchmarks (hook wall time, render cost, RSS, binary size); figures go in BENCHMARKS.md.
	SYNCREPORT_TOOLS_BIN=$(TOOLS_BIN) SYNCREPORT_BENCH=1 go test -run='^$$' -bench=. -benchmem -count=1 -timeout 40m ./...

.PHONY: image
image: ## Build the container image (needs a Docker engine; none on the dev machines).
	docker build --build-arg VERSION=$(VERSION) -t $(IMAGE) .
