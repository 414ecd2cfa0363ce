#include "analysis/report_merge.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "analysis/quant_eval.h"
#include "analysis/sink_metrics.h"
#include "analysis/tensor_summary.h"
#include "analysis/weight_scan.h"

namespace sinkscope::analysis {
namespace {

using sinkscope::v1::ActivationReport;
using sinkscope::v1::Report;
using sinkscope::v1::WeightReport;

absl::StatusOr<WeightReport> MergeWeights(const std::vector<const WeightReport*>& in) {
  WeightReport out;
  out.set_checkpoint(in[0]->checkpoint());
  out.set_tensors_in_checkpoint(in[0]->tensors_in_checkpoint());
  // (global index in the checkpoint, tensor)
  std::vector<std::pair<int64_t, const sinkscope::v1::TensorReport*>> tensors;
  std::set<std::string> names;
  std::vector<const sinkscope::v1::Summary*> totals;
  for (const WeightReport* w : in) {
    if (w->checkpoint() != out.checkpoint() ||
        w->tensors_in_checkpoint() != out.tensors_in_checkpoint()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "reports come from different checkpoints: '", out.checkpoint(), "' and '",
          w->checkpoint(), "'"));
    }
    int index = 0, count = 1;
    if (!w->shard().empty()) {
      if (absl::Status st = ParseShard(w->shard(), &index, &count); !st.ok()) return st;
    }
    for (int j = 0; j < w->tensors_size(); ++j) {
      const auto& t = w->tensors(j);
      if (!names.insert(t.name()).second) {
        return absl::InvalidArgumentError(
            absl::StrCat("tensor '", t.name(), "' appears in more than one report"));
      }
      tensors.emplace_back(static_cast<int64_t>(index) + static_cast<int64_t>(j) * count, &t);
    }
    totals.push_back(&w->total());
  }
  std::stable_sort(tensors.begin(), tensors.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [unused, t] : tensors) *out.add_tensors() = *t;
  // Sink logits follow their tensors' order: each shard's come in its own tensor order.
  std::map<std::string, std::vector<const sinkscope::v1::HeadSinkLogit*>> sinks;
  for (const WeightReport* w : in) {
    for (const auto& s : w->sink_logits()) sinks[s.tensor()].push_back(&s);
  }
  for (const auto& [unused, t] : tensors) {
    auto it = sinks.find(t->name());
    if (it == sinks.end()) continue;
    for (const sinkscope::v1::HeadSinkLogit* s : it->second) *out.add_sink_logits() = *s;
    sinks.erase(it);
  }
  if (!sinks.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("sink logits of tensor '", sinks.begin()->first,
                                                   "' without its tensor report"));
  }
  if (static_cast<int64_t>(tensors.size()) != out.tensors_in_checkpoint()) {
    out.set_shard(absl::StrCat("partial: ", tensors.size(), " of ", out.tensors_in_checkpoint(),
                               " tensors"));
  }
  absl::StatusOr<sinkscope::v1::Summary> total = MergeSummaries(totals);
  if (!total.ok()) return total.status();
  *out.mutable_total() = *total;
  return out;
}

absl::StatusOr<ActivationReport> MergeActivations(const std::vector<const ActivationReport*>& in) {
  ActivationReport out = *in[0];
  int64_t sequences = 0;
  for (const ActivationReport* a : in) {
    if (a->num_layers() != out.num_layers() || a->layers_size() != out.layers_size()) {
      return absl::InvalidArgumentError("activation reports have different layer counts");
    }
    sequences += std::max(a->num_sequences(), 1);
  }
  out.set_num_sequences(static_cast<int>(sequences));
  // mean_nll: weighted by the tokens each report predicted.
  int64_t predicted = 0;
  double nll = 0.0;
  for (const ActivationReport* a : in) {
    predicted += a->num_predicted();
    nll += a->mean_nll() * static_cast<double>(a->num_predicted());
  }
  out.set_num_predicted(predicted);
  out.set_mean_nll(predicted > 0 ? nll / static_cast<double>(predicted) : 0.0);
  std::vector<sinkscope::v1::HeadSink> all_heads;
  for (int l = 0; l < out.layers_size(); ++l) {
    sinkscope::v1::LayerReport* layer = out.mutable_layers(l);
    std::vector<const sinkscope::v1::Summary*> hidden;
    layer->clear_massive();
    for (const ActivationReport* a : in) {
      const auto& src = a->layers(l);
      if (src.heads_size() != layer->heads_size()) {
        return absl::InvalidArgumentError(absl::StrCat("layer ", l, ": head counts differ"));
      }
      hidden.push_back(&src.hidden());
      for (const auto& m : src.massive()) *layer->add_massive() = m;
    }
    absl::StatusOr<sinkscope::v1::Summary> merged = MergeSummaries(hidden);
    if (!merged.ok()) return merged.status();
    *layer->mutable_hidden() = *merged;
    for (int h = 0; h < layer->heads_size(); ++h) {
      double mass = 0.0, slot = 0.0;
      std::vector<double> alpha(layer->heads(h).alpha_size(), 0.0);
      for (const ActivationReport* a : in) {
        const double w = static_cast<double>(std::max(a->num_sequences(), 1)) / sequences;
        const auto& src = a->layers(l).heads(h);
        mass += w * src.first_token_mass();
        slot += w * src.sink_slot_mass();
        for (size_t k = 0; k < alpha.size() && static_cast<int>(k) < src.alpha_size(); ++k) {
          alpha[k] += w * src.alpha(static_cast<int>(k));
        }
      }
      sinkscope::v1::HeadSink* head = layer->mutable_heads(h);
      head->set_first_token_mass(mass);
      head->set_sink_slot_mass(slot);
      for (size_t k = 0; k < alpha.size(); ++k) head->set_alpha(static_cast<int>(k), alpha[k]);
      head->set_is_sink(mass > out.sink_epsilon());
      all_heads.push_back(*head);
    }
  }
  out.set_sink_rate(SinkRate(all_heads, out.sink_epsilon()));
  return out;
}

}  // namespace

absl::StatusOr<sinkscope::v1::Summary> MergeSummaries(
    const std::vector<const sinkscope::v1::Summary*>& summaries) {
  if (summaries.empty()) return sinkscope::v1::Summary();
  absl::StatusOr<SummaryBuilder> acc = SummaryBuilder::FromProto(*summaries[0]);
  if (!acc.ok()) return acc.status();
  for (size_t i = 1; i < summaries.size(); ++i) {
    absl::StatusOr<SummaryBuilder> b = SummaryBuilder::FromProto(*summaries[i]);
    if (!b.ok()) return b.status();
    if (absl::Status st = acc->Merge(*b); !st.ok()) return st;
  }
  return acc->ToProto();
}

namespace {

// quant_eval shards (token files): same checkpoint, layers and configurations in the same order;
// sums add, then every mean is recomputed from them.
absl::StatusOr<v1::QuantEvalReport> MergeQuantEval(const std::vector<const v1::QuantEvalReport*>& in) {
  v1::QuantEvalReport out = *in[0];
  for (size_t i = 1; i < in.size(); ++i) {
    const v1::QuantEvalReport& r = *in[i];
    if (r.checkpoint() != out.checkpoint() || r.num_layers() != out.num_layers() ||
        r.configs_size() != out.configs_size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "quant_eval shard ", i, " is of another run (checkpoint '", r.checkpoint(), "', ",
          r.num_layers(), " layers, ", r.configs_size(), " configurations; shard 0: '",
          out.checkpoint(), "', ", out.num_layers(), ", ", out.configs_size(), ")"));
    }
    for (const std::string& f : r.token_files()) out.add_token_files(f);
    for (int64_t n : r.tokens_per_file()) out.add_tokens_per_file(n);
    out.set_num_predicted(out.num_predicted() + r.num_predicted());
    out.set_fp32_sum_nll(out.fp32_sum_nll() + r.fp32_sum_nll());
    for (int c = 0; c < r.configs_size(); ++c) {
      const v1::QuantEvalConfig& a = r.configs(c);
      v1::QuantEvalConfig* m = out.mutable_configs(c);
      if (a.name() != m->name() || a.layers_size() != m->layers_size()) {
        return absl::InvalidArgumentError(absl::StrCat("quant_eval shard ", i, ": configuration ", c,
                                                       " is '", a.name(), "', shard 0 has '",
                                                       m->name(), "'"));
      }
      m->set_sum_nll(m->sum_nll() + a.sum_nll());
      m->set_sum_kl(m->sum_kl() + a.sum_kl());
      m->set_top1_matches(m->top1_matches() + a.top1_matches());
      m->set_seconds(m->seconds() + a.seconds());
      for (int l = 0; l < a.layers_size(); ++l) {
        v1::QuantEvalLayer* ml = m->mutable_layers(l);
        ml->set_signal(ml->signal() + a.layers(l).signal());
        ml->set_noise(ml->noise() + a.layers(l).noise());
      }
      std::map<std::tuple<int, std::string, int>, v1::LinearInputStats*> by_key;
      for (v1::LinearInputStats& s : *m->mutable_linear_inputs()) {
        by_key[{s.layer(), s.name(), s.expert()}] = &s;
      }
      for (const v1::LinearInputStats& s : a.linear_inputs()) {
        auto it = by_key.find({s.layer(), s.name(), s.expert()});
        if (it == by_key.end()) {
          *m->add_linear_inputs() = s;  // (an expert no token of shard 0 reached)
        } else {
          MergeLinearInputStats(s, it->second);
        }
      }
    }
  }
  FinishQuantEvalMeans(&out);
  return out;
}

}  // namespace

absl::StatusOr<Report> MergeReports(const std::vector<Report>& reports) {
  if (reports.empty()) return absl::InvalidArgumentError("no reports to merge");
  const Report::BodyCase kind = reports[0].body_case();
  for (const Report& r : reports) {
    if (r.body_case() != kind) {
      return absl::InvalidArgumentError("reports of different kinds cannot be merged");
    }
  }
  Report out;
  *out.mutable_provenance() = reports[0].provenance();
  if (kind == Report::kWeightReport) {
    std::vector<const WeightReport*> in;
    for (const Report& r : reports) in.push_back(&r.weight_report());
    absl::StatusOr<WeightReport> w = MergeWeights(in);
    if (!w.ok()) return w.status();
    *out.mutable_weight_report() = *std::move(w);
    return out;
  }
  if (kind == Report::kActivationReport) {
    std::vector<const ActivationReport*> in;
    for (const Report& r : reports) in.push_back(&r.activation_report());
    absl::StatusOr<ActivationReport> a = MergeActivations(in);
    if (!a.ok()) return a.status();
    *out.mutable_activation_report() = *std::move(a);
    return out;
  }
  if (kind == Report::kQuantEvalReport) {
    std::vector<const v1::QuantEvalReport*> in;
    for (const Report& r : reports) in.push_back(&r.quant_eval_report());
    absl::StatusOr<v1::QuantEvalReport> q = MergeQuantEval(in);
    if (!q.ok()) return q.status();
    *out.mutable_quant_eval_report() = *std::move(q);
    return out;
  }
  return absl::InvalidArgumentError(
      "only weight, activation and quant_eval reports can be merged (scans over shards)");
}

}  // namespace sinkscope::analysis
