#!/usr/bin/env bash
# Runs one fuzz target for a bounded time (what `ninja fuzz` does).
#
#   run-fuzz.sh FUZZER WORK_DIR [SEEDS_DIR]
#   QUANTKV_FUZZ_SECONDS  total run time (default 60)
#   QUANTKV_FUZZ_ARGS     extra libFuzzer flags (e.g. -seed=1 -jobs=2)
#
# The growing corpus is kept in WORK_DIR/corpus (so a later run starts where
# the last one ended) and crashing inputs go to WORK_DIR/artifacts/. Exits
# non-zero when libFuzzer found a crash, a leak, a timeout or an OOM.
set -euo pipefail

fuzzer="$1" work="$2" seeds="${3:-}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
seconds="${QUANTKV_FUZZ_SECONDS:-60}"
mkdir -p "$work/corpus" "$work/artifacts"

# Uninstrumented libMLIR allocates caches that live until exit: leak checks
# would only report those. UBSan stops at the first report.
# allow_user_poisoning=0: see scripts/test.sh (BumpPtrAllocator slabs shared
# by instrumented quantkv code and the uninstrumented libMLIR).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1:allow_user_poisoning=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# MLIR text seeds come with the dialect's tokens; a target without seeds
# (quantkv-fuzz-ops) starts from the empty input.
# A choice-stream target gets its whole input length from the start (libFuzzer
# otherwise grows it from a few bytes, which leaves every later choice 0).
if [[ -n "$seeds" ]]; then
  extra=(-max_len=4096 -dict="$here/quantkv.dict" "$work/corpus" "$seeds")
else
  extra=(-max_len=256 -len_control=0 "$work/corpus")
fi

# shellcheck disable=SC2086
exec "$fuzzer" \
  -max_total_time="$seconds" \
  -timeout=20 -rss_limit_mb=4096 \
  -artifact_prefix="$work/artifacts/" \
  -print_final_stats=1 \
  ${QUANTKV_FUZZ_ARGS:-} \
  "${extra[@]}"
