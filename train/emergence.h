// File: train/emergence.h
//
// emergence.h: the sink, massive-activation and int8 metrics of one checkpoint, measured on a few
// sequences through model/ + analysis/ScanActivations (no libtorch): per-head first-token mass
// and sink-slot mass, Sink_1^0.3 (percent of layers x heads, pooled over sequences), the largest
// residual-stream |h| / median(|h|) over layers and its (layer, token, channel), and per layer the
// int8 attention output SQNR with the default configuration and with keep_sink_kv_fp32 = 1.
// Per-sequence numbers are averaged (SQNR: averaged in dB; the max ratio: the largest).
//
// Example:
//   absl::StatusOr<sinkscope::v1::EmergencePoint> e = MeasureEmergence(dir, {seq0, seq1});
#ifndef SINKSCOPE_TRAIN_EMERGENCE_H_
#define SINKSCOPE_TRAIN_EMERGENCE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/sinkscope.pb.h"

namespace sinkscope::train {

// Fills everything but the step and the eval losses.
absl::StatusOr<sinkscope::v1::EmergencePoint> MeasureEmergence(
    const std::string& checkpoint_dir, const std::vector<std::vector<int32_t>>& sequences);

}  // namespace sinkscope::train

#endif  // SINKSCOPE_TRAIN_EMERGENCE_H_
