// Execution of the vdpbf16ps prefill variant (bf16 math, pair
// layouts; Sq = 40 pads the 48-row block, Skv = 70 leaves a 6-key tile)
// against the reference lowering of the same bf16-math op, at the bf16
// tolerance of quantkv-run (4e-2 absolute + relative).
// REQUIRES: quantkv-run, avx512_bf16
// RUN: quantkv-run %s --entry dot --pipeline "quantkv-lower-to-x86{prefill-bf16-dot=on}" --against "" --rtol 4e-2 --atol 4e-2 | FileCheck %s
// CHECK: PASS
// CHECK: outputs match

func.func @dot(%q: tensor<1x2x40x64xf32>, %k: tensor<1x1x70x64xsi4>,
               %ks: tensor<1x1x70x2xf32>, %v: tensor<1x1x70x64xsi4>,
               %vs: tensor<1x1x70x2xf32>) -> tensor<1x2x40x64xf32> {
  %init = tensor.empty() : tensor<1x2x40x64xf32>
  %o = quantkv.sdpa q(%q : tensor<1x2x40x64xf32>)
      k(%k : tensor<1x1x70x64xsi4>) k_scale(%ks : tensor<1x1x70x2xf32>)
      v(%v : tensor<1x1x70x64xsi4>) v_scale(%vs : tensor<1x1x70x2xf32>)
      outs(%init : tensor<1x2x40x64xf32>)
      {key_quant = #quantkv.per_group<[1, 1, 1, 32]>,
       value_quant = #quantkv.per_group<[1, 1, 1, 32]>,
       causal = #quantkv.causal<top_left>,
       math_mode = #quantkv.math_mode<bf16>}
      : tensor<1x2x40x64xf32>
  return %o : tensor<1x2x40x64xf32>
}
