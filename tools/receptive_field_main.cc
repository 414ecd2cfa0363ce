// receptive_field: how far a stack of sliding-window (and full) attention layers sees: the
// exact influence curve under the uniform-attention model, its summaries, where the closed forms
// hold (--sweep), and the influence measured on real attention layers (--empirical).
//
// Usage: receptive_field --window=100 --layers=10 --alpha=0.9 [--pattern=SF] [--context=N]
//        [--epsilon=0.01] [--sweep] [--empirical --seed=1 --d_model=64 --heads=4]
//        [--out=F.pb] [--json=F.json] [--textproto=F.txtpb] [--html=F.html]
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "analysis/empirical_receptive_field.h"
#include "analysis/receptive_field.h"
#include "base/atomic_file.h"
#include "base/cli.h"
#include "report/html_report.h"
#include "report/provenance.h"
#include "report/report_flags.h"
#include "report/report_io.h"

ABSL_FLAG(int64_t, window, 100, "sliding window W (tokens), >= 1");
ABSL_FLAG(int, layers, 10, "number of layers L, >= 1");
ABSL_FLAG(double, alpha, 0.9, "residual strength in [0, 1) (0: no residual)");
ABSL_FLAG(std::string, pattern, "S", "per-layer letters S (sliding) / F (full), repeated to L");
ABSL_FLAG(int64_t, context, 0, "context N in tokens (0: enough to hold every sliding hop)");
ABSL_FLAG(double, epsilon, 0.01, "reach_at_epsilon: largest d with P(d) >= epsilon max P");
ABSL_FLAG(bool, sweep, false, "where do the closed forms hold? grid over L, alpha, W");
ABSL_FLAG(bool, empirical, false, "also measure the influence on a stack of attention layers");
ABSL_FLAG(uint32_t, seed, 1, "--empirical: weight and input seed");
ABSL_FLAG(int, d_model, 64, "--empirical: model width");
ABSL_FLAG(int, heads, 4, "--empirical: attention heads");
ABSL_FLAG(int, sink_tokens, 0, "--empirical: learnable sink tokens per layer (0: none)");
ABSL_FLAG(std::string, html, "", "also write the report as a self-contained HTML page");

namespace sa = sinkscope::analysis;

namespace {

std::string Pct(double rel) { return absl::StrFormat("%.1f%%", 100.0 * rel); }

void PrintSweep(const sinkscope::v1::ReceptiveFieldReport& r) {
  std::cout << "\nWhere the closed forms stay within 10% of the exact model (G: Gaussian std and "
               "range, E: exponential range; - neither):\n";
  int64_t window = -1;
  double alpha = -1;
  for (const auto& p : r.sweep()) {
    if (p.window() != window || p.alpha() != alpha) {
      window = p.window();
      alpha = p.alpha();
      std::cout << absl::StrFormat("\n  W=%-5d alpha=%-5g L:", window, alpha);
    }
    std::cout << absl::StrFormat(" %d%s%s", p.layers(), p.gaussian_within_10pct() ? "G" : "",
                                 p.exponential_within_10pct() ? "E"
                                 : p.gaussian_within_10pct() ? ""
                                                             : "-");
  }
  std::cout << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  constexpr char kTool[] = "receptive_field";
  absl::SetProgramUsageMessage(
      "receptive_field --window=W --layers=L --alpha=A [--pattern=SF] [--sweep] [--empirical]");
  absl::ParseCommandLine(argc, argv);
  const int64_t window = absl::GetFlag(FLAGS_window);
  const int layers = absl::GetFlag(FLAGS_layers);
  const double alpha = absl::GetFlag(FLAGS_alpha);
  const double epsilon = absl::GetFlag(FLAGS_epsilon);
  int64_t context = absl::GetFlag(FLAGS_context);
  if (context == 0 && window >= 1 && layers >= 1) context = int64_t{layers} * (window - 1) + window;
  if (!(epsilon > 0.0 && epsilon < 1.0)) return sa::UsageError(kTool, "--epsilon must be in (0, 1)");
  if (layers > 100000 || window > 100000000) return sa::UsageError(kTool, "--layers or --window too large");
  absl::StatusOr<sa::StackModel> model =
      sa::StackFromPattern(absl::GetFlag(FLAGS_pattern), layers, window, alpha, context);
  if (!model.ok()) return sa::UsageError(kTool, model.status().message());
  const sa::ReportOutputs outputs = sa::ReportOutputsFromFlags();
  if (absl::Status st = sa::CheckReportOutputs(outputs); !st.ok()) return sa::Fail(kTool, st);
  const std::string html = absl::GetFlag(FLAGS_html);
  if (!html.empty()) {
    if (absl::Status st = sinkscope::model::CheckWritable(html); !st.ok()) return sa::Fail(kTool, st);
  }

  const std::vector<double> p = sa::ExactInfluence(*model);
  sinkscope::v1::ReceptiveFieldReport r = sa::SummarizeInfluence(*model, p, epsilon);
  // A pattern with full layers: the all-sliding stack of the same depth, for comparison.
  std::string comparison;
  if (model->pattern.find('F') != std::string::npos) {
    absl::StatusOr<sa::StackModel> sliding = sa::StackFromPattern("S", layers, window, alpha, context);
    const std::vector<double> q = sa::ExactInfluence(*sliding);
    const sa::CurveSummary s_all = sa::SummarizeCurve(q, epsilon);
    sinkscope::v1::Curve* c = r.add_curves();
    c->set_name("exact, all sliding");
    const auto& exact = r.curves(0);
    for (int i = 0; i < exact.distance_size(); ++i) {
      const auto d = static_cast<size_t>(exact.distance(i));
      c->add_distance(exact.distance(i));
      c->add_value(d < q.size() ? q[d] : 0.0);
    }
    comparison = absl::StrFormat(
        "all sliding:  mean %.1f, reach(eps=%g) %d (the same %d layers without full attention)\n",
        s_all.mean, epsilon, s_all.reach_at_epsilon, layers);
  }
  for (auto& c : sa::ReachVersusDepth(window, layers, {0.0, 0.5, 0.9, 0.99})) {
    *r.add_reach_vs_depth() = std::move(c);
  }
  std::cout << absl::StrFormat(
      "receptive field: pattern %s (%d layers), window %d, alpha %g, context %d\n"
      "exact:        mean %.1f, std %.1f, reach(eps=%g) %d, 99%% of mass within %d, "
      "16-84%% range %.1f tokens (mass kept %.4f)\n",
      r.pattern(), r.layers(), r.window(), r.alpha(), r.context(), r.mean_distance(),
      r.std_distance(), epsilon, r.reach_at_epsilon(), r.distance_99_mass(), r.exact_range(),
      r.total_mass());
  if (r.gaussian_std() > 0) {
    std::cout << absl::StrFormat(
        "gaussian:     std %.1f (%s off), range %.1f (%s off the exact 16-84%% range)\n",
        r.gaussian_std(), Pct(r.gaussian_std_rel_error()), r.gaussian_range(),
        Pct(r.gaussian_range_rel_error()));
  }
  if (r.exponential_range() > 0) {
    std::cout << absl::StrFormat("exponential:  range %.1f (%s off the exact reach at eps 0.01)\n",
                                 r.exponential_range(), Pct(r.exponential_range_rel_error()));
  }
  std::cout << comparison;
  if (absl::GetFlag(FLAGS_sweep)) {
    for (const auto& s : sa::SweepClosedForms({1, 2, 4, 8, 16, 32, 64}, {0.0, 0.5, 0.9, 0.99},
                                              {16, 64, 256})) {
      *r.add_sweep() = s;
    }
    PrintSweep(r);
  }
  if (absl::GetFlag(FLAGS_empirical)) {
    sa::EmpiricalOptions o;
    o.d_model = absl::GetFlag(FLAGS_d_model);
    o.heads = absl::GetFlag(FLAGS_heads);
    o.seed = absl::GetFlag(FLAGS_seed);
    o.pattern = absl::GetFlag(FLAGS_pattern);
    o.layers = layers;
    o.window = window;
    o.sink_tokens = absl::GetFlag(FLAGS_sink_tokens);
    // Real layers over ~2 L W tokens (~9 L W with a full layer): keep the run to seconds.
    const bool has_full = o.pattern.find('F') != std::string::npos;
    const int64_t limit = has_full ? 256 : 1024;
    if (o.layers * o.window > limit) {
      return sa::UsageError(kTool, absl::StrCat("--empirical runs real attention layers: it needs "
                                                "layers x window <= ", limit,
                                                has_full ? " with a full layer" : ""));
    }
    std::cerr << kTool << ": measuring the influence on " << layers << " attention layers...\n";
    absl::StatusOr<sa::EmpiricalResult> e = sa::MeasureEmpiricalInfluence(o);
    if (!e.ok()) return sa::Fail(kTool, e.status());
    *r.mutable_empirical() = e->proto;
    sinkscope::v1::Curve* measured = r.add_curves();
    measured->set_name("measured (attention layers)");
    sinkscope::v1::Curve* theory = r.add_curves();
    theory->set_name(absl::StrFormat("theory at fitted alpha %.3f", e->fitted_alpha));
    for (size_t d = 0; d < e->measured.size(); ++d) {
      measured->add_distance(static_cast<double>(d));
      measured->add_value(e->measured[d]);
      theory->add_distance(static_cast<double>(d));
      theory->add_value(d < e->theory.size() ? e->theory[d] : 0.0);
    }
    std::cout << absl::StrFormat(
        "measured:     mean %.1f, reach(eps=0.01) %d on %d layers (d_model %d, %d heads, seed %u, "
        "%d sink tokens); fitted alpha %.3f -> theory mean %.1f, reach %d\n",
        e->proto.mean_distance(), e->proto.reach_at_epsilon(), layers, o.d_model, o.heads, o.seed,
        o.sink_tokens, e->fitted_alpha, e->proto.theory_mean_distance(),
        e->proto.theory_reach_at_epsilon());
    if (o.sink_tokens > 0) {
      // The same stack and seed without sink tokens: what the sinks change.
      sa::EmpiricalOptions plain = o;
      plain.sink_tokens = 0;
      absl::StatusOr<sa::EmpiricalResult> p0 = sa::MeasureEmpiricalInfluence(plain);
      if (!p0.ok()) return sa::Fail(kTool, p0.status());
      sinkscope::v1::Curve* c = r.add_curves();
      c->set_name("measured without sink tokens");
      for (size_t d = 0; d < p0->measured.size(); ++d) {
        c->add_distance(static_cast<double>(d));
        c->add_value(p0->measured[d]);
      }
      std::cout << absl::StrFormat("without sinks: mean %.1f, reach(eps=0.01) %d\n",
                                   p0->proto.mean_distance(), p0->proto.reach_at_epsilon());
    }
  }
  sinkscope::v1::Report report;
  *report.mutable_provenance() = sa::MakeProvenance(
      kTool, argc, argv,
      {{"window", absl::StrCat(window)}, {"layers", absl::StrCat(layers)},
       {"alpha", absl::StrCat(alpha)}, {"pattern", absl::GetFlag(FLAGS_pattern)},
       {"context", absl::StrCat(context)}, {"epsilon", absl::StrCat(epsilon)}});
  *report.mutable_receptive_field_report() = std::move(r);
  if (absl::Status st = sa::WriteReport(report, outputs); !st.ok()) return sa::Fail(kTool, st);
  if (!html.empty()) {
    if (absl::Status st = sinkscope::model::WriteFileAtomically(html, sa::RenderHtmlReport(report));
        !st.ok()) {
      return sa::Fail(kTool, st);
    }
  }
  return 0;
}
