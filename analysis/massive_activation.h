// File: analysis/massive_activation.h
//
// massive_activation.h: the massive-activation criterion of Sun et al. 2024 ("Massive
// Activations in Large Language Models"): in a hidden state h [tokens x channels] (a block's
// output, the residual stream), an entry x is massive when |x| > abs_threshold and
// |x| >= ratio_threshold * median(|h|). Defaults 100 and 1000, both parameters. The median is
// exact (one float copy of |h|, which is one layer's hidden state).
//
// Example:
//   MassiveActivationResult r = DetectMassiveActivations(hidden, /*layer=*/3);
//   for (const auto& m : r.hits) std::cout << m.token() << "," << m.channel() << "\n";
#ifndef SINKSCOPE_ANALYSIS_MASSIVE_ACTIVATION_H_
#define SINKSCOPE_ANALYSIS_MASSIVE_ACTIVATION_H_

#include <cstdint>
#include <vector>

#include "model/dtype.h"
#include "proto/sinkscope.pb.h"

namespace sinkscope::analysis {

struct MassiveActivationOptions {
  double abs_threshold = 100.0;
  double ratio_threshold = 1000.0;
  int max_hits = 1000;  // hits beyond this are counted, not listed (largest |x| kept)
};

struct MassiveActivationResult {
  double median_abs = 0.0;
  int64_t total_hits = 0;
  std::vector<sinkscope::v1::MassiveActivation> hits;  // by |value| descending
};

// `hidden` is [tokens x channels] (higher ranks: leading axes flattened into tokens).
MassiveActivationResult DetectMassiveActivations(const model::TypedTensorView& hidden, int layer,
                                                 const MassiveActivationOptions& options = {});

}  // namespace sinkscope::analysis

#endif  // SINKSCOPE_ANALYSIS_MASSIVE_ACTIVATION_H_
