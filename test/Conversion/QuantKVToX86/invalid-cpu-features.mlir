// RUN: quantkv-opt %s --quantkv-lower-to-x86="cpu-features=+gfni,avx512vbmi" -verify-diagnostics

// expected-error @below {{cpu-features: expected '+feature' or '-feature', got 'avx512vbmi'}}
module {
  func.func @f() {
    return
  }
}
