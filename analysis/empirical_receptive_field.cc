#include "analysis/empirical_receptive_field.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "analysis/receptive_field.h"
#include "attention/attention_spec.h"
#include "attention/attention_weights.h"
#include "attention/reference_attention.h"

namespace sinkscope::analysis {
namespace {

using attention::AttentionSpec;
using attention::AttentionWeights;
using attention::FloatMatrix;
using attention::ReferenceAttention;

// With a full layer the first source sits at this many times max_distance (see the header).
constexpr int64_t kFullLayerSourceOffset = 8;
// eps = kRelativeStep |x_s|.
constexpr double kRelativeStep = 1e-2;

absl::Status Bad(const std::string& what) { return absl::InvalidArgumentError(what); }

absl::Status ValidateOptions(const EmpiricalOptions& o) {
  if (o.layers < 1) return Bad(absl::StrCat("layers must be >= 1, got ", o.layers));
  if (o.window < 1) return Bad(absl::StrCat("window must be >= 1, got ", o.window));
  if (o.window > std::numeric_limits<int>::max()) {
    return Bad(absl::StrCat("window must fit an int, got ", o.window));
  }
  if (o.d_model < 1) return Bad(absl::StrCat("d_model must be >= 1, got ", o.d_model));
  if (o.heads < 1) return Bad(absl::StrCat("heads must be >= 1, got ", o.heads));
  if (o.d_model % o.heads != 0) {
    return Bad(absl::StrCat("d_model (", o.d_model, ") must be divisible by heads (", o.heads,
                            ")"));
  }
  if (!o.uniform_attention && (o.d_model / o.heads) % 2 != 0) {
    return Bad(absl::StrCat("RoPE needs an even head_dim, got d_model / heads = ",
                            o.d_model / o.heads));
  }
  if (o.sink_tokens < 0) return Bad(absl::StrCat("sink_tokens must be >= 0, got ", o.sink_tokens));
  if (o.sources < 1) return Bad(absl::StrCat("sources must be >= 1, got ", o.sources));
  if (o.tokens != 0 && o.tokens < 2) {
    return Bad(absl::StrCat("tokens must be 0 (automatic) or >= 2, got ", o.tokens));
  }
  if (o.pattern.empty()) return Bad("pattern is empty");
  for (char c : o.pattern) {
    if (c != 'S' && c != 'F') {
      return Bad(absl::StrCat("pattern letters are S (sliding) and F (full), got '",
                              std::string(1, c), "'"));
    }
  }
  return absl::OkStatus();
}

// Per-layer letters, the pattern repeated to `layers`.
std::string LayerLetters(const EmpiricalOptions& o) {
  std::string letters;
  for (int l = 0; l < o.layers; ++l) letters.push_back(o.pattern[l % o.pattern.size()]);
  return letters;
}

// Where the sources sit and which distances are measured.
struct Plan {
  int64_t tokens = 0;
  int64_t first_source = 0;
  int sources = 0;
  int64_t max_distance = 0;
};

Plan MakePlan(const EmpiricalOptions& o, bool has_full) {
  const int64_t reach = int64_t{o.layers} * o.window;  // > the sliding reach L (W - 1)
  const int64_t wanted_first = has_full ? std::max(reach, kFullLayerSourceOffset * reach) : reach;
  Plan p;
  p.tokens = o.tokens > 0 ? o.tokens : wanted_first + o.sources + reach;
  p.first_source =
      std::max<int64_t>(0, std::min(wanted_first, p.tokens - o.sources - reach));
  p.sources = static_cast<int>(std::min<int64_t>(o.sources, p.tokens - p.first_source));
  p.max_distance = std::min(reach, p.tokens - 1 - p.first_source);
  return p;
}

AttentionSpec LayerSpec(const EmpiricalOptions& o, char letter) {
  AttentionSpec s;
  s.d_model = o.d_model;
  s.num_heads = o.heads;
  s.num_kv_heads = o.heads;
  s.head_dim = o.d_model / o.heads;
  if (letter == 'F') {
    s.mask = attention::MaskKind::kCausal;
  } else {
    s.mask = attention::MaskKind::kSliding;
    s.window = static_cast<int>(o.window);
  }
  if (!o.uniform_attention) {
    s.rope_theta = 10000.0f;
    s.rope_layout = attention::RopeLayout::kRotateHalf;
  }
  if (o.sink_tokens > 0) {
    s.variant = attention::Variant::kSinkTokens;
    s.num_sink_tokens = o.sink_tokens;
  }
  return s;
}

absl::StatusOr<std::vector<ReferenceAttention>> BuildLayers(const EmpiricalOptions& o,
                                                            const std::string& letters) {
  std::vector<ReferenceAttention> layers;
  for (int l = 0; l < o.layers; ++l) {
    const AttentionSpec spec = LayerSpec(o, letters[l]);
    AttentionWeights w = attention::RandomAttentionWeights(spec, o.seed + static_cast<uint32_t>(l));
    if (o.uniform_attention) {
      // Every logit 0: uniform over the visible keys; the values pass through unchanged.
      w.wq.setZero();
      w.wv = FloatMatrix::Identity(o.d_model, o.d_model);
      w.wo = FloatMatrix::Identity(o.d_model, o.d_model);
    }
    absl::StatusOr<ReferenceAttention> layer = ReferenceAttention::Create(spec, std::move(w));
    if (!layer.ok()) return layer.status();
    layers.push_back(*std::move(layer));
  }
  return layers;
}

// Sums of |h_t| and |attn(h)_t| over tokens [first, T) and the layers.
struct NormTally {
  int64_t first = 0;
  double residual = 0.0;
  double attention = 0.0;
};

// h_L of the residual stack; `tally` (may be null) collects the norms.
absl::StatusOr<FloatMatrix> ForwardStack(const std::vector<ReferenceAttention>& layers,
                                         const FloatMatrix& x, NormTally* tally) {
  FloatMatrix h = x;
  for (const ReferenceAttention& layer : layers) {
    absl::StatusOr<FloatMatrix> a = layer.Forward(h);
    if (!a.ok()) return a.status();
    if (tally != nullptr) {
      for (int64_t t = tally->first; t < h.rows(); ++t) {
        tally->residual += h.row(t).cast<double>().norm();
        tally->attention += a->row(t).cast<double>().norm();
      }
    }
    h += *a;
  }
  return h;
}

FloatMatrix RandomNormal(int64_t rows, int64_t cols, std::mt19937* rng) {
  std::normal_distribution<float> n(0.0f, 1.0f);
  FloatMatrix m(rows, cols);
  for (int64_t i = 0; i < m.size(); ++i) m.data()[i] = n(*rng);
  return m;
}

void Normalise(std::vector<double>* p) {
  double sum = 0.0;
  for (double v : *p) sum += v;
  if (sum > 0.0) {
    for (double& v : *p) v /= sum;
  }
}

}  // namespace

absl::StatusOr<std::vector<double>> TheoryOnMeasuredDistances(const EmpiricalOptions& options,
                                                              int64_t context, size_t length,
                                                              double alpha) {
  absl::StatusOr<StackModel> model =
      StackFromPattern(options.pattern, options.layers, options.window, alpha, context);
  if (!model.ok()) return model.status();
  std::vector<double> p = ExactInfluence(*model);
  p.resize(length, 0.0);
  Normalise(&p);
  return p;
}

absl::StatusOr<EmpiricalResult> MeasureEmpiricalInfluence(const EmpiricalOptions& options) {
  if (absl::Status st = ValidateOptions(options); !st.ok()) return st;
  const std::string letters = LayerLetters(options);
  const bool has_full = letters.find('F') != std::string::npos;
  const Plan plan = MakePlan(options, has_full);
  if (plan.tokens > std::numeric_limits<int32_t>::max()) {
    return Bad(absl::StrCat("too many tokens: ", plan.tokens));
  }

  absl::StatusOr<std::vector<ReferenceAttention>> layers = BuildLayers(options, letters);
  if (!layers.ok()) return layers.status();

  std::mt19937 rng(options.seed);
  const FloatMatrix x = RandomNormal(plan.tokens, options.d_model, &rng);
  Eigen::RowVectorXf u = RandomNormal(1, options.d_model, &rng).row(0);
  u /= u.norm();

  // Unperturbed pass: the norms for alpha.
  NormTally tally;
  tally.first = plan.first_source;
  if (absl::StatusOr<FloatMatrix> y = ForwardStack(*layers, x, &tally); !y.ok()) {
    return y.status();
  }
  if (!(tally.attention > 0.0) || !std::isfinite(tally.residual / tally.attention)) {
    return absl::FailedPreconditionError(
        "the attention outputs are zero or not finite: no residual ratio to fit alpha from");
  }
  const double r = tally.residual / tally.attention;

  // Central differences, one source at a time.
  std::vector<double> sum(plan.max_distance + 1, 0.0);
  std::vector<int> count(plan.max_distance + 1, 0);
  double key_count_sum = 0.0;  // for the theory's context: a full layer's keys at each output
  int64_t pairs = 0;
  for (int i = 0; i < plan.sources; ++i) {
    const int64_t s = plan.first_source + i;
    const float eps = static_cast<float>(kRelativeStep * x.row(s).cast<double>().norm());
    FloatMatrix plus = x, minus = x;
    plus.row(s) += eps * u;
    minus.row(s) -= eps * u;
    // The step actually taken, in float.
    const double step = (plus.row(s) - minus.row(s)).cast<double>().norm();
    absl::StatusOr<FloatMatrix> y_plus = ForwardStack(*layers, plus, nullptr);
    if (!y_plus.ok()) return y_plus.status();
    absl::StatusOr<FloatMatrix> y_minus = ForwardStack(*layers, minus, nullptr);
    if (!y_minus.ok()) return y_minus.status();
    for (int64_t d = 0; d <= plan.max_distance && s + d < plan.tokens; ++d) {
      const int64_t t = s + d;
      sum[d] += (y_plus->row(t).cast<double>() - y_minus->row(t).cast<double>()).norm() / step;
      ++count[d];
      key_count_sum += static_cast<double>(t + 1 + options.sink_tokens);
      ++pairs;
    }
  }

  EmpiricalResult result;
  result.tokens = plan.tokens;
  result.first_source = plan.first_source;
  result.measured.resize(sum.size());
  for (size_t d = 0; d < sum.size(); ++d) {
    result.measured[d] = count[d] > 0 ? sum[d] / count[d] : 0.0;
  }
  Normalise(&result.measured);
  result.fitted_alpha = r / (1.0 + r);
  // The context only sets a full layer's key count: the measured outputs' mean; all-sliding
  // stacks are the same for any context holding the measured distances.
  result.theory_context =
      std::max({static_cast<int64_t>(std::llround(key_count_sum / static_cast<double>(pairs))),
                options.window, plan.max_distance + 1});
  absl::StatusOr<std::vector<double>> theory = TheoryOnMeasuredDistances(
      options, result.theory_context, result.measured.size(), result.fitted_alpha);
  if (!theory.ok()) return theory.status();
  result.theory = *std::move(theory);

  const CurveSummary measured = SummarizeCurve(result.measured, kEmpiricalReachEpsilon);
  const CurveSummary predicted = SummarizeCurve(result.theory, kEmpiricalReachEpsilon);
  sinkscope::v1::EmpiricalInfluence& p = result.proto;
  p.set_d_model(options.d_model);
  p.set_heads(options.heads);
  p.set_seed(options.seed);
  p.set_pattern(letters);
  p.set_sink_tokens(options.sink_tokens);
  p.set_fitted_alpha(result.fitted_alpha);
  p.set_method(options.uniform_attention ? "finite differences (uniform attention)"
                                         : "finite differences");
  p.set_tokens(static_cast<int32_t>(plan.tokens));
  p.set_sources(plan.sources);
  p.set_mean_distance(measured.mean);
  p.set_reach_at_epsilon(measured.reach_at_epsilon);
  p.set_theory_mean_distance(predicted.mean);
  p.set_theory_reach_at_epsilon(predicted.reach_at_epsilon);
  return result;
}

}  // namespace sinkscope::analysis
