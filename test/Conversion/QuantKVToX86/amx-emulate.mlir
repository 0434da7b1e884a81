// quantkv-emulate-amx (testing): the AMX item's tile ops become scalar loops
// over entry-block scratch and the CPU query becomes 1, so the AMX variant
// runs on CPUs without AMX.
// RUN: quantkv-opt %s --quantkv-lower-to-x86="enable-amx=true" --quantkv-emulate-amx \
// RUN:   | FileCheck %s --implicit-check-not=amx.tile --implicit-check-not="call @quantkv_cpu_has_amx"

// CHECK-LABEL: func.func private @sdpa_sdpa_item_amx(
// Tile scratch: A (2 x 32 bf16), B (16 x 32 bf16), C (2 x 16 f32).
// CHECK-DAG:     memref.alloca() : memref<2x32xbf16>
// CHECK-DAG:     memref.alloca() : memref<16x32xbf16>
// CHECK-DAG:     memref.alloca() : memref<2x16xf32>
// tdpbf16ps: two bf16 products per f32 lane.
// CHECK:         arith.extf {{.*}} : bf16 to f32
// CHECK:         math.fma
// CHECK:         arith.extf {{.*}} : bf16 to f32
// CHECK:         math.fma
// CHECK-LABEL: func.func @sdpa(
// CHECK:         %[[ONE:.+]] = arith.constant 1 : i32
// CHECK:         %[[USE:.+]] = arith.cmpi ne, %[[ONE]], %{{.+}} : i32
// CHECK:         scf.if %[[USE]]
func.func @sdpa(%q: tensor<1x4x1x64xf32>, %k: tensor<1x2x256x64xsi4>,
                %ks: tensor<1x2x256x2xf32>, %v: tensor<1x2x256x64xsi4>,
                %vs: tensor<1x2x256x2xf32>) -> tensor<1x4x1x64xf32> {
  %init = tensor.empty() : tensor<1x4x1x64xf32>
  %o = quantkv.sdpa q(%q : tensor<1x4x1x64xf32>)
      k(%k : tensor<1x2x256x64xsi4>) k_scale(%ks : tensor<1x2x256x2xf32>)
      v(%v : tensor<1x2x256x64xsi4>) v_scale(%vs : tensor<1x2x256x2xf32>)
      outs(%init : tensor<1x4x1x64xf32>)
      {key_quant = #quantkv.per_group<[1, 1, 1, 32]>,
       value_quant = #quantkv.per_group<[1, 1, 1, 32]>,
       math_mode = #quantkv.math_mode<bf16>}
      : tensor<1x4x1x64xf32>
  return %o : tensor<1x4x1x64xf32>
}
