// RUN: quantkv-opt %s --quantkv-lower-to-x86="cpu=znver9" -verify-diagnostics

// expected-error @below {{cpu: unknown x86 CPU 'znver9' (expected an llc -mcpu name, e.g. znver4)}}
module {
  func.func @f() {
    return
  }
}
