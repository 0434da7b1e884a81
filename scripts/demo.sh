#!/usr/bin/env bash
# Sets up and builds quantkv (see setup.sh), then runs the main job: a
# compressed-K/V SDPA through the compiler.
#
#   QUANTKV_DEMO_TARGETS  space-separated quantkv-run targets to compile and
#                         check the demo problem for (default: reference)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh" >/dev/null
build="${QUANTKV_BUILD_DIR:-$root/build}"
bin="$build/bin"

# The demo problem: one decode step of a GQA-4 attention over a 256-token
# cache with an int4 K (one f32 scale per 32 channels of each token) and a
# uint8 V (per-channel scales and zero points), bottom-right causal.
demo_problem=(
  --batch 1 --q-heads 32 --kv-heads 8 --q-len 1 --kv-len 256 --head-dim 128
  --k-type s4 --k-group 32
  --v-type u8 --v-quant per_channel --v-zp
  --mask causal --causal-align bottom_right
)
# Each target compiles and runs the same problem on the same seeded data and
# is checked against the plain C++ f64 reference: "reference" is the linalg
# oracle, "cpu" the fused x86 kernel (quantkv-cpu-pipeline).
read -r -a demo_targets <<< "${QUANTKV_DEMO_TARGETS:-reference cpu}"

echo "== fuse: attention as a framework hands it over (examples/decode_unfused.mlir:"
echo "   dequantize, GQA broadcast, Q.K^T, scale, causal select, softmax, P.V)"
echo "   becomes one quantkv.sdpa:"
"$bin/quantkv-opt" "$root/examples/decode_unfused.mlir" --quantkv-fuse-sdpa

echo
echo "== run the unfused and the fused module on the same seeded inputs"
"$bin/quantkv-run" "$root/examples/decode_unfused.mlir" --entry decode \
  --pipeline quantkv-fuse-sdpa --against "" | tail -n 2

for target in "${demo_targets[@]}"; do
  echo
  echo "== compile, run and check against the f64 reference: target $target"
  "$bin/quantkv-run" sdpa "${demo_problem[@]}" --target "$target" \
    --repeat 5 --check
done

# Speed: the same schemes on a 4096-token cache (rotated over copies larger
# than the last-level cache, so it is read from DRAM), against oneDNN 2.6
# unfused (dequantize + matmul + softmax + matmul) and the machine's measured
# read bandwidth, each result checked against the f64 reference; in f32 math
# and in int8 math (Q and P contracted with the integer cache on VNNI).
echo
echo "== speed: Skv=4096, quantkv vs oneDNN 2.6 unfused vs read bandwidth"
"$bin/quantkv-bench" --shape 1,32,8,1,4096,128 --k s4:g32 --v u8:ch3:zp \
  --mask causal-br --math f32,int8 --threads "${QUANTKV_DEMO_THREADS:-1,2}" --no-naive \
  --bandwidth-mib 512 --json "$build/demo-bench.jsonl" --png "$build/demo-bench.png" \
  --check | sed -E 's/^B=1 .* math=([a-z0-9]+) seed=1 /decode-4096-\1 /'
