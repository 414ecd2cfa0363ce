#include "report/report_text.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace sinkscope::analysis {
namespace {

std::string Db(double v) {
  if (std::isinf(v)) return v > 0 ? "exact" : "-inf";
  return absl::StrFormat("%.1f", v);
}

std::string SummaryLine(const sinkscope::v1::Summary& s) {
  return absl::StrFormat(
      "n=%d mean=%.4g std=%.4g abs_max=%.4g median|x|=%.4g abs_max/median=%.4g kurtosis=%.4g "
      "|x|>=%g: %d",
      s.count(), s.mean(), s.std(), s.abs_max(), s.median_abs(), s.abs_max_over_median(),
      s.kurtosis(), s.llm_int8_threshold(), s.llm_int8_count());
}

void DescribeWeights(const sinkscope::v1::WeightReport& w, int max_rows, std::string* out) {
  absl::StrAppend(out, "weight scan of ", w.checkpoint(), ": ", w.tensors_size(), " of ",
                  w.tensors_in_checkpoint(), " tensors", w.shard().empty() ? "" : " (shard ",
                  w.shard(), w.shard().empty() ? "" : ")", "\n");
  absl::StrAppend(out, "all tensors: ", SummaryLine(w.total()), "\n\n");
  std::vector<const sinkscope::v1::TensorReport*> order;
  for (const auto& t : w.tensors()) order.push_back(&t);
  std::stable_sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
    return a->summary().abs_max_over_median() > b->summary().abs_max_over_median();
  });
  absl::StrAppendFormat(out, "%-48s %-8s %-18s %10s %10s %10s %9s %9s\n", "tensor (worst first)",
                        "dtype", "shape", "abs_max", "median|x|", "max/med", "int8 t dB",
                        "int8 c dB");
  for (size_t i = 0; i < order.size() && static_cast<int>(i) < max_rows; ++i) {
    const auto& t = *order[i];
    std::string tensor_db = "-", channel_db = "-";
    if (t.quant_errors_size() > 0) tensor_db = Db(t.quant_errors(0).sqnr_db());
    if (t.quant_errors_size() > 1) channel_db = Db(t.quant_errors(1).sqnr_db());
    absl::StrAppendFormat(out, "%-48s %-8s %-18s %10.4g %10.4g %10.4g %9s %9s\n",
                          t.name().substr(0, 48), t.dtype(),
                          "[" + absl::StrJoin(t.shape(), ",") + "]", t.summary().abs_max(),
                          t.summary().median_abs(), t.summary().abs_max_over_median(), tensor_db,
                          channel_db);
  }
  if (order.size() > static_cast<size_t>(max_rows)) {
    absl::StrAppend(out, "... ", order.size() - max_rows, " more\n");
  }
  if (w.sink_logits_size() > 0) {
    // One line per layer: its heads' sink logits S_h.
    absl::StrAppend(out, "\nattention sink logits (", w.sink_logits_size(),
                    " heads), per layer: min / mean / max, then h0, h1, ...\n");
    for (int i = 0; i < w.sink_logits_size();) {
      const int layer = w.sink_logits(i).layer();
      const std::string& tensor = w.sink_logits(i).tensor();
      int j = i;
      double lo = w.sink_logits(i).value(), hi = lo, sum = 0.0;
      std::string values;
      for (; j < w.sink_logits_size() && w.sink_logits(j).tensor() == tensor; ++j) {
        const double v = w.sink_logits(j).value();
        lo = std::min(lo, v);
        hi = std::max(hi, v);
        sum += v;
        absl::StrAppendFormat(&values, " %.3f", v);
      }
      absl::StrAppendFormat(out, "  layer %3d: %8.3f %8.3f %8.3f |%s\n", layer, lo,
                            sum / (j - i), hi, values);
      i = j;
    }
  }
}

void DescribeActivations(const sinkscope::v1::ActivationReport& a, std::string* out) {
  absl::StrAppendFormat(out, "activation scan of %s: %d layers, %d tokens, %d sequences\n",
                        a.model(), a.num_layers(), a.num_tokens(), a.num_sequences());
  absl::StrAppendFormat(out, "Sink_1^%g = %.1f%% of heads\n\n", a.sink_epsilon(), a.sink_rate());
  absl::StrAppendFormat(out, "%6s %10s %10s %10s %8s %14s\n", "layer", "abs_max", "median|h|",
                        "max/med", "massive", "first-tok mass");
  for (const auto& l : a.layers()) {
    double mass = 0.0;
    for (const auto& h : l.heads()) mass += h.first_token_mass();
    if (l.heads_size() > 0) mass /= l.heads_size();
    absl::StrAppendFormat(out, "%6d %10.4g %10.4g %10.4g %8d %14.3f\n", l.layer(),
                          l.hidden().abs_max(), l.median_abs(), l.hidden().abs_max_over_median(),
                          l.massive_size(), mass);
  }
}

void DescribeReceptiveField(const sinkscope::v1::ReceptiveFieldReport& r, std::string* out) {
  absl::StrAppendFormat(out,
                        "receptive field: pattern %s, %d layers, window %d, alpha %g, context %d\n"
                        "mean %.1f, std %.1f, reach(eps=%g) %d, 99%% mass within %d tokens\n"
                        "gaussian std %.1f (rel. error %.1f%%), exponential range %.1f (rel. "
                        "error %.1f%%)\n",
                        r.pattern(), r.layers(), r.window(), r.alpha(), r.context(),
                        r.mean_distance(), r.std_distance(), r.epsilon(), r.reach_at_epsilon(),
                        r.distance_99_mass(), r.gaussian_std(), 100 * r.gaussian_std_rel_error(),
                        r.exponential_range(), 100 * r.exponential_range_rel_error());
}

void DescribeErrors(const google::protobuf::RepeatedPtrField<sinkscope::v1::QuantError>& errors,
                    std::string* out) {
  absl::StrAppendFormat(out, "%-40s %10s %10s %12s\n", "quantization", "SQNR dB", "cosine",
                        "max|err|");
  for (const auto& e : errors) {
    absl::StrAppendFormat(out, "%-40s %10s %10.5f %12.4g\n", e.name(), Db(e.sqnr_db()), e.cosine(),
                          e.max_abs_error());
  }
}

void DescribeTraining(const sinkscope::v1::TrainingReport& t, std::string* out) {
  absl::StrAppend(out, "training: ", t.runs_size(), " runs, ", t.schedule(), "\n");
  absl::StrAppendFormat(out, "%-20s %-16s %8s %8s %9s %7s %9s %9s\n", "run", "variant", "loss",
                        "copy", "baseline", "sink%", "max/med", "int8 dB");
  for (const auto& r : t.runs()) {
    if (r.emergence().empty()) continue;
    const auto& e = r.emergence(r.emergence_size() - 1);
    double db = 0.0;
    for (double v : e.attention_sqnr_db()) db += v / e.attention_sqnr_db_size();
    absl::StrAppendFormat(out, "%-20s %-16s %8.3f %8.3f %9.3f %7.1f %9.1f %9s\n", r.name(),
                          r.variant(), e.eval_loss(), e.eval_copy_loss(), r.copy_baseline_nll(),
                          e.sink_rate(), e.abs_max_over_median(), Db(db));
  }
}

// Sorted by KL (fp32 first), the worst layer by residual SQNR.
void DescribeQuantEval(const sinkscope::v1::QuantEvalReport& q, std::string* out) {
  absl::StrAppend(out, "quant_eval: ", q.model_type(), ", ", q.num_layers(), " layers, ",
                  q.num_predicted(), " predicted tokens in ", q.tokens_per_file_size(),
                  " file(s); fp32 NLL ", absl::StrFormat("%.4f", q.fp32_mean_nll()), "\n");
  std::vector<const sinkscope::v1::QuantEvalConfig*> order;
  for (const auto& c : q.configs()) order.push_back(&c);
  std::stable_sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
    return a->mean_kl() < b->mean_kl();
  });
  absl::StrAppendFormat(out, "%-24s %9s %9s %11s %8s %18s\n", "config", "NLL", "dNLL", "KL",
                        "top-1", "worst layer");
  for (const auto* c : order) {
    int worst = -1;
    double worst_db = std::numeric_limits<double>::infinity();
    for (const auto& l : c->layers()) {
      if (l.residual_sqnr_db() < worst_db) {
        worst_db = l.residual_sqnr_db();
        worst = l.layer();
      }
    }
    const std::string w = worst < 0 ? "-" : absl::StrCat("L", worst, " ", Db(worst_db), " dB");
    absl::StrAppendFormat(out, "%-24s %9.4f %+9.4f %11.3e %7.1f%% %18s\n", c->name(),
                          c->mean_nll(), c->delta_nll(), c->mean_kl(), 100 * c->top1_agreement(),
                          w);
  }
  // Which remedy wins: per base configuration run with remedies, the remedies ranked by KL with
  // the factor by which each lowers the base's KL.
  std::map<std::string, const sinkscope::v1::QuantEvalConfig*> bases;
  for (const auto& c : q.configs()) {
    if (c.remedies_size() == 0) bases[c.name()] = &c;
  }
  for (const auto& [name, base] : bases) {
    std::vector<const sinkscope::v1::QuantEvalConfig*> with;
    for (const auto* c : order) {
      if (c->remedies_size() > 0 && c->base() == name) with.push_back(c);
    }
    if (with.empty()) continue;
    absl::StrAppend(out, "which remedy wins for ", name, " (KL ",
                    absl::StrFormat("%.3e", base->mean_kl()), "):\n");
    for (const auto* c : with) {
      const double factor = c->mean_kl() > 0 ? base->mean_kl() / c->mean_kl()
                                             : std::numeric_limits<double>::infinity();
      absl::StrAppendFormat(out, "  %-32s KL %.3e  x%.3g lower%s\n", c->name(), c->mean_kl(),
                            factor, c->rotation().empty() ? "" : absl::StrCat("  (", c->rotation(), ")"));
      for (const auto& s : c->linear_inputs()) {
        if (s.fp32_channels_size() == 0 || s.layer() != 0) continue;
        absl::StrAppend(out, "    fp32 channels of layer 0 ", s.name(), ": ",
                        absl::StrJoin(s.fp32_channels(), ", "), "\n");
      }
      if (c->keep_sink_tokens() > 0) {
        absl::StrAppend(out, "    protected tokens: 0..", c->keep_sink_tokens() - 1, "\n");
      }
    }
  }
}

}  // namespace

std::string DescribeReport(const sinkscope::v1::Report& report, int max_rows) {
  std::string out;
  const auto& p = report.provenance();
  absl::StrAppend(&out, "sinkscope report from ", p.tool().empty() ? "?" : p.tool(), " ",
                  p.version(), " at ", p.time(), " on ", p.cpu_isa(), " (oneDNN ",
                  p.onednn_version(), ")", p.git_commit().empty() ? "" : ", commit ",
                  p.git_commit().substr(0, 12), "\n");
  if (p.has_text_input()) {
    // --text runs: which tokenizer turned which files into the ids analysed.
    const sinkscope::v1::TextInput& t = p.text_input();
    int64_t tokens = 0, used = 0;
    for (const sinkscope::v1::TextFile& f : t.files()) {
      tokens += f.tokens();
      used += f.tokens_used();
    }
    absl::StrAppend(&out, "text input: ", t.files_size(), " file(s), ", tokens, " tokens (",
                    used, " used), tokenizer ", t.tokenizer_file(), " (sha256 ",
                    t.tokenizer_sha256().substr(0, 16), ", ", t.tokenizer(), "), special tokens ",
                    t.add_special_tokens() ? "added" : "not added", "\n");
    for (const sinkscope::v1::TextFile& f : t.files()) {
      absl::StrAppend(&out, "  ", f.path(), ": ", f.tokens(), " tokens, ", f.tokens_used(),
                      " used\n");
    }
  }
  switch (report.body_case()) {
    case sinkscope::v1::Report::kWeightReport:
      DescribeWeights(report.weight_report(), max_rows, &out);
      break;
    case sinkscope::v1::Report::kActivationReport:
      DescribeActivations(report.activation_report(), &out);
      break;
    case sinkscope::v1::Report::kReceptiveFieldReport:
      DescribeReceptiveField(report.receptive_field_report(), &out);
      break;
    case sinkscope::v1::Report::kStudyReport:
      absl::StrAppend(&out, "sink study: ", report.study_report().rows_size(), " rows\n");
      for (const auto& r : report.study_report().rows()) {
        absl::StrAppendFormat(&out, "%-20s %-28s sink %.1f%% max/med %.4g int8 %s dB\n",
                              r.variant(), r.config(), r.sink_rate(), r.abs_max_over_median(),
                              Db(r.attention_error().sqnr_db()));
      }
      break;
    case sinkscope::v1::Report::kQuantDemoReport:
      DescribeErrors(report.quant_demo_report().errors(), &out);
      break;
    case sinkscope::v1::Report::kTrainingReport:
      DescribeTraining(report.training_report(), &out);
      break;
    case sinkscope::v1::Report::kQuantEvalReport:
      DescribeQuantEval(report.quant_eval_report(), &out);
      break;
    case sinkscope::v1::Report::BODY_NOT_SET:
      absl::StrAppend(&out, "(no body)\n");
      break;
  }
  return out;
}

std::string DescribeShardRuns(const sinkscope::v1::Provenance& provenance) {
  if (provenance.shards_size() == 0) return "";
  bool tensors = false, tokens = false;
  for (const sinkscope::v1::ShardRun& s : provenance.shards()) {
    tensors = tensors || s.tensors() > 0 || s.bytes() > 0;
    tokens = tokens || s.token_files() > 0 || s.tokens() > 0;
  }
  std::string out = absl::StrCat(provenance.shards_size(), " shards:\n  shard     host              ",
                                 tensors ? "  tensors           bytes" : "",
                                 tokens ? "  token files     tokens" : "", "   seconds\n");
  int64_t min_bytes = std::numeric_limits<int64_t>::max(), max_bytes = 0;
  double min_s = std::numeric_limits<double>::infinity(), max_s = 0.0;
  for (const sinkscope::v1::ShardRun& s : provenance.shards()) {
    absl::StrAppendFormat(&out, "  %-8s  %-16s", absl::StrCat(s.index(), "/", s.count()),
                          s.host());
    if (tensors) absl::StrAppendFormat(&out, "  %7d  %14d", s.tensors(), s.bytes());
    if (tokens) absl::StrAppendFormat(&out, "  %11d  %9d", s.token_files(), s.tokens());
    absl::StrAppendFormat(&out, "  %8.3f\n", s.seconds());
    min_bytes = std::min(min_bytes, s.bytes());
    max_bytes = std::max(max_bytes, s.bytes());
    min_s = std::min(min_s, s.seconds());
    max_s = std::max(max_s, s.seconds());
  }
  if (tensors) {
    absl::StrAppendFormat(
        &out, "  bytes per shard %d..%d (max/min %s); ", min_bytes, max_bytes,
        min_bytes > 0 ? absl::StrFormat("%.3f", static_cast<double>(max_bytes) /
                                                    static_cast<double>(min_bytes))
                      : std::string("-"));
  } else {
    absl::StrAppend(&out, "  ");
  }
  absl::StrAppendFormat(&out, "seconds per shard %.3f..%.3f\n", min_s, max_s);
  return out;
}

}  // namespace sinkscope::analysis
