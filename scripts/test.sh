#!/usr/bin/env bash
# Sets up and builds quantkv (see setup.sh), then runs every test: the lit
# suite (FileCheck, -verify-diagnostics, execution) and the GoogleTest unit
# tests. Ends with one line "N passed, N failed".
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh" || { echo "quantkv: build failed"; exit 1; }
if [[ "${QUANTKV_SANITIZE:-0}" == 1 ]]; then
  build="${QUANTKV_BUILD_DIR:-$root/build-asan}"
else
  build="${QUANTKV_BUILD_DIR:-$root/build}"
fi

status=0
echo "== lit"
lit_out="$build/lit-results.txt"
/usr/lib/llvm-22/bin/lit -sv --time-tests "$build/test" | tee "$lit_out" || status=1
# lit's closing summary: "  Passed: N (..%)", "  Failed: N (..%)", ...
lit_count() {
  sed -nE "s/^ *$1: +([0-9]+).*/\1/p" "$lit_out" | head -1
}
lit_pass=$(( $(lit_count Passed || true) + $(lit_count 'Expectedly Failed' || true) + 0 ))
lit_fail=$(( $(lit_count Failed || true) + $(lit_count 'Unexpectedly Passed' || true) + $(lit_count Unresolved || true) + $(lit_count 'Timed Out' || true) + 0 ))
lit_skip=$(( $(lit_count Unsupported || true) + 0 ))

echo "== unit tests"
ctest_out="$build/ctest-results.txt"
(cd "$build" && ctest --output-on-failure -j2) | tee "$ctest_out" || status=1
ut_fail=$(sed -nE 's/.* tests passed, ([0-9]+) tests failed out of ([0-9]+)/\1/p' "$ctest_out")
ut_total=$(sed -nE 's/.* tests passed, ([0-9]+) tests failed out of ([0-9]+)/\2/p' "$ctest_out")
ut_fail=${ut_fail:-0}
ut_pass=$(( ${ut_total:-0} - ut_fail ))
[[ -n "${ut_total:-}" ]] || { echo "quantkv: ctest printed no summary"; status=1; }

passed=$((lit_pass + ${ut_pass:-0}))
failed=$((lit_fail + ${ut_fail:-0}))
echo
echo "lit: $lit_pass passed, $lit_fail failed, $lit_skip unsupported; unit: ${ut_pass:-0} passed, ${ut_fail:-0} failed"
echo "$passed passed, $failed failed"
[[ $failed == 0 && $status == 0 ]]
