#!/usr/bin/env bash
# The service's concurrency tests with ThreadSanitizer: `autodisc` built with -fsanitize=thread in its
# own build directory, then the integration tests that run services against that binary: every
# Serve* test (worker threads, the hashing pool, the store poller, reloads, drains, limits), the
# directory tests whose services follow the directory's change stream (its own thread), and a
# service killed under load. Every report goes to a file; any report fails the run and
# is printed. `make test` runs it.
#   scripts/tsan.sh [TEST_BUILD_DIR]      the build whose integration tests are run (default build)
#   AUTODISC_TSAN_BUILD=DIR               the TSan build directory (default build-tsan)
#   AUTODISC_TSAN_FILTER=PATTERN          a gtest filter instead of the default
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
tests=$(cd "${1:-$here/build}" && pwd)/autodisc_integration_tests
build=${AUTODISC_TSAN_BUILD:-$here/build-tsan}
filter=${AUTODISC_TSAN_FILTER:-'Serve*:Directory.ContentSynchronisation*:Directory.TwoServices*:Directory.AServiceStarts*:Faults.AServiceKilled*'}
[ -x "$tests" ] || { echo "tsan.sh: $tests is not built (make build first)" >&2; exit 1; }
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAUTODISC_SANITIZE=thread \
    -DAUTODISC_BUILD_BENCH=OFF > /dev/null
fi
cmake --build "$build" --target autodisc > "$build/tsan-build.log" 2>&1 || { cat "$build/tsan-build.log"; exit 1; }
reports=$(mktemp -d "${TMPDIR:-/tmp}/autodisc-tsan.XXXXXX")
trap 'rm -rf "$reports"' EXIT
status=0
AUTODISC_BIN="$build/autodisc" TSAN_OPTIONS="log_path=$reports/report second_deadlock_stack=1" \
  "$tests" --gtest_filter="$filter" --gtest_brief=1 > "$reports/tests.log" 2>&1 || status=$?
if [ "$status" != 0 ]; then
  cat "$reports/tests.log"
  echo "tsan.sh: the tests failed against the ThreadSanitizer build" >&2
  exit 1
fi
found=$(find "$reports" -name 'report.*' | wc -l)
if [ "$found" != 0 ]; then
  cat "$reports"/report.*
  echo "tsan.sh: ThreadSanitizer reported $found time(s) (above)" >&2
  exit 1
fi
echo "tsan: $(grep -o '[0-9]* tests\? from [0-9]* test suites\? ran.*' "$reports/tests.log" | tail -1), no report"
