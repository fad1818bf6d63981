#!/usr/bin/env bash
# The libFuzzer targets of tests/fuzz/ (the parsers of untrusted bytes), built with clang, ASan and
# UBSan in their own build directory, each run over its committed seed corpus (tests/fuzz/corpus/NAME)
# for a bounded, repeatable number of inputs (a fixed seed). `make test` runs it; a crash fails it,
# and the crashing input is left in the printed directory (add it to the corpus with the fix).
#   scripts/fuzz.sh [RUNS]     inputs per target (default 20000); 0: build only
#   AUTODISC_FUZZ_BUILD=DIR    the build directory (default build-fuzz)
#   scripts/fuzz.sh 0 && build-fuzz/fuzz_pox -max_total_time=600 tests/fuzz/corpus/pox   # a longer run by hand
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${AUTODISC_FUZZ_BUILD:-$here/build-fuzz}
runs=${1:-20000}
targets=(pox soap json http shell names)
cxx=$(command -v clang++-16 || command -v clang++ || true)
cc=$(command -v clang-16 || command -v clang || true)
[ -n "$cxx" ] || { echo "fuzz.sh: clang is not installed (Debian packages clang-14 libclang-rt-14-dev)" >&2; exit 1; }
if [ ! -f "$build/build.ninja" ]; then
  CXX=$cxx CC=$cc cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAUTODISC_FUZZ=ON \
    -DAUTODISC_WERROR=OFF -DAUTODISC_BUILD_BENCH=OFF -DBUILD_TESTING=OFF \
    -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -Wno-macro-redefined -D__cpp_concepts=202002L" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" > /dev/null
fi
cmake --build "$build" --target "${targets[@]/#/fuzz_}" > "$build/fuzz-build.log" 2>&1 || { cat "$build/fuzz-build.log"; exit 1; }
[ "$runs" = 0 ] && exit 0
failed=0
for t in "${targets[@]}"; do
  work=$(mktemp -d "${TMPDIR:-/tmp}/autodisc-fuzz-$t.XXXXXX")
  if (cd "$work" && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "$build/fuzz_$t" -runs="$runs" -seed=1 -max_len=8192 \
        -timeout=10 -rss_limit_mb=2048 "$work" "$here/tests/fuzz/corpus/$t" > "$work/log" 2>&1); then
    echo "fuzz_$t: $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$work/log" | tail -1), no crash"
    rm -rf "$work"
  else
    echo "fuzz_$t: FAILED; the log and the input are in $work" >&2
    tail -40 "$work/log" >&2
    failed=1
  fi
done
exit "$failed"
