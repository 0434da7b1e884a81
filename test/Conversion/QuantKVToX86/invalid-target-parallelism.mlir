// RUN: quantkv-opt %s --quantkv-lower-to-x86="target-parallelism=-2" -verify-diagnostics

// expected-error @below {{target-parallelism must be 0 (the host's) or positive, got -2}}
module {
  func.func @f() {
    return
  }
}
