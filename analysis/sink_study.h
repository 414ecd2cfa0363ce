// File: analysis/sink_study.h
//
// sink_study.h: the project's question in one report. For each subject (a tiny model trained
// with one sink mechanism, or a real checkpoint): how big are its attention sinks and massive
// activations, what does int8 attention cost under each quantization configuration, how much
// does keeping the sink tokens' K/V in fp32 recover, how far do its layers see (receptive field
// of its layer pattern), and what does a bounded StreamingLLM cache cost with and without sinks.
//
// Per subject:
//   1. activation scan (activation_scan.h) of each held-out sequence: Sink_1^eps, first-token
//      mass, abs-max / median |h| per layer, massive activations, mean NLL;
//   2. in the same forward pass, every attention layer's real input replayed through
//      attention::Int8Attention under each StudyQuantConfig of the table (CompareInt8 against the
//      fp32 layer); errors per layer and pooled over layers and sequences (ErrorAccumulator on
//      the attention outputs);
//   3. the receptive field of the model's layer pattern (receptive_field.h), residual strength
//      fitted from the layers' |h| / |attn(h)| ratio as empirical_receptive_field.h does;
//   4. StreamingLLM (model/streaming_decoder.h): a stream several times longer than the cache,
//      mean NLL for window-only, n_sink + window (n_sink in 1, 2, 4) and full attention;
//   5. end to end: quant_eval.h's whole-model configurations and remedies (NLL, KL against the
//      subject's fp32 forward, top-1 agreement), study_report.end_to_end[];
//   6. position or content: the first 4 ids replaced by a filler; the attention the unchanged
//      queries put on positions 0-3 before and after, per layer (study_report.position_probes[]).
//
// The configuration table (DefaultStudyConfigs): granularity {per-tensor, per-channel/token} x
// K/V bits {8, 4} x keep_sink_kv_fp32 {0, 1, 4}, named "<granularity> kv<bits> keep<n>".
// per-tensor: one scale for every operand (activations asymmetric). per-channel/token: the
// Int8Attention defaults (weights per output feature, activations per token asymmetric, Q per
// token, K per channel, V per token). Weights, activations, Q and P are 8-bit throughout.
// The headline per subject: "per-channel/token kv8 keep0" (default) against
// "per-channel/token kv8 keep4" (sink-protected).
//
// Example (this is the whole plug-in point for trained variants):
//   std::vector<StudySubject> subjects = {{"vanilla", "/cache/vanilla"},
//                                         {"softmax1", "/cache/softmax1"}};
//   StudyOptions options;                       // or MakeQuick(&options)
//   absl::StatusOr<sinkscope::v1::Report> r = RunStudy(subjects, options);
//   std::cout << StudyTable(r->study_report());
#ifndef SINKSCOPE_ANALYSIS_SINK_STUDY_H_
#define SINKSCOPE_ANALYSIS_SINK_STUDY_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "analysis/massive_activation.h"
#include "attention/int8_attention.h"
#include "proto/sinkscope.pb.h"

namespace sinkscope::analysis {

struct StudySubject {
  std::string name;            // e.g. the variant: "vanilla", "sink_logit", or the model
  std::string checkpoint_dir;  // config.json + safetensors (anything OpenModel reads)
  // Held-out token sequences of this subject (e.g. from its training data split). Empty: the
  // study's own (StudyOptions::sequences, else seeded random ids).
  std::vector<std::vector<int32_t>> held_out;
  // The StreamingLLM stream (one long sequence, e.g. from the training task). Empty: the
  // held-out sequences back to back, then seeded random ids, up to streaming_length.
  std::vector<int32_t> stream;
  // The position probe's filler token (e.g. the tokenizer's newline) and how it was chosen;
  // < 0: StudyOptions::filler_id, else the last id of the vocabulary ("id vocab-1").
  int32_t filler_id = -1;
  std::string filler_name;
};

struct StudyQuantConfig {
  std::string name;         // "per-tensor kv4 keep1"
  std::string granularity;  // "per-tensor" | "per-channel/token"
  int kv_bits = 8;
  attention::AttentionQuantConfig config;
};

// The 12 configurations described above, in table order (granularity, kv bits, keep).
std::vector<StudyQuantConfig> DefaultStudyConfigs();

// The whole-model configurations (quant_eval.h) run on every subject: the bases, then the
// remedies on per-tensor W8A8 (the configuration a massive activation hurts most).
std::vector<std::string> DefaultEndToEndConfigs();

inline constexpr char kDefaultConfigName[] = "per-channel/token kv8 keep0";
inline constexpr char kProtectedConfigName[] = "per-channel/token kv8 keep4";

struct StudyOptions {
  // Held-out sequences for subjects without their own; empty: `num_sequences` seeded random
  // sequences of `seq_len` ids in [0, vocab).
  std::vector<std::vector<int32_t>> sequences;
  int seq_len = 256;
  int num_sequences = 2;
  uint32_t seed = 1;
  int max_tokens = 2048;  // longer sequences are cut

  MassiveActivationOptions massive;
  double sink_epsilon = 0.3;
  std::vector<StudyQuantConfig> configs = DefaultStudyConfigs();
  int max_attention_maps = 8;  // per subject, in the report (first heads of a few layers)

  bool streaming = true;       // causal (decoder) models only; others record why not
  int streaming_cache = 64;    // n_sink + window
  int streaming_length = 512;  // tokens streamed; several times the cache
  std::vector<int> streaming_sinks = {1, 2, 4};
  int streaming_curve_points = 32;

  // End to end: quant_eval's configurations on each subject's held-out sequences (KL, NLL and
  // top-1 against its own fp32 forward). Empty: skipped. A configuration a subject cannot run
  // (+rotate on LayerNorm) is recorded as skipped for that subject.
  std::vector<std::string> end_to_end = DefaultEndToEndConfigs();
  // Position or content: the first `probe_tokens` ids replaced by a filler (0: skipped).
  int probe_tokens = 4;
  int32_t filler_id = -1;      // < 0: each subject's own, else its vocabulary's last id

  bool quick = false;          // recorded in the report; see MakeQuick
  std::string note;            // recorded in the report

  // Polled between stages and layers; true ends RunStudy with absl::CancelledError.
  std::function<bool()> cancelled;
  // One line per stage, e.g. for stderr.
  std::function<void(const std::string&)> progress;
};

// --quick: one sequence of at most 64 ids, a 16-token cache over 96 streamed tokens; every
// configuration and section is kept.
void MakeQuick(StudyOptions* options);

// The study over `subjects`, in order. Returns a Report whose body is the StudyReport
// (provenance is left to the caller). Errors name the subject and its checkpoint; a subject
// that cannot be loaded fails the whole study (no partial report).
absl::StatusOr<sinkscope::v1::Report> RunStudy(const std::vector<StudySubject>& subjects,
                                               const StudyOptions& options);

// The compact text table: first the answer per variant (Sink_1^eps, abs-max / median, massive
// activations, int8 attention SQNR default vs sink-protected, streaming NLL window-only vs with
// sinks vs full), then the SQNR of every configuration per variant.
std::string StudyTable(const sinkscope::v1::StudyReport& study);

}  // namespace sinkscope::analysis

#endif  // SINKSCOPE_ANALYSIS_SINK_STUDY_H_
