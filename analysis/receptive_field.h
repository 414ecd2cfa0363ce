// File: analysis/receptive_field.h
//
// receptive_field.h: how far a stack of sliding-window attention layers sees, under the
// uniform-attention model of the seed note (DESIGN.md section 3). Influence P_0 = delta_0; a layer
// with window W and residual strength alpha maps
//   P_l(d) = alpha P_{l-1}(d) + (1 - alpha) / W * sum_{j=0}^{W-1} P_{l-1}(d - j)
// (the window includes the token itself; a full layer over a context of N tokens is W = N).
// Distances d = 0..N-1; mass pushed past the context is lost (total_mass reports what stays).
// Exact, in double, O(N) per layer with a running window sum.
//
// Summaries (tokens): mean and std of d under P (normalised), reach_at_epsilon (largest d with
// P(d) >= eps max P), distance_99_mass (smallest d with cumulative mass >= 0.99 of the total),
// exact_range (width between the 15.87 % and 84.13 % quantiles); closed forms:
// gaussian_std = sqrt(L (W^2 - 1) / 12), gaussian_range = 2 gaussian_std (compared with
// exact_range), exponential_range = 4.6 W / ln(1 / (1 - alpha)) (compared with reach at eps 0.01).
// For hybrid stacks L and W are the sliding layers' count and the largest sliding window.
//
// Example:
//   StackModel m = StackFromPattern("SF", /*layers=*/12, /*window=*/128, /*alpha=*/0.9, 8192);
//   std::vector<double> p = ExactInfluence(m);
//   sinkscope::v1::ReceptiveFieldReport r = SummarizeInfluence(m, p, /*epsilon=*/0.01);
#ifndef SINKSCOPE_ANALYSIS_RECEPTIVE_FIELD_H_
#define SINKSCOPE_ANALYSIS_RECEPTIVE_FIELD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/sinkscope.pb.h"

namespace sinkscope::analysis {

struct LayerModel {
  bool full = false;   // full attention over the context (W = context)
  int64_t window = 1;  // sliding layers
  double alpha = 0.0;  // residual strength in [0, 1)
};

struct StackModel {
  std::vector<LayerModel> layers;
  int64_t context = 0;  // N: distances 0..N-1
  std::string pattern;  // letters, for reports
};

// `pattern` letters S (sliding) / F (full), repeated to `layers` layers. Errors name the problem:
// window < 1, alpha outside [0, 1), layers < 1, context < window, other letters.
absl::StatusOr<StackModel> StackFromPattern(absl::string_view pattern, int layers, int64_t window,
                                            double alpha, int64_t context);

// P_L(d) for d = 0..context-1.
std::vector<double> ExactInfluence(const StackModel& model);

// The same by the definition: O(N W) per layer (the test oracle; small N only).
std::vector<double> NaiveInfluence(const StackModel& model);

struct CurveSummary {
  double total_mass = 0.0;
  double mean = 0.0;
  double std = 0.0;
  int64_t reach_at_epsilon = 0;
  int64_t distance_99_mass = 0;
  double range = 0.0;  // 15.87 % .. 84.13 % quantile width
};
CurveSummary SummarizeCurve(const std::vector<double>& p, double epsilon);

// Exact summaries, closed forms and their relative errors, and the curves (exact, Gaussian,
// exponential; sampled to at most max_points points).
sinkscope::v1::ReceptiveFieldReport SummarizeInfluence(const StackModel& model,
                                                       const std::vector<double>& p,
                                                       double epsilon, int max_points = 400);

// Closed forms against the exact model over a grid (L, alpha, W), context large enough to hold
// the whole influence.
std::vector<sinkscope::v1::SweepPoint> SweepClosedForms(const std::vector<int>& layers,
                                                        const std::vector<double>& alphas,
                                                        const std::vector<int64_t>& windows);

// reach_at_epsilon (eps 0.01) against depth 1..max_layers for each alpha, one curve per alpha.
std::vector<sinkscope::v1::Curve> ReachVersusDepth(int64_t window, int max_layers,
                                                   const std::vector<double>& alphas);

}  // namespace sinkscope::analysis

#endif  // SINKSCOPE_ANALYSIS_RECEPTIVE_FIELD_H_
