#!/usr/bin/env bash
# Sets up and builds quantkv (see setup.sh), then runs the main job: a
# compressed-K/V SDPA through the compiler.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh" >/dev/null
build="${QUANTKV_BUILD_DIR:-$root/build}"
bin="$build/bin"

echo "== parse, verify and print: s4 K (per-group 32), u8 V (per-channel), GQA 4, causal"
"$bin/quantkv-opt" "$root/examples/decode_s4k_u8v_gqa4_causal.mlir"
