//===- Sdpa.h - SDPA data, MLIR emission and f64 reference ------*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// What a tool needs to check a compiled quantkv.sdpa:
//
//   SdpaData data = generateSdpaData(config);        // seeded, storage ABI
//   std::string mlir = emitSdpaModule(config);       // func.func @sdpa
//   ... compile, call @sdpa with data.inputs() then an output buffer ...
//   std::vector<double> ref = referenceSdpa(config, data);
//   ErrorStats err = compareWithReference(out, ref, toleranceFor(config.math));
//
// The reference is plain loops over the formulas of DESIGN.md reading the
// stored integers, scales and zero points, in double precision: it checks the
// compiler, not the quantization error (both sides see the same integers).
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_TESTING_SDPA_H
#define QUANTKV_TESTING_SDPA_H

#include "quantkv/Testing/Numerics.h"
#include "quantkv/Testing/SdpaConfig.h"

#include <string>
#include <vector>

namespace mlir::quantkv::testing {

/// The inputs of one SDPA problem, each in the storage ABI. Absent operands
/// (zero points of symmetric schemes, scales of float caches, the mask) are
/// empty tensors.
struct SdpaData {
  HostTensor query;
  HostTensor key, keyScale, keyZeroPoint;
  HostTensor value, valueScale, valueZeroPoint;
  HostTensor mask;

  /// The present inputs in the argument order of emitSdpaModule's @sdpa:
  /// q, k, k_scale?, k_zero_point?, v, v_scale?, v_zero_point?, mask?.
  std::vector<const HostTensor *> inputs() const;
  /// Their names in the same order ("q", "k", "k_scale", ...).
  std::vector<std::string> inputNames() const;
};

/// Generates seeded data: Q, K, V uniform in [-1, 1); K and V quantized with
/// their schemes (scales, and zero points when asked, computed per group from
/// the data: symmetric scale = max|x| / qmax, asymmetric scale =
/// (max - min) / (qmax - qmin) and zp = round(qmin - min / scale)); the mask
/// uniform in [-1, 0) with about one entry in eight -inf.
SdpaData generateSdpaData(const SdpaConfig &config);

/// The MLIR text of a module with
///   func.func @sdpa(%q, %k, %k_scale?, %k_zp?, %v, %v_scale?, %v_zp?,
///                   %mask?) -> tensor<B x Hq x Sq x Dv x f32>
/// holding one quantkv.sdpa with static shapes and the config's attributes.
std::string emitSdpaModule(const SdpaConfig &config);

/// The double-precision reference output [B, Hq, Sq, Dv], row-major.
/// Math modes are modelled as quantkv.sdpa defines them: bf16/f16 round Q,
/// K' and the softmax probabilities to that type; int8 quantizes each Q row
/// symmetrically to [-127, 127] (scale max|q| / 127, in f32). A row whose
/// keys are all masked out yields zeros.
std::vector<double> referenceSdpa(const SdpaConfig &config,
                                  const SdpaData &data);

/// Dequantized value of the element at logical position `i` of a cache
/// operand stored with `scheme` (the identity for float caches).
double dequantizeElement(const QuantScheme &scheme, const HostTensor &data,
                         const HostTensor &scale, const HostTensor &zeroPoint,
                         int64_t i);

} // namespace mlir::quantkv::testing

#endif // QUANTKV_TESTING_SDPA_H
