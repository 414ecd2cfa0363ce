// File: analysis/activation_scan.h
//
// activation_scan.h: the forward pass of a checkpoint on token ids, measured per layer: hidden-
// state statistics and outlier profile (block output, the residual stream), massive activations
// (Sun et al.), per-head sink metrics (first-token mass, alpha_k, Sink_1^eps, sink-slot mass), a
// pooled attention map per head, and the int8 error of the layer's attention when its real input
// is replayed through Int8Attention (default config, and keep_sink_kv_fp32 = each of `keep`);
// plus the mean next-token NLL of the ids (a check that the model loaded correctly).
//
// Example:
//   absl::StatusOr<ActivationScanInput> in = OpenModel("/models/tiny-llama");
//   absl::StatusOr<sinkscope::v1::ActivationReport> r = ScanActivations(*in, ids, {});
#ifndef SINKSCOPE_ANALYSIS_ACTIVATION_SCAN_H_
#define SINKSCOPE_ANALYSIS_ACTIVATION_SCAN_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "analysis/massive_activation.h"
#include "model/checkpoint.h"
#include "model/transformer.h"
#include "proto/sinkscope.pb.h"

namespace sinkscope::analysis {

struct ActivationScanInput {
  std::string path;
  std::unique_ptr<model::Checkpoint> checkpoint;
  std::unique_ptr<model::Transformer> transformer;
};

// A checkpoint directory (config.json + model.safetensors or a sharded index), or a .safetensors
// file / index with config.json beside it. Errors name the file.
absl::StatusOr<ActivationScanInput> OpenModel(const std::string& path);

struct ActivationScanOptions {
  MassiveActivationOptions massive;
  double sink_epsilon = 0.3;
  bool int8 = true;
  std::vector<int> keep_sink_kv_fp32 = {0, 1, 4};
  int map_size = 64;  // attention maps pooled to at most map_size x map_size
  int top_k = 10;
  // Called after each layer's own measurements with the layer's capture (attention captured),
  // e.g. to replay its attention under more int8 configurations (sink_study). An error ends the
  // scan with that error.
  std::function<absl::Status(int layer, const model::LayerCapture& capture)> on_layer;
};

absl::StatusOr<sinkscope::v1::ActivationReport> ScanActivations(
    const ActivationScanInput& model, const std::vector<int32_t>& token_ids,
    const ActivationScanOptions& options = {});

// Token ids as integers separated by whitespace or commas. Errors name the file and position.
absl::StatusOr<std::vector<int32_t>> ReadTokenIds(const std::string& path);

}  // namespace sinkscope::analysis

#endif  // SINKSCOPE_ANALYSIS_ACTIVATION_SCAN_H_
