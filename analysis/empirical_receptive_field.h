// File: analysis/empirical_receptive_field.h
//
// empirical_receptive_field.h: the receptive field measured on a stack of real attention layers,
// to set beside the uniform-attention theory of receptive_field.h (DESIGN.md section 3).
//
// The stack: h_0 = x (N(0, 1) input, seeded), h_l = h_{l-1} + Attn_l(h_{l-1}) with
// attention::ReferenceAttention layers (random weights RandomAttentionWeights(spec, seed + l),
// head_dim = d_model / heads, RoPE theta 10000 rotate_half; per-layer letters S = sliding window
// `window`, F = full causal). The influence of input position s on output position t = s + d is
// measured by central finite differences in the same fp32 model:
//   I(d) = mean over sources s of |y_t(x + e) - y_t(x - e)| / |2 e|,
// e = eps u on row s only (u a fixed random unit vector, eps = 1e-2 |x_s|), then normalised to
// sum 1 over d = 0..max_distance. Sources sit at s >= layers * window, so that every sliding
// window on the path is full; with a full layer they sit further (8 x max_distance), so that a
// full layer's key count t + 1 hardly changes over the measured outputs.
//
// Residual strength: the layers compute h + attn(h) = 2 (0.5 h + 0.5 attn(h)); the theory's
// alpha h + (1 - alpha) attn(h) holds up to a scale, which the normalisation removes. So alpha
// is fitted from norms: r = mean |h_t| / mean |attn(h)_t| over the measured outputs' tokens and
// all layers (of the unperturbed input), alpha = r / (1 + r). The theory curve is
// ExactInfluence of the same pattern, window and depth at that alpha, over a context of the mean
// key count a full layer has at the measured outputs (t + 1, plus sink tokens; irrelevant to
// all-sliding stacks), cut to the measured distances and normalised.
//
// uniform_attention = true is the theory's own setting: Wq = 0 (every logit equal), Wv = Wo = I,
// no RoPE. Each layer is then exactly h + (window mean of h): the theory at alpha = 0.5, not at
// the fitted alpha (the window mean of random vectors is shorter than they are).
//
// Cost: 2 forwards of `layers` layers over `tokens` tokens per source; a layer costs
// O(tokens^2 d_model) (the layer scores every key, then masks).
//
// Example:
//   EmpiricalOptions o;
//   o.pattern = "SF"; o.layers = 4; o.window = 8;
//   absl::StatusOr<EmpiricalResult> r = MeasureEmpiricalInfluence(o);
//   // r->measured[d] against r->theory[d]; r->proto.reach_at_epsilon() against
//   // r->proto.theory_reach_at_epsilon().
#ifndef SINKSCOPE_ANALYSIS_EMPIRICAL_RECEPTIVE_FIELD_H_
#define SINKSCOPE_ANALYSIS_EMPIRICAL_RECEPTIVE_FIELD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/sinkscope.pb.h"

namespace sinkscope::analysis {

// reach_at_epsilon in the proto uses this epsilon (the theory's default).
inline constexpr double kEmpiricalReachEpsilon = 0.01;

struct EmpiricalOptions {
  int d_model = 64;
  int heads = 4;             // divides d_model
  uint32_t seed = 1;         // input, direction u; layer l's weights use seed + l
  std::string pattern = "S";  // per-layer letters S (sliding, `window`) / F (full causal),
                              // repeated to `layers`
  int layers = 4;
  int64_t window = 8;
  int sink_tokens = 0;       // > 0: variant kSinkTokens with that many (random) sink tokens
  int64_t tokens = 0;        // 0: enough for full windows and distances 0..layers * window
  int sources = 16;          // perturbed source positions averaged over
  bool uniform_attention = false;  // Wq = 0, Wv = Wo = I, no RoPE: the theory's setting
};

struct EmpiricalResult {
  std::vector<double> measured;  // I(d), d = 0..max_distance, sums to 1
  double fitted_alpha = 0.0;     // r / (1 + r), r = mean |h| / mean |attn(h)|
  std::vector<double> theory;    // ExactInfluence at fitted_alpha, same length, sums to 1
  int64_t tokens = 0;            // T the layers ran on
  int64_t first_source = 0;      // sources are first_source, first_source + 1, ...
  int64_t theory_context = 0;    // the context N the theory curve was computed over
  sinkscope::v1::EmpiricalInfluence proto;  // options, summaries of measured and theory;
                                            // method "finite differences" (+ " (uniform
                                            // attention)" when forced)
};

absl::StatusOr<EmpiricalResult> MeasureEmpiricalInfluence(const EmpiricalOptions& options);

// The uniform-attention theory on the measured distances: ExactInfluence of the options'
// pattern, window and layers at `alpha` over `context` tokens, cut to `length` distances and
// normalised to sum 1. MeasureEmpiricalInfluence's `theory` is this at (theory_context,
// measured.size(), fitted_alpha).
absl::StatusOr<std::vector<double>> TheoryOnMeasuredDistances(const EmpiricalOptions& options,
                                                              int64_t context, size_t length,
                                                              double alpha);

}  // namespace sinkscope::analysis

#endif  // SINKSCOPE_ANALYSIS_EMPIRICAL_RECEPTIVE_FIELD_H_
