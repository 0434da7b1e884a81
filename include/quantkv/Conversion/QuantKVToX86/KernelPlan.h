//===- KernelPlan.h - tiling plan of the fused SDPA kernel ------*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Every tiling decision of the fused compressed-SDPA kernel lives here, read
// off one quantkv.sdpa and a few target options, so that other emitters (a
// SPIR-V kernel, an embedding API choosing shapes at run time) reuse the same
// decomposition instead of re-deriving it. docs/X86Kernel.md explains the
// plan; the emitters only follow it.
//
// Work decomposition (flash-decoding):
//   items = B x Hkv x rowBlocks x splits, one parallel iteration each.
//   A row block is `rowBlock` consecutive rows of the Hq/Hkv x Sq query rows
//   that share one K/V head (so each K/V row is unpacked once for all of
//   them). A split is `splitLen` consecutive keys; splits > 1 write partial
//   (acc, max, sum) triples that a second parallel loop merges with a
//   log-sum-exp rescale.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_CONVERSION_QUANTKVTOX86_KERNELPLAN_H
#define QUANTKV_CONVERSION_QUANTKVTOX86_KERNELPLAN_H

#include "mlir/IR/Types.h"
#include "mlir/Support/LLVM.h"
#include "quantkv/Dialect/QuantKV/IR/QuantKVOps.h"

#include <array>
#include <optional>
#include <string>

namespace mlir::quantkv {

/// Target knobs of the kernel (pass options and machine facts).
struct X86KernelOptions {
  /// Keys per online-softmax step (a multiple of the vector width).
  int64_t kvTile = 64;
  /// Also emit the AMX variant of the work item (Q.K scores on AMX tiles),
  /// called instead of the AVX-512 one when the CPU running the kernel has
  /// usable AMX (quantkv_cpu_has_amx, see AmxScores.h).
  bool enableAmx = false;
  /// Parallel work items the decomposition aims for (at least the number of
  /// threads the kernel may run on); splits of the KV length make up for
  /// too few batch x head items. The pass sets it from the host (option
  /// target-parallelism).
  int64_t targetParallelism = 32;
  /// Shortest KV split worth its merge.
  int64_t minSplitLen = 256;
  /// The target has AVX-512 F, BW and DQ, which every kernel variant uses
  /// (16-lane f32 vectors, byte packs, vrangeps); without them the fused
  /// kernel declines and the reference lowering runs.
  bool hasAvx512 = true;
  /// The target has AVX512_VNNI (vpdpbusd): int8 math contracts Q with the
  /// integer K directly.
  bool hasVnni = false;
  /// The target has AVX512_BF16 (vdpbf16ps): bf16 math contracts Q.K with it.
  bool hasAvx512Bf16 = false;
  /// The target has AVX512_VBMI (vpermb): the VNNI P x V transposes a V
  /// column with one byte permute (otherwise LLVM lowers a generic shuffle).
  bool hasAvx512Vbmi = false;
  /// The target has GFNI (vgf2p8affineqb): the high nibble plane of int4
  /// codes is one instruction (otherwise a shift and an and).
  bool hasGfni = false;
  /// Most query rows kept in one register block.
  int64_t maxRowBlock = 8;
  /// Vector registers the P x V accumulators may use.
  int64_t accumulatorRegisters = 24;
  /// Query rows per head from which the dedicated prefill kernel (GEMM-style
  /// tiles, see PrefillPlan) replaces the row-block kernel; 0 disables it.
  int64_t prefillMinQueryLen = 16;
  /// Most query rows of one prefill work item, in vectors of 16 rows.
  int64_t prefillRowVectors = 3;
  /// Prefill bf16 math on vdpbf16ps (pair layouts) instead of f32 FMAs on
  /// bf16-rounded values. The pass takes it from the CPU (CpuTuning.h): on
  /// Sapphire Rapids vdpbf16ps zmm issues at 0.5/cycle against 2/cycle for
  /// vfmadd231ps, so the dot product delivers half the flop rate of the f32
  /// FMAs; on Zen 4 both issue at 1/cycle and the dot product doubles it.
  bool prefillBf16Dot = false;
  /// Decode loops prefetch K/V rows (and token-varying scale rows) ahead of
  /// the tile being read; the pass takes it from the CPU (CpuTuning.h).
  bool softwarePrefetch = true;
};

/// Tiling of the dedicated prefill kernel (PrefillKernelEmitter.cpp). A work
/// item is `rows` consecutive query positions of one query head; per tile of
/// keys, K' and V' are dequantized once into f32 scratch and two register
/// blocked microkernels compute S^T = K' Q^T (keys x rows, so the online
/// softmax runs across keys with the rows in vector lanes, no horizontal
/// reductions) and O += P V'.
struct PrefillPlan {
  bool enabled = false;
  /// Why the plan kept the row-block kernel (empty when enabled or when the
  /// shape is not a prefill shape at all).
  std::string declined;
  /// Query rows per work item (rowVectors x 16); the last block of a head is
  /// padded by repeating its last row.
  int64_t rows = 0;
  int64_t rowVectors = 0;
  int64_t numQueryBlocks = 0;
  /// Keys per S^T register block (keyBlock x rowVectors accumulators).
  int64_t keyBlock = 0;
  /// Scratch rows of the K tile and of S^T: kvTile rounded up to keyBlock.
  int64_t tileRows = 0;
  /// P x V register block: pvRows rows x pvVectors value vectors.
  int64_t pvRows = 0;
  int64_t pvVectors = 0;
  /// bf16 math with AVX512_BF16: both products run on vdpbf16ps. Q^T, K',
  /// P^T and V' are kept as bf16 pairs (one f32 lane = 2 products): Q and K'
  /// pair along D, P and V' pair consecutive keys. The softmax scale then
  /// multiplies the scores (Q stays exactly bf16).
  bool bf16Dot = false;

  int64_t getNumItems(int64_t batch, int64_t qHeads) const {
    return batch * qHeads * numQueryBlocks;
  }
};

/// How a cache operand is stored.
enum class CacheStorage { Float, Int8, Int4 };

/// How a cache operand's scale varies along the head dim D for one token.
enum class ScaleAlongD {
  /// One scale per token (per-token, per-head or per-tensor).
  PerRow,
  /// Groups along D are whole vectors: one broadcast scalar per vector.
  PerVector,
  /// Several groups share a vector: the scale vector is expanded.
  PerElement,
};

/// Layout and quantization of K or V as the kernel reads them.
struct CacheOperandPlan {
  CacheStorage storage = CacheStorage::Float;
  bool isSigned = true;
  /// Logical element type (si4, ui8, f16 ...).
  Type elementType;
  bool quantized = false;
  Type scaleType;
  bool hasZeroPoint = false;
  Type zeroPointType;
  /// Zero points stored two per byte along their last dim.
  bool zeroPointPacked = false;
  /// Last dim of the zero-point tensor (to address packed bytes).
  int64_t zeroPointLastDim = 1;
  /// Granularity normalized to 4-d: element (b,h,s,d) uses the scale at
  /// linear index of (x / group[x]) in `scaleShape` (0 where it is 1).
  std::array<int64_t, 4> groupShape = {1, 1, 1, 1};
  std::array<int64_t, 4> scaleShape = {1, 1, 1, 1};
  ScaleAlongD alongD = ScaleAlongD::PerRow;
  /// The scale does not depend on the token: it is folded into Q (K) or
  /// applied after the softmax-weighted sum (V) instead of per element.
  bool tokenInvariant = true;
  /// 4-bit rows are read as two planes instead of in storage order: the
  /// 16 bytes of each 32-element block widen to i32 lanes whose low nibbles
  /// (elements 0, 2, .., 30) and high nibbles (1, 3, .., 31) become two f32
  /// vectors with shifts only, no interleaving shuffle. Vector 2c of a row
  /// then holds the even elements of block c and vector 2c + 1 its odd ones;
  /// the kernel permutes Q (for K) and the accumulators (for V) to match.
  /// Requires a scale that is constant over each 32-element block.
  bool splitNibbles = false;
};

/// The complete tiling and numerics plan of one quantkv.sdpa.
struct KernelPlan {
  // Problem sizes.
  int64_t batch = 0, qHeads = 0, kvHeads = 0, qLen = 0, kvLen = 0;
  int64_t headDim = 0, valueHeadDim = 0;
  /// Hq / Hkv query heads per K/V head.
  int64_t groupSize = 1;
  /// Query rows sharing one K/V head: groupSize x qLen (row = head * Sq + i).
  int64_t rowsPerKVHead = 1;

  // Tiling.
  /// f32 lanes of one vector register (AVX-512).
  int64_t lanes = 16;
  int64_t kvTile = 64;
  int64_t rowBlock = 1;
  int64_t numRowBlocks = 1;
  /// Value vectors (of `lanes`) accumulated per pass over a tile.
  int64_t valueVectorsPerStep = 8;
  /// P x V passes over the tile unpack V once into a kvTile x Dv f32 scratch
  /// (when there are more than two passes).
  bool valueTileInScratch = false;
  int64_t numSplits = 1;
  /// Keys per split (a multiple of kvTile).
  int64_t splitLen = 0;

  // Masking and scaling.
  std::optional<CausalAlignment> causal;
  /// Key j is visible to query i when j <= i + causalOffset.
  int64_t causalOffset = 0;
  bool hasMask = false;
  SmallVector<int64_t> maskShape;
  Type maskType;
  bool dynamicScale = false;
  double softmaxScale = 1.0;

  // Numerics.
  MathMode mathMode = MathMode::strict;
  /// int8 math with VNNI: Q.K is an integer dot product (u8 K + bias times
  /// s8 Q) per 4-element lane, scaled per group after the partial dot.
  bool vnniScores = false;
  /// VNNI scores on int4 K read as nibble planes: each 64-byte chunk of a K
  /// row (128 elements) is split into its low nibbles (even elements) and
  /// high nibbles (odd elements) with an and and a shift, and contracted with
  /// the even and odd planes of the s8 Q row (de-interleaved once per work
  /// item). Requires D to be a multiple of 128; each i32 lane then covers 8
  /// consecutive elements.
  bool vnniNibblePlanes = false;
  /// VNNI scores 16 keys at a time with K transposed in registers at dword
  /// granularity (16 x 16 dwords per 64-byte chunk): vpdpbusd then yields
  /// 16 keys' partial dots in one vector per row and scale group, so no
  /// horizontal reduction is needed. Requires a K scale without groups
  /// along S and an unpacked zero point.
  bool vnniKeyColumns = false;
  /// VNNI scores against a token-invariant scale of int4 K (per channel,
  /// per tensor; D a multiple of 128): Q' = q_int8 x row scale x softmax scale
  /// x s_k (the scale folded into Q, exact algebra) is rounded per row to 21
  /// bits relative to max|Q'| and stored as three s8 parts of 7 bits (Q' ~ unit
  /// x (2^14 top + 2^7 mid + lo)); each takes the key-column vpdpbusd loop as
  /// its own s8 Q row. The zero point stays the f32 per-row bias, computed from
  /// the rounded Q'.
  bool vnniQueryParts = false;
  /// Scale groups of one K row (1 unless the K scale varies along D).
  int64_t keyScaleGroups = 1;
  /// int8 math with VNNI: P x V is an integer dot product too. Per KV tile,
  /// each row's P (times a token-varying V scale, per scale group g) is
  /// quantized to 14 bits relative to the tile's maximum of p.s and split
  /// into two 7-bit s8 halves; 4 consecutive V rows are transposed bytewise
  /// in registers so that each i32 lane holds one byte of 4 keys, and
  /// vpdpbusd multiplies those u8 codes (biased, nibble-split for int4) by
  /// each half. The bias and zero point are removed exactly in int32 with
  /// sum_j P~[j,g] (bias + zp[j,g]). Requires a V scale constant over each
  /// 32-element block (int4) / 16-element block (int8) of a row, 64-byte
  /// rows and an integer (unpacked) token-varying zero point.
  bool vnniValues = false;
  /// Scale groups of one V row that P is quantized for (1 unless the V
  /// scale varies along D).
  int64_t valueScaleGroups = 1;
  /// P x V passes with vnniValues: rows and transposed 16-byte columns of
  /// V per pass (the i32 accumulators of a pass stay in registers).
  int64_t vnniRowsPerPass = 1, vnniColumnsPerPass = 1;
  /// bf16 math with AVX512_BF16: Q.K accumulates bf16 pairs in f32.
  bool bf16Scores = false;
  /// Software prefetch of K/V ahead of the decode tile loop
  /// (X86KernelOptions::softwarePrefetch).
  bool softwarePrefetch = true;
  /// Optional instructions the kernel may call directly
  /// (X86KernelOptions::hasAvx512Vbmi, hasGfni).
  bool useVpermb = false, useGfni = false;
  /// An AMX variant of the work item is emitted next to the AVX-512 one and
  /// chosen at run time (enable-amx; bf16 math with D a multiple of 32, or
  /// int8 math with per-token integer K and D a multiple of 64).
  bool amxVariant = false;
  Type queryType, outputType;
  CacheOperandPlan key, value;

  /// The dedicated prefill kernel replaces the row-block kernel when enabled.
  PrefillPlan prefill;

  int64_t getNumItems() const {
    return batch * kvHeads * numRowBlocks * numSplits;
  }

  /// Builds the plan of `op`, or fails with the reason the fused kernel does
  /// not handle it (the caller then falls back to the reference lowering).
  static FailureOr<KernelPlan> build(SdpaOp op, const X86KernelOptions &options,
                                     std::string &reason);
};

} // namespace mlir::quantkv

#endif // QUANTKV_CONVERSION_QUANTKVTOX86_KERNELPLAN_H
