// What the int8 VNNI kernel depends on in the LLVM backend, checked in the
// Zen 4 assembly of a GQA decode (features and core pinned, so the host does
// not matter; the JIT runs the same optimization levels):
// * The s8 Q dwords of the key-column scores are vpdpbusd {1to16} memory
//   operands. Hoisted out of the key loop (LICM) they spill, and every
//   vpdpbusd reloads a 64-byte vector instead (KernelBuilder::zeroVaryingWith).
// * Without GFNI (cpu-features=-gfni) no vgf2p8affineqb appears, even though
//   the core has it: an i8 vector shift would be lowered to one.
// RUN: quantkv-opt %s --quantkv-cpu-pipeline="cpu=znver4 cpu-features=+avx512f,+avx512bw,+avx512dq,+avx512vl,+avx512vnni,+avx512bf16,+avx512vbmi,+gfni" \
// RUN:   | mlir-translate --mlir-to-llvmir | opt -O3 | llc -O3 -mcpu=znver4 -o %t.gfni.s
// RUN: FileCheck %s --check-prefix=BCAST < %t.gfni.s
// RUN: FileCheck %s --check-prefix=NORELOAD < %t.gfni.s
// RUN: FileCheck %s --check-prefix=GFNI < %t.gfni.s
// RUN: quantkv-opt %s --quantkv-cpu-pipeline="cpu=znver4 cpu-features=+avx512f,+avx512bw,+avx512dq,+avx512vl,+avx512vnni,+avx512bf16,+avx512vbmi,-gfni" \
// RUN:   | mlir-translate --mlir-to-llvmir | opt -O3 | llc -O3 -mcpu=znver4 -o %t.nogfni.s
// RUN: FileCheck %s --check-prefix=NOGFNI < %t.nogfni.s

// BCAST-LABEL: gqa_sdpa_item:
// BCAST-COUNT-8: vpdpbusd {{-?[0-9]*}}(%{{[a-z0-9]+}}{{(,%[a-z0-9]+)?}}){1to16}, %zmm{{[0-9]+}}, %zmm{{[0-9]+}}

// NORELOAD-LABEL: gqa_sdpa_item:
// NORELOAD-NOT:   vpdpbusd {{.*}}Folded Reload
// NORELOAD:       .size gqa_sdpa_item,

// GFNI-LABEL: gqa_sdpa_item:
// GFNI:         vgf2p8affineqb

// NOGFNI-LABEL: gqa_sdpa_item:
// NOGFNI-NOT:   vgf2p8affineqb
// NOGFNI:       vpdpbusd
// NOGFNI-NOT:   vgf2p8affineqb
// NOGFNI:       .size gqa_sdpa_item,

func.func @gqa(%q: tensor<1x8x1x128xf32>, %k: tensor<1x2x512x128xsi4>,
               %ks: tensor<1x2x512x4xf32>, %v: tensor<1x2x512x128xsi4>,
               %vs: tensor<1x2x512x4xf32>) -> tensor<1x8x1x128xf32> {
  %init = tensor.empty() : tensor<1x8x1x128xf32>
  %o = quantkv.sdpa q(%q : tensor<1x8x1x128xf32>)
      k(%k : tensor<1x2x512x128xsi4>) k_scale(%ks : tensor<1x2x512x4xf32>)
      v(%v : tensor<1x2x512x128xsi4>) v_scale(%vs : tensor<1x2x512x4xf32>)
      outs(%init : tensor<1x8x1x128xf32>)
      {key_quant = #quantkv.per_group<[1, 1, 1, 32]>,
       value_quant = #quantkv.per_group<[1, 1, 1, 32]>,
       math_mode = #quantkv.math_mode<int8>}
      : tensor<1x8x1x128xf32>
  return %o : tensor<1x8x1x128xf32>
}
