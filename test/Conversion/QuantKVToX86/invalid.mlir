// RUN: quantkv-opt %s --quantkv-lower-to-x86="kv-tile=0" -verify-diagnostics

// expected-error @below {{kv-tile must be positive, got 0}}
module {
  func.func @f() {
    return
  }
}
