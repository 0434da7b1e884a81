//===- Npy.h - .npy and manifest writers for dumps --------------*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Writes tensors as NumPy .npy files (format version 1.0) in the storage ABI:
// 4-bit data packed (dtype uint8, last dim halved), s8 as int8, u8 as uint8,
// s32 as int32, f16 as float16, bf16 as uint16 bit patterns, f32 as float32.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_TESTING_NPY_H
#define QUANTKV_TESTING_NPY_H

#include "quantkv/Testing/Numerics.h"

#include <string>
#include <vector>

namespace mlir::quantkv::testing {

/// The numpy dtype string of the stored form of `kind` ("<f4", "|u1", ...).
const char *npyDescr(ElementKind kind);

/// Writes `tensor` (its storage bytes and storage shape) to `path`.
/// Returns "" on success, else a one-line error.
std::string writeNpy(const std::string &path, const HostTensor &tensor);

/// Writes a float64 array.
std::string writeNpy(const std::string &path, const std::vector<double> &data,
                     const std::vector<int64_t> &shape);

/// Escapes `text` as a JSON string literal (with the quotes).
std::string jsonString(const std::string &text);

} // namespace mlir::quantkv::testing

#endif // QUANTKV_TESTING_NPY_H
