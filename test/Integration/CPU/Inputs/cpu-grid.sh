#!/bin/sh
# The reference grid's axes (types, zero points, granularities, masks, GQA),
# reduced to one Skv/Sq pair, run with quantkv-run sdpa --target cpu --check.
# Prints one line per failure and "N passed, M failed". Arguments: the
# quantkv-run command (lit may prefix it, e.g. with a time limit).
pass=0
fail=0
for t in s4 u8; do for zp in off on; do
for g in per_tensor per_channel gd gs; do for m in none causal explicit; do
for gqa in 1 4; do
  args="--batch 1 --q-heads $((2 * gqa)) --kv-heads 2 --q-len 3 --kv-len 64"
  args="$args --head-dim 32 --k-type $t --v-type $t --mask $m"
  for kv in k v; do
    case $g in
      per_tensor) args="$args --$kv-quant per_tensor" ;;
      per_channel) args="$args --$kv-quant per_channel" ;;
      gd) args="$args --$kv-group 16" ;;
      gs) args="$args --$kv-group-shape 1,1,16,1" ;;
    esac
    [ $zp = on ] && args="$args --$kv-zp"
  done
  if "$@" sdpa $args --target cpu --check 2>&1 | grep -q ': PASS'; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL: $args"
  fi
done; done; done; done; done
echo "$pass passed, $fail failed"
