// File: attention/int8_attention.h
//
// int8_attention.h: the attention layer with its five products in int8 through quant::Int8Gemm
// (exact integer GEMMs; see quant/README.md), each operand under its own QuantScheme. RoPE,
// softmax, the sink terms and the gate stay fp32 (attention_layer.h).
//
// Operands: projections: activations (x, head outputs) x W^T (per output feature);
// Q K^T: Q x K^T; P V: P x V. K per-channel (one scale per head-dim channel) and V per-token (one
// scale per key) put their scales on the GEMM's reduction axis; they are folded exactly into the
// other operand before it is quantized (Q~ = Q diag(s_K); P~ = P diag(s_V) / max s_V, still in
// [0, 1]), and asymmetric zero points become a per-row correction. Both folds stay exact:
// Q K^T = (Q~ codes x K codes) * q_scale[t], P V = (P~ codes x V codes) * p_scale[t] * max s_V.
// P~ is quantized unsigned (zero point 0) under a ProbScheme:
//   per_row (default): one scale per query row, max_t P~ / (2^prob_bits - 1). Diffuse attention
//     over long contexts (P ~ 1/T) keeps its resolution, and per-token V stays finer than
//     per-tensor V whatever the spread of V's norms.
//   fixed: the static scale 1 / (2^prob_bits - 1) of a kernel without a dynamic P scale; with
//     P ~ 1/T most of P~ rounds to 0 or 1 code (up to 9 dB lost at T = 256 against per_row).
//   fp32: P V in fp32 against the dequantized V (kernels that keep P in fp16 / bf16).
// keep_sink_kv_fp32 = n (IntactKV, PrefixQuant): the first n keys (sink tokens or the KV-bias slot
// first, then the sequence) keep fp32 K and V, take no part in the K/V scales, and their P V
// part runs in fp32.
//
// Example:
//   AttentionQuantConfig cfg;             // sensible defaults
//   cfg.keep_sink_kv_fp32 = 1;
//   absl::StatusOr<Int8Attention> layer = Int8Attention::Create(spec, weights, cfg);
//   absl::StatusOr<FloatMatrix> y = layer->Forward(x);
//   absl::StatusOr<Int8Comparison> c = CompareInt8(*reference, *layer, x);
#ifndef SINKSCOPE_ATTENTION_INT8_ATTENTION_H_
#define SINKSCOPE_ATTENTION_INT8_ATTENTION_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "attention/attention_layer.h"
#include "attention/reference_attention.h"
#include "proto/sinkscope.pb.h"
#include "quant/quant_scheme.h"

namespace sinkscope::attention {

// How P (after V's per-token scales are folded into it) meets the P V product.
enum class ProbScheme { kPerRow, kFixed, kFp32 };
// "per_row", "fixed", "fp32".
const char* ProbSchemeName(ProbScheme scheme);
// The inverse of ProbSchemeName; errors list the valid names.
absl::StatusOr<ProbScheme> ParseProbScheme(absl::string_view name);

struct AttentionQuantConfig {
  // W^T [in x out]: one scale per output feature.
  quant::QuantScheme weights = quant::QuantScheme::PerChannel(1);
  // x and the concatenated head outputs: A of the projections.
  quant::QuantScheme activations = quant::QuantScheme::PerToken().Asymmetric();
  quant::QuantScheme query = quant::QuantScheme::PerToken();
  // K and V [keys x D]: per-channel is per head-dim channel (axis 1), per-token per key (axis 0).
  quant::QuantScheme key = quant::QuantScheme::PerChannel(1);
  quant::QuantScheme value = quant::QuantScheme::PerToken();
  ProbScheme prob_scheme = ProbScheme::kPerRow;
  int prob_bits = 8;  // unsigned bits of P~'s codes (per_row, fixed)
  int keep_sink_kv_fp32 = 0;

  std::string ToString() const;
};

absl::Status ValidateQuantConfig(const AttentionQuantConfig& config);

class Int8Attention {
 public:
  // Quantizes and prepares the projection weights once.
  static absl::StatusOr<Int8Attention> Create(const AttentionSpec& spec, AttentionWeights weights,
                                              const AttentionQuantConfig& config = {});

  absl::StatusOr<FloatMatrix> Forward(const FloatMatrix& x,
                                      AttentionIntermediates* intermediates = nullptr) const;

  // P~'s codes and per-row scales of one P V product (one kv head x one block of queries; the
  // group's heads stacked), as the GEMM saw them: P V = codes x V codes * row_scales[t] * max s_V
  // (V per-token; otherwise V's own scales). Nothing is recorded for ProbScheme::kFp32.
  struct ProbCodes {
    int64_t rows = 0, keys = 0;    // keys: the quantized ones (after keep_sink_kv_fp32)
    std::vector<uint8_t> codes;    // [rows x keys]
    std::vector<float> row_scales; // [rows] (per_row), or one (fixed)
  };
  // Forward, recording every P V product's codes in order (kv head, then query block). For tests
  // and diagnostics: it is Forward with a copy of each P~.
  absl::StatusOr<FloatMatrix> ForwardRecordingProbCodes(const FloatMatrix& x,
                                                        std::vector<ProbCodes>* codes) const;

  const AttentionSpec& spec() const { return spec_; }
  const AttentionQuantConfig& config() const { return config_; }
  // oneDNN implementation and mitigation of the projection GEMMs, e.g. "gemm:jit split_weights".
  std::string gemm_description() const;

 private:
  class Backend;
  AttentionSpec spec_;
  AttentionQuantConfig config_;
  std::shared_ptr<const AttentionWeights> weights_;
  std::shared_ptr<Backend> backend_;
};

struct Int8Comparison {
  // Stages in order: q_proj, k_proj, v_proj (after bias and RoPE), logits (visible entries),
  // probs, heads (per-head outputs before o_proj), output. Each against the reference.
  std::vector<sinkscope::v1::QuantError> stages;
  FloatMatrix reference, int8;
};

absl::StatusOr<Int8Comparison> CompareInt8(const ReferenceAttention& reference,
                                           const Int8Attention& int8, const FloatMatrix& x);

}  // namespace sinkscope::attention

#endif  // SINKSCOPE_ATTENTION_INT8_ATTENTION_H_
