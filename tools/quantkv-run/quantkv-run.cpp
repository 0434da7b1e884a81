//===- quantkv-run.cpp - compile, run and check quantkv code --------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
//   quantkv-run sdpa [flags]           one SDPA configuration
//   quantkv-run grid [flags]           a cartesian grid of them, one process
//   quantkv-run FILE.mlir --entry F    a function on seeded random inputs
//
// Exit codes: 0 success, 1 a check out of tolerance, 2 bad input or an
// unavailable target (always one line on stderr, never a crash).
//
//===----------------------------------------------------------------------===//

#include "Commands.h"

#include <iostream>

using namespace quantkv_run;

static const char kHelp[] =
    R"(quantkv-run: compile and run quantkv code on the CPU and check it

USAGE
  quantkv-run sdpa [options]            generate, compile, run one SDPA
  quantkv-run grid [options]            run a grid of SDPA checks (see below)
  quantkv-run FILE.mlir --entry NAME [--pipeline P] [--against P2]
              [--seed N] [--rtol R] [--atol A] [--opt-level N] [--print-inputs]

SDPA OPTIONS (quantkv-run sdpa)
)";

static const char kHelpTool[] =
    R"(  --target reference|cpu|spirv          reference = quantkv-reference-pipeline
                                        cpu = quantkv-cpu-pipeline
  --check                               compare with the f64 C++ reference
  --repeat N                            run N times, report the median time
  --json                                one machine-readable JSON line
  --dump DIR                            write inputs/outputs as .npy + manifest.json
  --opt-level N                         JIT optimization level 0-3 (default 2)
  --print-mlir                          print the generated module and exit
  --amx                                 (cpu) also compile the AMX kernel variant
                                        (bf16 math); prints which variant runs
                                        (QUANTKV_DISABLE_AMX=1 forces avx512)
  --emulate-amx                         (testing) --amx, running the AMX variant
                                        with its tile ops emulated by scalar
                                        loops on any CPU

TOLERANCE (--check): an element passes when |out - ref| <= atol + rtol*|ref|
  math f32:  atol 1e-4, rtol 1e-4   (f32 arithmetic against f64)
  math f16:  atol 5e-3, rtol 5e-3   (Q, K', P rounded to f16)
  math bf16: atol 4e-2, rtol 4e-2   (Q, K', P rounded to bf16)
  math int8: atol 1e-3, rtol 1e-3   (Q quantized per row identically on both sides)
  The reference reads the same stored integers, scales and zero points: it
  checks the compiler, not the quantization error.

GRID OPTIONS (quantkv-run grid)
  --types s4,u4,s8,u8   --v-types (default: V as K)   --zp off,on   --granularities per_tensor,per_channel,
  per_group_d,per_group_s   --masks none,causal,explicit   --gqa 1,4
  --kv-lens 1,17,128   --q-lens 1,3   --head-dim 32   --kv-heads 2
  --math f32   --k-layout bsd   --causal-align bottom_right   --seed N
  --opt-level 0   --target reference|cpu   --quiet (print failures only)
  Sq cycles through --q-lens from one configuration to the next (it does not
  multiply the grid).
  Prints one line per configuration and "N passed, M failed"; exit 1 on a
  failure.

FILE MODE
  Inputs are seeded random values derived only from the argument types and
  --seed (integers uniform over their range, floats uniform in [-1, 1)),
  stored in the storage ABI (4-bit packed). --pipeline runs passes before the
  reference pipeline; --against P2 runs the module again with P2 instead and
  compares the outputs (exit 1 out of tolerance, default atol = rtol = 1e-4).

EXIT CODES: 0 ok, 1 check failed, 2 bad input / unavailable target.
)";

int main(int argc, char **argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty())
    return usageError("missing command (sdpa, grid or FILE.mlir; see --help)");
  for (const std::string &a : args)
    if (a == "--help" || a == "-h" || a == "-help") {
      std::cout << kHelp << sdpaConfigHelp() << kHelpTool;
      return kExitOk;
    }
  std::string command = args.front();
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (command == "sdpa")
    return runSdpaCommand(rest);
  if (command == "grid")
    return runGridCommand(rest);
  if (command.size() > 5 && command.substr(command.size() - 5) == ".mlir")
    return runFileCommand(command, rest);
  if (command == "-")
    return runFileCommand(command, rest);
  return usageError("unknown command '" + command +
                    "' (expected sdpa, grid or FILE.mlir; see --help)");
}
