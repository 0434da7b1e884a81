//===- Npy.cpp - .npy and manifest writers for dumps ----------------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Testing/Npy.h"

#include <cstdio>
#include <fstream>

using namespace mlir::quantkv::testing;

const char *mlir::quantkv::testing::npyDescr(ElementKind kind) {
  switch (kind) {
  case ElementKind::s4:
  case ElementKind::u4:
  case ElementKind::u8:
    return "|u1";
  case ElementKind::s8:
    return "|i1";
  case ElementKind::s32:
    return "<i4";
  case ElementKind::f16:
    return "<f2";
  case ElementKind::bf16:
    return "<u2";
  case ElementKind::f32:
    return "<f4";
  }
  return "|u1";
}

/// Writes the version 1.0 header and `size` bytes of `data`.
static std::string writeRaw(const std::string &path, const char *descr,
                            const std::vector<int64_t> &shape, const void *data,
                            size_t size) {
  std::string dict = std::string("{'descr': '") + descr +
                     "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i)
    dict += std::to_string(shape[i]) +
            (shape.size() == 1 || i + 1 < shape.size() ? ", " : "");
  dict += "), }";
  // magic (6) + version (2) + header length (2) + dict + '\n', padded to 64.
  size_t total = 10 + dict.size() + 1;
  size_t padded = (total + 63) / 64 * 64;
  dict.append(padded - total, ' ');
  dict += '\n';
  std::ofstream os(path, std::ios::binary);
  if (!os)
    return "cannot write '" + path + "'";
  os.write("\x93NUMPY\x01\x00", 8);
  uint16_t len = static_cast<uint16_t>(dict.size());
  char lenBytes[2] = {static_cast<char>(len & 0xFF),
                      static_cast<char>(len >> 8)};
  os.write(lenBytes, 2);
  os.write(dict.data(), dict.size());
  os.write(static_cast<const char *>(data), size);
  if (!os)
    return "error writing '" + path + "'";
  return "";
}

std::string mlir::quantkv::testing::writeNpy(const std::string &path,
                                             const HostTensor &tensor) {
  return writeRaw(path, npyDescr(tensor.kind), tensor.getStorageShape(),
                  tensor.bytes.data(), tensor.bytes.size());
}

std::string
mlir::quantkv::testing::writeNpy(const std::string &path,
                                 const std::vector<double> &data,
                                 const std::vector<int64_t> &shape) {
  return writeRaw(path, "<f8", shape, data.data(),
                  data.size() * sizeof(double));
}

std::string mlir::quantkv::testing::jsonString(const std::string &text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\u%04x", c);
        out += buf;
      } else {
        out += c;
      }
    }
  }
  return out + "\"";
}
