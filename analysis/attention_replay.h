// File: analysis/attention_replay.h
//
// attention_replay.h: replays one attention layer dumped from a training framework. Loads the
// layer (weights and configuration) from one .safetensors file and its input from another, runs
// the fp32 reference layer (attention/reference_attention.h) and, on request, the int8 layer
// (attention/int8_attention.h), and returns the outputs, the mass each head's sink mechanism
// absorbs, and an ActivationReport (output statistics, per-head sink metrics, int8 errors).
//
// Layer file (Hugging Face nn.Linear layout, y = x W^T + b; F32, BF16 or F16):
//   q_proj.weight [H*D x d_model]   k_proj.weight, v_proj.weight [KVH*D x d_model]
//   o_proj.weight [d_model x H*D]   optional q_proj.bias, k_proj.bias, v_proj.bias, o_proj.bias
//   sinks [H] (sink_logit)          k_bias, v_bias [KVH x D] (kv_bias)
//   sink_tokens [n x d_model] (sink_tokens; n is the number of sink tokens)
//   gate.weight [H x d_model], optional gate.bias [H] (gated)
// Its __metadata__ (strings): num_heads, num_kv_heads, head_dim, variant (attention_spec.h
// names), window (0: none; > 0 needs causal = true), causal (true / false; false with window 0
// is no mask), rope_theta (0: no RoPE), rope_layout (rotate_half / interleaved; required when
// rope_theta > 0), optional softmax_scale (default 1 / sqrt(head_dim)), clip_zeta and
// clip_gamma (clipped_softmax only, both required there), optional rope_scaling (none, linear,
// yarn, llama3) with rope_scaling_factor, _beta_fast, _beta_slow, _truncate, _attention_factor,
// _mscale, _mscale_all_dim, _low_freq_factor, _high_freq_factor,
// _original_max_position_embeddings (attention/rope_scaling.h defaults). d_model is q_proj.weight's second
// dimension. Other metadata keys (e.g. "format") are ignored; other tensors are an error, as is
// a variant's tensor under another variant.
// Input file: one tensor `hidden` [T x d_model], F32, BF16 or F16.
// Output file (F32): `output` [T x d_model] (reference), `output_int8` [T x d_model] (with int8),
// `sink_mass` [H x T] (AttentionIntermediates::slot_mass: sink logit / softmax1 denominator, or
// the prefix keys: the KV-bias slot or the sink tokens; 0 for the other variants).
// Report: one LayerReport (layer 0): `hidden` and `hidden_outliers` of the reference output, one
// HeadSink per head measured on the sequence keys' probabilities (so alpha_1 is the first real
// token) with the slot mass as sink_slot_mass, and with int8 the 7 per-stage QuantErrors of
// attention::CompareInt8. Every error names the file and the metadata key or tensor.
//
// Example:
//   ReplayOptions options;
//   options.int8 = true;
//   absl::StatusOr<ReplayResult> r =
//       ReplayAttentionFiles("layer.safetensors", "input.safetensors", options);
//   if (r.ok()) absl::Status st = WriteReplayOutputs("out.safetensors", *r);
#ifndef SINKSCOPE_ANALYSIS_ATTENTION_REPLAY_H_
#define SINKSCOPE_ANALYSIS_ATTENTION_REPLAY_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "attention/attention_spec.h"
#include "attention/attention_weights.h"
#include "attention/int8_attention.h"
#include "proto/sinkscope.pb.h"

namespace sinkscope::analysis {

// The configuration and parameters of one attention layer, as loaded from its file.
struct AttentionLayerFile {
  attention::AttentionSpec spec;
  attention::AttentionWeights weights;
};

// Reads and validates a layer file (format above). Errors name the file and the key or tensor.
absl::StatusOr<AttentionLayerFile> LoadAttentionLayer(const std::string& path);

// Reads `hidden` [T x d_model] (T >= 1) from an input file, widened to float.
absl::StatusOr<attention::FloatMatrix> LoadReplayInput(const std::string& path, int d_model);

struct ReplayOptions {
  bool int8 = false;          // also run Int8Attention (AttentionQuantConfig defaults)
  int keep_sink_kv_fp32 = 0;  // AttentionQuantConfig::keep_sink_kv_fp32 (int8 only)
  // AttentionQuantConfig::prob_scheme (int8 only): how P meets the P V product.
  attention::ProbScheme p_scheme = attention::ProbScheme::kPerRow;
};

struct ReplayResult {
  attention::FloatMatrix output;       // [T x d_model], ReferenceAttention
  attention::FloatMatrix output_int8;  // [T x d_model], Int8Attention; empty without int8
  attention::FloatMatrix sink_mass;    // [H x T]
  sinkscope::v1::ActivationReport report;
  std::string int8_gemm_impl;   // oneDNN implementation of the int8 GEMMs ("" without int8)
  std::string int8_mitigation;  // e.g. "split_weights" ("" without int8)
  std::map<std::string, std::string> config;  // resolved configuration, for the Provenance
};

// Runs the replay on `hidden` [T x d_model]. `model_name` goes to ActivationReport::model.
absl::StatusOr<ReplayResult> RunAttentionReplay(const AttentionLayerFile& layer,
                                                const attention::FloatMatrix& hidden,
                                                const ReplayOptions& options,
                                                const std::string& model_name);

// LoadAttentionLayer + LoadReplayInput + RunAttentionReplay (model name: the layer path).
absl::StatusOr<ReplayResult> ReplayAttentionFiles(const std::string& layer_path,
                                                  const std::string& input_path,
                                                  const ReplayOptions& options);

// Writes `output`, `output_int8` (when present) and `sink_mass` as F32, atomically.
absl::Status WriteReplayOutputs(const std::string& path, const ReplayResult& result);

}  // namespace sinkscope::analysis

#endif  // SINKSCOPE_ANALYSIS_ATTENTION_REPLAY_H_
