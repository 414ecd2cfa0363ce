#include "analysis/receptive_field.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace sinkscope::analysis {
namespace {

// One layer of the model applied to p in place. The window sum runs over the last W values and
// is recomputed exactly every W steps, so in a decaying tail it never carries the rounding of the
// large values that left the window long ago.
void ApplyLayer(const LayerModel& layer, std::vector<double>* p) {
  const int64_t n = static_cast<int64_t>(p->size());
  const int64_t w = layer.full ? n : std::min<int64_t>(layer.window, n);
  const double a = layer.alpha, b = (1.0 - layer.alpha) / static_cast<double>(layer.full ? n : layer.window);
  const std::vector<double> prev = *p;
  double window_sum = 0.0;
  for (int64_t d = 0; d < n; ++d) {
    if (d % w == 0) {
      window_sum = 0.0;
      for (int64_t j = std::max<int64_t>(0, d - w + 1); j < d; ++j) window_sum += prev[j];
    }
    window_sum += prev[d];
    if (d % w != 0 && d - w >= 0) window_sum -= prev[d - w];
    (*p)[d] = a * prev[d] + b * std::max(window_sum, 0.0);
  }
}

// Smallest x (interpolated within a distance bin) where the cumulative mass reaches q * total.
double Quantile(const std::vector<double>& p, double total, double q) {
  const double target = q * total;
  double cum = 0.0;
  for (size_t d = 0; d < p.size(); ++d) {
    if (cum + p[d] >= target) {
      return p[d] > 0.0 ? static_cast<double>(d) - 0.5 + (target - cum) / p[d]
                        : static_cast<double>(d);
    }
    cum += p[d];
  }
  return static_cast<double>(p.size()) - 1.0;
}

// |predicted - exact| / |exact|; +inf when the exact value is 0 and the prediction is not.
double RelError(double predicted, double exact) {
  if (exact == 0.0) return predicted == 0.0 ? 0.0 : std::numeric_limits<double>::infinity();
  return std::fabs(predicted - exact) / std::fabs(exact);
}

int SlidingLayers(const StackModel& m, int64_t* window) {
  int count = 0;
  *window = 0;
  for (const LayerModel& l : m.layers) {
    if (!l.full) {
      ++count;
      *window = std::max(*window, l.window);
    }
  }
  return count;
}

}  // namespace

absl::StatusOr<StackModel> StackFromPattern(absl::string_view pattern, int layers, int64_t window,
                                            double alpha, int64_t context) {
  const auto bad = [](const std::string& what) { return absl::InvalidArgumentError(what); };
  if (layers < 1) return bad(absl::StrCat("layers must be >= 1, got ", layers));
  if (window < 1) return bad(absl::StrCat("window must be >= 1, got ", window));
  if (!(alpha >= 0.0 && alpha < 1.0)) return bad(absl::StrCat("alpha must be in [0, 1), got ", alpha));
  if (context < window) {
    return bad(absl::StrCat("context (", context, ") must be >= window (", window, ")"));
  }
  if (context > 100000000) return bad("context must be <= 1e8");
  if (pattern.empty()) return bad("pattern is empty");
  StackModel m;
  m.context = context;
  for (int l = 0; l < layers; ++l) {
    const char c = pattern[l % pattern.size()];
    if (c != 'S' && c != 'F') {
      return bad(absl::StrCat("pattern letters are S (sliding) and F (full), got '",
                              std::string(1, c), "'"));
    }
    m.layers.push_back(LayerModel{c == 'F', window, alpha});
    m.pattern.push_back(c);
  }
  return m;
}

std::vector<double> ExactInfluence(const StackModel& m) {
  std::vector<double> p(std::max<int64_t>(m.context, 1), 0.0);
  p[0] = 1.0;
  for (const LayerModel& l : m.layers) ApplyLayer(l, &p);
  return p;
}

std::vector<double> NaiveInfluence(const StackModel& m) {
  const int64_t n = std::max<int64_t>(m.context, 1);
  std::vector<double> p(n, 0.0);
  p[0] = 1.0;
  for (const LayerModel& l : m.layers) {
    const int64_t w = l.full ? n : l.window;
    std::vector<double> next(n, 0.0);
    for (int64_t d = 0; d < n; ++d) {
      double s = 0.0;
      for (int64_t j = 0; j < w; ++j) {
        if (d - j >= 0) s += p[d - j];
      }
      next[d] = l.alpha * p[d] + (1.0 - l.alpha) / static_cast<double>(w) * s;
    }
    p = next;
  }
  return p;
}

CurveSummary SummarizeCurve(const std::vector<double>& p, double epsilon) {
  CurveSummary s;
  double peak = 0.0;
  for (size_t d = 0; d < p.size(); ++d) {
    s.total_mass += p[d];
    s.mean += static_cast<double>(d) * p[d];
    peak = std::max(peak, p[d]);
  }
  if (s.total_mass <= 0.0) return s;
  s.mean /= s.total_mass;
  double var = 0.0;
  for (size_t d = 0; d < p.size(); ++d) {
    const double x = static_cast<double>(d) - s.mean;
    var += x * x * p[d];
  }
  s.std = std::sqrt(var / s.total_mass);
  for (size_t d = 0; d < p.size(); ++d) {
    if (p[d] >= epsilon * peak) s.reach_at_epsilon = static_cast<int64_t>(d);
  }
  double cum = 0.0;
  for (size_t d = 0; d < p.size(); ++d) {
    cum += p[d];
    if (cum >= 0.99 * s.total_mass) {
      s.distance_99_mass = static_cast<int64_t>(d);
      break;
    }
  }
  s.range = Quantile(p, s.total_mass, 0.841344746) - Quantile(p, s.total_mass, 0.158655254);
  return s;
}

sinkscope::v1::ReceptiveFieldReport SummarizeInfluence(const StackModel& m,
                                                       const std::vector<double>& p,
                                                       double epsilon, int max_points) {
  sinkscope::v1::ReceptiveFieldReport r;
  int64_t w = 0;
  const int sliding = SlidingLayers(m, &w);
  const double alpha = m.layers.empty() ? 0.0 : m.layers[0].alpha;
  r.set_pattern(m.pattern);
  r.set_layers(static_cast<int>(m.layers.size()));
  r.set_window(w);
  r.set_alpha(alpha);
  r.set_context(m.context);
  r.set_epsilon(epsilon);
  const CurveSummary s = SummarizeCurve(p, epsilon);
  r.set_total_mass(s.total_mass);
  r.set_mean_distance(s.mean);
  r.set_std_distance(s.std);
  r.set_reach_at_epsilon(s.reach_at_epsilon);
  r.set_distance_99_mass(s.distance_99_mass);
  r.set_exact_range(s.range);
  if (sliding > 0) {
    const double g = std::sqrt(sliding * (static_cast<double>(w) * w - 1.0) / 12.0);
    r.set_gaussian_std(g);
    r.set_gaussian_std_rel_error(RelError(g, s.std));
    r.set_gaussian_range(2.0 * g);
    r.set_gaussian_range_rel_error(RelError(2.0 * g, s.range));
    if (alpha > 0.0) {
      const double e = 4.6 * static_cast<double>(w) / std::log(1.0 / (1.0 - alpha));
      const int64_t reach01 = epsilon == 0.01 ? s.reach_at_epsilon : SummarizeCurve(p, 0.01).reach_at_epsilon;
      r.set_exponential_range(e);
      r.set_exponential_range_rel_error(RelError(e, static_cast<double>(reach01)));
    }
  }
  // Curves up to where the exact influence has fallen below 1e-15 of its peak (or the context).
  const double peak = *std::max_element(p.begin(), p.end());
  int64_t last = 0;
  for (size_t d = 0; d < p.size(); ++d) {
    if (p[d] >= 1e-15 * peak) last = static_cast<int64_t>(d);
  }
  const int64_t step = std::max<int64_t>(1, (last + max_points) / std::max(max_points, 1));
  sinkscope::v1::Curve* exact = r.add_curves();
  exact->set_name("exact");
  sinkscope::v1::Curve* gauss = sliding > 0 ? r.add_curves() : nullptr;
  if (gauss != nullptr) gauss->set_name("gaussian");
  sinkscope::v1::Curve* expo = sliding > 0 && alpha > 0.0 ? r.add_curves() : nullptr;
  // The exponential bound C (1 - alpha)^(d / W) with the tightest C over the curve.
  double c = 0.0;
  if (expo != nullptr) {
    expo->set_name("exponential bound");
    for (size_t d = 0; d < p.size(); ++d) {
      c = std::max(c, p[d] / std::pow(1.0 - alpha, static_cast<double>(d) / w));
    }
  }
  const double g = r.gaussian_std();
  for (int64_t d = 0; d <= last; d += step) {
    exact->add_distance(static_cast<double>(d));
    exact->add_value(p[d]);
    if (gauss != nullptr && g > 0.0) {
      const double z = (static_cast<double>(d) - s.mean) / g;
      gauss->add_distance(static_cast<double>(d));
      gauss->add_value(s.total_mass * std::exp(-0.5 * z * z) / (g * std::sqrt(2.0 * M_PI)));
    }
    if (expo != nullptr) {
      expo->add_distance(static_cast<double>(d));
      expo->add_value(c * std::pow(1.0 - alpha, static_cast<double>(d) / w));
    }
  }
  return r;
}

std::vector<sinkscope::v1::SweepPoint> SweepClosedForms(const std::vector<int>& layers,
                                                        const std::vector<double>& alphas,
                                                        const std::vector<int64_t>& windows) {
  std::vector<sinkscope::v1::SweepPoint> out;
  for (int64_t w : windows) {
    for (double alpha : alphas) {
      for (int l : layers) {
        // Every hop is at most W - 1 tokens: this context holds the whole influence.
        absl::StatusOr<StackModel> m = StackFromPattern("S", l, w, alpha, l * (w - 1) + w);
        if (!m.ok()) continue;
        const std::vector<double> p = ExactInfluence(*m);
        const sinkscope::v1::ReceptiveFieldReport r = SummarizeInfluence(*m, p, 0.01, 2);
        sinkscope::v1::SweepPoint s;
        s.set_layers(l);
        s.set_alpha(alpha);
        s.set_window(w);
        s.set_std_distance(r.std_distance());
        s.set_gaussian_std_rel_error(r.gaussian_std_rel_error());
        s.set_exact_range(r.exact_range());
        s.set_gaussian_range_rel_error(r.gaussian_range_rel_error());
        s.set_reach_at_epsilon(r.reach_at_epsilon());
        s.set_exponential_range_rel_error(r.exponential_range_rel_error());
        s.set_gaussian_within_10pct(r.gaussian_std_rel_error() <= 0.1 &&
                                    r.gaussian_range_rel_error() <= 0.1);
        s.set_exponential_within_10pct(alpha > 0.0 && r.exponential_range_rel_error() <= 0.1);
        out.push_back(s);
      }
    }
  }
  return out;
}

std::vector<sinkscope::v1::Curve> ReachVersusDepth(int64_t window, int max_layers,
                                                   const std::vector<double>& alphas) {
  std::vector<sinkscope::v1::Curve> out;
  const int64_t n = static_cast<int64_t>(max_layers) * (window - 1) + window;
  for (double alpha : alphas) {
    sinkscope::v1::Curve c;
    c.set_name(absl::StrFormat("reach (eps 0.01) vs layers, alpha %g", alpha));
    std::vector<double> p(n, 0.0);
    p[0] = 1.0;
    for (int l = 1; l <= max_layers; ++l) {
      ApplyLayer(LayerModel{false, window, alpha}, &p);
      c.add_distance(l);
      c.add_value(static_cast<double>(SummarizeCurve(p, 0.01).reach_at_epsilon));
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace sinkscope::analysis
