#!/usr/bin/env bash
# Installs what quantkv needs on Debian 12 (only what is missing), then
# configures and builds it. Idempotent: a second run installs nothing and
# rebuilds only what changed.
#
#   QUANTKV_BUILD_DIR   build directory (default: build)
#   QUANTKV_SANITIZE=1  build with ASan + UBSan (into build-asan by default)
#   QUANTKV_BUILD_TARGETS  ninja targets to build (default: all)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ "${QUANTKV_SANITIZE:-0}" == 1 ]]; then
  build="${QUANTKV_BUILD_DIR:-$root/build-asan}"
else
  build="${QUANTKV_BUILD_DIR:-$root/build}"
fi

packages=(
  clang-22 llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools libomp-22-dev
  libclang-rt-22-dev
  cmake ninja-build libgtest-dev libbenchmark-dev libdnnl-dev
  spirv-tools libvulkan-dev mesa-vulkan-drivers vulkan-tools
  python3-dev pybind11-dev python3-numpy python3-pytest
  zlib1g-dev libzstd-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
    missing+=("$p")
done
if ((${#missing[@]})); then
  echo "quantkv: installing ${missing[*]}"
  sudo=""
  [[ $(id -u) == 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
fi

cmake_args=(
  -G Ninja -S "$root" -B "$build"
  -DCMAKE_BUILD_TYPE=Release
  -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22
  -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir
  -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit
  -DPython3_EXECUTABLE=/usr/bin/python3
)
[[ "${QUANTKV_SANITIZE:-0}" == 1 ]] && cmake_args+=(-DQUANTKV_ENABLE_SANITIZERS=ON)
if [[ ! -f "$build/build.ninja" ]]; then
  cmake "${cmake_args[@]}" >/dev/null
fi
# shellcheck disable=SC2086
ninja -C "$build" ${QUANTKV_BUILD_TARGETS:-all}
