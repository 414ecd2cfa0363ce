// File: quant/int8_gemm.h
//
// int8_gemm.h: the fast int8 GEMM, on oneDNN 2.6 matmul, with the same contract and the same
// results, bit for bit, as ReferenceInt8Gemm (quant/reference_int8_gemm.h).
//
// Why a mitigation: on x86 CPUs without VNNI (AVX2 such as this Zen 3, AVX-512 before Cascade
// Lake) oneDNN's int8 kernel multiplies u8 x s8 with vpmaddubsw, which adds each pair of
// adjacent products into a *saturating* int16. With full-range operands (255 * 127 * 2 > 32767)
// results are silently wrong. Int8Gemm detects the ISA and, without VNNI, splits the weights
// into two halves B = floor(B/2) + ceil(B/2), each in [-64, 64], so that no pair can saturate
// (255 * 64 * 2 = 32640), and runs one GEMM of depth 2K on [A | A] x [B_hi ; B_lo]. Exact, at
// the price of twice the multiply-adds. Weights whose codes already lie in [-64, 64] (e.g. 4-bit
// or 7-bit) need no split.
//
// Epilogue: with per-tensor activation parameters and weight zero points 0 (the common case),
// oneDNN applies the zero point, the weights' scales (fixed output scales) and sa (a binary
// post-op) itself (fused). Otherwise (per-token
// activations, asymmetric weights) oneDNN produces int32 and sinkscope applies the zero-point
// corrections and scales in one vectorised pass.
//
// Example:
//   absl::StatusOr<std::unique_ptr<Int8Gemm>> gemm = Int8Gemm::Create(weights);  // once
//   FloatMatrix c;
//   absl::Status st = (*gemm)->Run(activations, &c);                             // per call
//   std::cout << (*gemm)->impl_name() << " " << MitigationName((*gemm)->mitigation());
#ifndef SINKSCOPE_QUANT_INT8_GEMM_H_
#define SINKSCOPE_QUANT_INT8_GEMM_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "quant/int8_matrix.h"
#include "quant/tensor.h"

namespace sinkscope::quant {

enum class Int8Mitigation {
  kAuto,          // choose from the ISA and the weights
  kNone,          // run oneDNN as is (inexact on non-VNNI ISAs with weights beyond [-64, 64])
  kSplitWeights,  // B = B_hi + B_lo, each in [-64, 64]; depth 2K
};

const char* MitigationName(Int8Mitigation m);

// The CPU ISA oneDNN dispatches to ("avx2", "avx512_core_vnni", ...), and whether it has VNNI
// (int8 dot products accumulated into int32 without an int16 intermediate).
std::string EffectiveCpuIsaName();
bool EffectiveIsaHasVnni();
// "2.6.3".
std::string OnednnVersion();

struct Int8GemmOptions {
  Int8Mitigation mitigation = Int8Mitigation::kAuto;
};

class Int8Gemm {
 public:
  // Prepares the weights B [K x N] once: converts to s8 (u8 codes - 128, zero point - 128),
  // splits them when the mitigation needs it, and precomputes column sums. Copies B.
  static absl::StatusOr<std::unique_ptr<Int8Gemm>> Create(const GemmOperand& weights,
                                                          Int8GemmOptions options = {});

  // Exact accumulators acc[m,n] = sum_k (A[m,k] - za[m]) * (B[k,n] - zb[n]).
  absl::Status RunInt32(const GemmOperand& a, Int32Matrix* acc) const;
  // C[m,n] = (float(acc[m,n]) * sb[n]) * sa[m].
  absl::Status Run(const GemmOperand& a, FloatMatrix* c) const;

  // The oneDNN implementation chosen for the last shape run (e.g. "gemm:jit"), or "" before.
  std::string impl_name() const;
  // The mitigation actually applied: kNone or kSplitWeights, never kAuto.
  Int8Mitigation mitigation() const { return mitigation_; }
  int64_t k() const { return k_; }
  int64_t n() const { return n_; }

  ~Int8Gemm();
  Int8Gemm(const Int8Gemm&) = delete;
  Int8Gemm& operator=(const Int8Gemm&) = delete;

 private:
  struct Primitive;  // oneDNN objects, kept out of this header
  // Activations as oneDNN sees them, with the per-row terms of the zero-point correction.
  struct Source {
    const uint8_t* data = nullptr;  // [M x depth_]
    bool s8 = false;
    std::vector<uint8_t> storage;   // when converted or duplicated for the split
    std::vector<uint32_t> za;       // per row, as seen by oneDNN
    std::vector<uint32_t> rowdev;   // per row: sum_k (a - za), modulo 2^32
  };
  Int8Gemm() = default;
  absl::StatusOr<Source> PrepareSource(const GemmOperand& a) const;
  absl::StatusOr<const Primitive*> PrimitiveFor(int64_t m, bool s8_src, bool fused) const;
  absl::Status Execute(const Source& src, int64_t m, bool fused, void* dst, int32_t zero_point,
                       float row_scale) const;

  int64_t k_ = 0, n_ = 0;
  int64_t depth_ = 0;  // k_ or 2 k_ (split)
  Int8Mitigation mitigation_ = Int8Mitigation::kNone;
  GemmOperand weights_;                 // the caller's quantization parameters (matrix unused)
  std::vector<int8_t> packed_;          // [depth_ x n_] s8
  std::vector<int32_t> zb_s8_;          // per column: zero point of the s8 weights
  std::vector<int32_t> colsum_s8_;      // per column: sum_k of the s8 weights
  std::vector<float> sb_;               // per column: weight scale
  bool weights_zero_ = true;            // every zb_s8_ is 0
  mutable std::mutex mu_;
  // By (M, s8 source, fused epilogue).
  mutable std::map<std::tuple<int64_t, bool, bool>, std::unique_ptr<Primitive>> primitives_;
  mutable std::string last_impl_;
};

}  // namespace sinkscope::quant

#endif  // SINKSCOPE_QUANT_INT8_GEMM_H_
