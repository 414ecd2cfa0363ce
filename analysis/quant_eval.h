// File: analysis/quant_eval.h
//
// quant_eval.h: what a quantization configuration costs end to end. The whole decoder runs with
// every linear layer of its blocks and its KV cache quantized together (errors propagate through
// the layers), and its next-token distributions are compared with the fp32 forward pass of the
// same checkpoint on the same tokens: mean KL(p_fp32 || p_config) in nats (llama.cpp's
// `perplexity --kl-divergence`), NLL and its change, top-1 agreement, and per layer the SQNR of
// the residual stream against fp32's, so that a table shows where the error enters and grows.
//
// Configurations (the names are the contract; `base`, joined with `_`):
//   fp32         no quantization.
//   w8a8         every linear of the decoder blocks (q, k, v, o, gate, up, down; GPT-2's c_attn,
//                c_proj, c_fc, mlp.c_proj; GPT-OSS's attention projections and each expert's MLP):
//                weights int8 symmetric per output channel (max |w_row| / 127), input activations
//                int8 symmetric per token (max |x_t| / 127); products through quant::Int8Gemm
//                (oneDNN, exact). Embeddings, norms, the router, Q K^T, P V and the LM head fp32.
//   w8a8_tensor  w8a8 with one activation scale per linear input (max |X| / 127 over its tokens).
//   w4a16_g128   weights int4 symmetric per group of 128 input channels (any g<N>), activations fp32.
//   fp8          weights and activations E4M3 (OCP "fn", saturating, round to nearest even) with
//                per-output-channel / per-token fp32 scales (amax / 448).
//   mxfp4        weights MXFP4 (OCP MX: blocks of 32 along the input, E8M0 scale, E2M1 elements),
//                activations fp32.
//   kv8, kv4     K (after RoPE) and V symmetric 8 / 4 bits, one scale per (token, KV head).
//   kvfp8        K and V in E4M3, one scale per (token, KV head).
// A weight part and a KV part combine: w8a8_kv8, w8a8_tensor_kv4, fp8_kvfp8. Rounding: half to
// even; integer codes clamp to +-(2^(b-1) - 1).
//
// Remedies: `base[+remedy...]`, each recorded in the report:
//   +keep_sink[N]  (IntactKV / PrefixQuant) the first N tokens (default 1) stay fp32 in every
//                  quantized activation and in K/V, and are left out of every activation and KV
//                  scale (their products use the quantized weights, in fp32).
//   +smooth[A]     (SmoothQuant, A = 0.5 by default, in (0, 1)) for the inputs of q/k/v and of
//                  gate/up (gpt2: c_attn, c_fc): s_j = max|X_j|^A / max|W_j|^(1 - A), max|X_j|
//                  over the calibration tokens in fp32, max|W_j| over column j of the weights
//                  sharing the input, both clamped at 1e-5; x / s and W diag(s), which equals
//                  folding 1 / s into the preceding norm: fp32+smooth = fp32. (MoE experts: not
//                  smoothed.)
//   +rotate        (QuaRot) RMSNorm models: the norm gain folded into the next weights and the
//                  residual stream rotated by an orthogonal Q (a normalized Hadamard matrix when
//                  d_model is a power of two, else a seeded random orthogonal matrix), so the
//                  q/k/v/gate/up inputs are RMSNorm(h) Q and their weights (W diag(g)) Q, the
//                  o/down weights Q^T W; plus an online Hadamard (or random orthogonal) of the FFN
//                  width at the down_proj input. fp32+rotate = fp32 to float rounding. GPT-2
//                  (LayerNorm): a usage error.
//   +llmint8       (LLM.int8) input channels whose max |x| over the tokens is >= 6 stay fp32 (those
//                  columns of x and W), the rest as the base says. Needs quantized activations.
//   +clip          activation and weight scales at the MSE-optimal clipping ratio (integer formats).
// Transforms (smooth, rotate) apply in the order written.
//
// Example:
//   absl::StatusOr<std::vector<QuantEvalSpec>> specs = ParseQuantConfigs("fp32,w8a8,kv4");
//   absl::StatusOr<v1::QuantEvalReport> r =
//       EvaluateQuantConfigs(*model.transformer, {ids}, *specs, {});
#ifndef SINKSCOPE_ANALYSIS_QUANT_EVAL_H_
#define SINKSCOPE_ANALYSIS_QUANT_EVAL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "model/model_config.h"
#include "model/transformer.h"
#include "proto/sinkscope.pb.h"

namespace sinkscope::analysis {

struct QuantEvalSpec {
  enum class Weights { kFp32, kInt8PerChannel, kInt4Group, kE4M3PerChannel, kMxfp4 };
  enum class Activations { kFp32, kInt8PerToken, kInt8PerTensor, kE4M3PerToken };
  enum class KvCache { kFp32, kInt8, kInt4, kE4M3 };
  std::string name;
  Weights weights = Weights::kFp32;
  Activations activations = Activations::kFp32;
  int weight_group = 128;  // kInt4Group: input channels per scale
  KvCache kv = KvCache::kFp32;

  enum class Transform { kSmooth, kRotate };
  std::string base;                 // the name without remedies
  std::vector<std::string> remedies;  // as written, e.g. {"keep_sink4", "smooth0.8"}
  int keep_sink = 0;                // +keep_sink[N]
  double smooth_alpha = 0.0;        // +smooth[A]
  std::vector<Transform> transforms;  // smooth / rotate, in the order written
  bool llmint8 = false;
  bool clip = false;

  bool IsFp32() const {
    return weights == Weights::kFp32 && activations == Activations::kFp32 &&
           kv == KvCache::kFp32 && transforms.empty();
  }
  bool Rotates() const;
  std::string WeightsText() const;
  std::string ActivationsText() const;
  std::string KvText() const;
};

// One configuration string. Errors (InvalidArgument) name it and list the valid names.
absl::StatusOr<QuantEvalSpec> ParseQuantConfig(absl::string_view name);
// A comma-separated list; duplicates are an error.
absl::StatusOr<std::vector<QuantEvalSpec>> ParseQuantConfigs(absl::string_view names);
// The valid bases and parts, for usage messages.
std::string ValidQuantConfigHelp();

struct QuantEvalOptions {
  // Int8 products through quant::ReferenceInt8Gemm (exact int32 loops) instead of oneDNN: the
  // oracle the oneDNN path must equal bit for bit.
  bool reference_int8_gemm = false;
  // +smooth's calibration tokens (empty: the evaluated sequences) and how the report names them.
  std::vector<std::vector<int32_t>> calibration;
  std::string calibration_name;
  uint64_t rotation_seed = 1;  // random orthogonal matrices (dimensions that are not 2^k)
};

// Per layer, max |x_j| over calibration tokens of the attention input and of the MLP input (fp32).
struct InputAbsMax {
  std::vector<Eigen::VectorXf> attention, mlp;
  void Merge(const InputAbsMax& other);
};

// A usage error when `spec` cannot run on this model (e.g. +rotate on a LayerNorm model).
absl::Status CheckSpecForModel(const QuantEvalSpec& spec, const model::ModelConfig& config);

struct QuantForwardResult {
  model::FloatMatrix logits;                   // [T x vocab]
  std::vector<model::FloatMatrix> residuals;   // per layer: the block output [T x d_model]
  InputAbsMax input_absmax;                    // this run's linear inputs (fp32 runs: calibration)
  std::string rotation;                        // +rotate: which matrices
  std::vector<v1::LinearInputStats> linear_inputs;  // w8a8*: one per linear product run
  std::string gemm;                            // int8 GEMM implementation, when any ran
};

// The forward pass of `t` on `ids` under `spec` (fp32: equal to Transformer::Forward's logits).
// `calibration`: +smooth's max |X_j| (required when the spec smooths).
absl::StatusOr<QuantForwardResult> QuantizedForward(const model::Transformer& t,
                                                    const std::vector<int32_t>& ids,
                                                    const QuantEvalSpec& spec,
                                                    const QuantEvalOptions& options = {},
                                                    const InputAbsMax* calibration = nullptr);

// fp32 once per sequence, then every configuration; the metrics summed over every predicted
// position of every sequence. Errors: empty input, sequences shorter than 2 tokens, the model's.
absl::StatusOr<v1::QuantEvalReport> EvaluateQuantConfigs(
    const model::Transformer& t, const std::vector<std::vector<int32_t>>& sequences,
    const std::vector<QuantEvalSpec>& configs, const QuantEvalOptions& options = {});

// Adds one run's statistics of a linear input into another's (same layer, name and expert).
void MergeLinearInputStats(const v1::LinearInputStats& in, v1::LinearInputStats* into);

// Recomputes every mean (NLL, delta NLL, KL, top-1, per-layer SQNR) from the sums and counts:
// what a merge of token-file shards calls after adding them up.
void FinishQuantEvalMeans(v1::QuantEvalReport* report);

// +rotate's matrices: a normalized Hadamard matrix when n is a power of two (Sylvester), else a
// seeded random orthogonal matrix (QR of a Gaussian matrix). `kind` names which.
model::FloatMatrix OrthogonalMatrix(int64_t n, uint64_t seed, std::string* kind);

// Per-position comparison of two logit rows: KL(p || q) in nats with p = softmax(ref),
// q = softmax(got), in double.
double KlDivergence(const float* ref_logits, const float* got_logits, int64_t vocab);

}  // namespace sinkscope::analysis

#endif  // SINKSCOPE_ANALYSIS_QUANT_EVAL_H_
