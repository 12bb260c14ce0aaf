# syncreport — see README.md. `make help` lists the targets.
SHELL := bash
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
IMAGE ?= ghcr.io/syncreport/syncreport:$(VERSION)
LDFLAGS := -s -w -X main.version=$(VERSION)
# Test cluster binaries (etcd, kube-apiserver, kubectl, helm): KUBEBUILDER_ASSETS (setup-envtest) or etcd and
# kube-apiserver on PATH when they are there, else built once per machine from the Go module proxy (~17 min on 2 cores).
# Recursive (=): only the targets that use them run install.sh.
TOOLS_BIN = $(shell hack/tools/install.sh)
CLUSTER_BIN = $(shell hack/tools/install.sh --cluster)
# Fuzz budget: empty = each target's execution count below; a duration (make fuzz FUZZTIME=2m) for longer local runs.
FUZZTIME ?=

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN{FS=":.*## "} /^[a-zA-Z_-]+:.*## /{printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build the hook binary into bin/hook (static, stripped).
	CGO_ENABLED=0 go build -trimpath -ldflags="$(LDFLAGS)" -o bin/hook ./cmd/hook

.PHONY: tools
tools: ## Find (KUBEBUILDER_ASSETS, PATH) or build and cache etcd, kube-apiserver, kubectl and helm for the tests, and mailpit (SMTP).
	@hack/tools/install.sh
	@hack/tools/install-mailpit.sh >/dev/null

.PHONY: lint
lint: ## gofmt and go vet (test/e2e is its own module: vetted by e2e).
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	go vet ./...

.PHONY: test
test: lint ## Run every test: unit, golden, real kube-apiserver end-to-end, chart tests, real Argo CD end-to-end, fuzz.
	SYNCREPORT_TOOLS_BIN=$(TOOLS_BIN) go test -count=1 -timeout 40m ./...
	$(MAKE) e2e
	$(MAKE) fuzz

.PHONY: e2e
e2e: ## Syncs under a real Argo CD (own module test/e2e; needs git and redis-server; one-time builds ~15 min).
	hack/tools/install-e2e.sh >/dev/null
	cd test/e2e && go vet ./... && go test -count=1 -timeout 60m ./...

# The scenarios both syncreport and Argo CD Notifications report on (test/e2e/compare_test.go).
COMPARE_TESTS := ^(TestHealthySync|TestBadImage|TestCrashLoopGate|TestCrashLoopWithoutGate|TestPreSyncHookFails|TestSyncInfoFromCLI|TestAutoSyncRetries|TestStuckProgressing)$$

.PHONY: compare
compare: ## Side by side with Argo CD Notifications: the compared e2e scenarios write test/e2e/testdata/compare.json, then the README/BENCHMARKS tables.
	hack/tools/install-e2e.sh >/dev/null
	cd test/e2e && SYNCREPORT_E2E_COMPARE_OUT=$(CURDIR)/test/e2e/testdata/compare.json go test -count=1 -timeout 30m -run '$(COMPARE_TESTS)' ./...
	go run ./hack/comparetable

# Every fuzz target, as package:Target:executions. Seeds run in `go test` too; this explores.
# The counts are about 10 s each on the 2-core dev machine.
FUZZ_TARGETS := ./internal/report:FuzzRender:50000 ./internal/report:FuzzRenderOutside:50000 ./internal/argocd:FuzzDecode:60000 \
	./internal/recipients:FuzzCollect:120000 ./internal/notify:FuzzClassify:100000 \
	./internal/health:FuzzPodCause:20000 ./internal/argocdapi:FuzzRevisionMetadata:100000 \
	./internal/report:FuzzEmailHTML:30000

# Why counts and not a duration: with -fuzztime=10s Go's fuzz coordinator races
# its own deadline against a worker still running an input and can fail the
# target with a bare "context deadline exceeded" and no failing input
# (golang/go#51484, #75804; it failed CI once). An execution count has no
# deadline. -fuzzminimizetime bounds the minimisation of new inputs.
.PHONY: fuzz
fuzz: ## Run each fuzz target for its execution count (or FUZZTIME, e.g. 2m).
	@set -e; for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; rest=$${t#*:}; name=$${rest%%:*}; budget=$${rest#*:}x; \
	  if [ -n "$(FUZZTIME)" ]; then budget=$(FUZZTIME); fi; \
	  if go test -list "^$$name$$" $$pkg | grep -qx "$$name"; then \
	    echo "fuzz $$pkg $$name ($$budget)"; \
	    go test -run='^$$' -fuzz="^$$name$$" -fuzztime=$$budget -fuzzminimizetime=1s $$pkg; \
	  else echo "fuzz target $$name missing in $$pkg"; exit 1; fi; \
	done

.PHONY: demo
demo: ## Start a local embedded cluster, load sample apps, run `hook report` against each (stdout notifier).
	SYNCREPORT_TOOLS_BIN=$(CLUSTER_BIN) go run ./test/demo

.PHONY: bench
bench: ## Benchmarks (hook wall time, render cost, RSS, binary size); figures go in BENCHMARKS.md.
	SYNCREPORT_TOOLS_BIN=$(TOOLS_BIN) SYNCREPORT_BENCH=1 go test -run='^$$' -bench=. -benchmem -count=1 -timeout 40m ./...

.PHONY: image
image: ## Build the container image (needs a Docker engine; none on the dev machines).
	docker build --build-arg VERSION=$(VERSION) -t $(IMAGE) .
