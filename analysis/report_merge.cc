#include "analysis/report_merge.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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
  // (index among the selected tensors, tensor)
  std::vector<std::pair<int64_t, const sinkscope::v1::TensorReport*>> tensors;
  std::set<std::string> names;
  int64_t scanned_bytes = 0;
  for (const WeightReport* w : in) {
    if (w->checkpoint() != out.checkpoint() ||
        w->tensors_in_checkpoint() != out.tensors_in_checkpoint()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "reports come from different checkpoints or filters: '", out.checkpoint(), "' (",
          out.tensors_in_checkpoint(), " tensors selected) and '", w->checkpoint(), "' (",
          w->tensors_in_checkpoint(), ")"));
    }
    for (const auto& t : w->tensors()) {
      if (!names.insert(t.name()).second) {
        return absl::InvalidArgumentError(
            absl::StrCat("tensor '", t.name(), "' appears in more than one report"));
      }
      tensors.emplace_back(t.index(), &t);
    }
    scanned_bytes += w->scanned_bytes();
  }
  if (static_cast<int64_t>(tensors.size()) != out.tensors_in_checkpoint()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the reports hold ", tensors.size(), " of the scan's ", out.tensors_in_checkpoint(),
        " tensors: not a whole scan (a shard is missing or was scanned with other options)"));
  }
  std::sort(tensors.begin(), tensors.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (tensors[i].first != static_cast<int64_t>(i)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tensor '", tensors[i].second->name(), "' has index ", tensors[i].first, ", expected ",
          i, ": the reports' tensor indices are not 0..", tensors.size() - 1,
          " (reports of an older sinkscope?)"));
    }
  }
  for (const auto& [unused, t] : tensors) *out.add_tensors() = *t;
  out.set_scanned_bytes(scanned_bytes);
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
  // The total as the whole scan computes it: the tensors' summaries merged in checkpoint order
  // into an empty accumulator (so it is bit-identical, not just equal up to rounding).
  if (!tensors.empty()) {
    const sinkscope::v1::Summary& first = tensors[0].second->summary();
    SummaryOptions options;
    options.k_sigma = first.k_sigma();
    options.llm_int8_threshold = first.llm_int8_threshold();
    options.relative_accuracy = first.sketch().relative_accuracy();
    SummaryBuilder total(options);
    for (const auto& [unused, t] : tensors) {
      absl::StatusOr<SummaryBuilder> b = SummaryBuilder::FromProto(t->summary());
      if (!b.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("tensor '", t->name(), "': ", b.status().message()));
      }
      if (absl::Status st = total.Merge(*b); !st.ok()) return st;
    }
    *out.mutable_total() = total.ToProto();
  } else {
    std::vector<const sinkscope::v1::Summary*> totals;
    for (const WeightReport* w : in) totals.push_back(&w->total());
    absl::StatusOr<sinkscope::v1::Summary> total = MergeSummaries(totals);
    if (!total.ok()) return total.status();
    *out.mutable_total() = *total;
  }
  return out;
}

absl::StatusOr<ActivationReport> MergeActivations(const std::vector<const ActivationReport*>& in) {
  ActivationReport out = *in[0];
  int64_t sequences = 0;
  for (const ActivationReport* a : in) {
    if (a->num_layers() != out.num_layers() || a->layers_size() != out.layers_size()) {
      return absl::InvalidArgumentError("activation reports have different layer counts");
    }
    if (a->sink_epsilon() != out.sink_epsilon() || a->abs_threshold() != out.abs_threshold() ||
        a->ratio_threshold() != out.ratio_threshold()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "activation reports have different thresholds: sink epsilon ", a->sink_epsilon(),
          " vs ", out.sink_epsilon(), ", massive ", a->abs_threshold(), "/",
          a->ratio_threshold(), " vs ", out.abs_threshold(), "/", out.ratio_threshold()));
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

// Provenance config entries that may differ between the shards of one run.
bool ShardLocalConfig(const std::string& key) { return key == "shard" || key == "threads"; }

std::string InputName(const MergeOptions& options, size_t i) {
  return i < options.names.size() ? absl::StrCat("'", options.names[i], "'")
                                  : absl::StrCat("input ", i);
}

// Input i against input 0: one tool, version, commit (when both known) and configuration.
absl::Status CheckSameRun(const Report& a, const Report& b, const std::string& name_a,
                          const std::string& name_b) {
  const v1::Provenance& p = a.provenance();
  const v1::Provenance& q = b.provenance();
  if (p.tool().empty() || q.tool().empty()) return absl::OkStatus();  // (library-made reports)
  const auto mismatch = [&](absl::string_view what, absl::string_view x, absl::string_view y) {
    return absl::InvalidArgumentError(absl::StrCat(name_b, " is not of the same run as ", name_a,
                                                   ": ", what, " is '", y, "' in ", name_b,
                                                   ", '", x, "' in ", name_a));
  };
  if (p.tool() != q.tool()) return mismatch("the tool", p.tool(), q.tool());
  if (p.version() != q.version()) return mismatch("the sinkscope version", p.version(), q.version());
  if (!p.git_commit().empty() && !q.git_commit().empty() && p.git_commit() != q.git_commit()) {
    return mismatch("the git commit", p.git_commit(), q.git_commit());
  }
  if (p.text_input().tokenizer_sha256() != q.text_input().tokenizer_sha256()) {
    return mismatch("the tokenizer's SHA-256", p.text_input().tokenizer_sha256(),
                    q.text_input().tokenizer_sha256());
  }
  std::set<std::string> keys;
  for (const auto& [k, v] : p.config()) keys.insert(k);
  for (const auto& [k, v] : q.config()) keys.insert(k);
  for (const std::string& k : keys) {
    if (ShardLocalConfig(k)) continue;
    const auto x = p.config().find(k);
    const auto y = q.config().find(k);
    const std::string vx = x == p.config().end() ? "" : x->second;
    const std::string vy = y == q.config().end() ? "" : y->second;
    if (vx != vy) return mismatch(absl::StrCat("configuration '", k, "'"), vx, vy);
  }
  return absl::OkStatus();
}

std::string ShardText(const ShardId& s) { return absl::StrCat(s.index, "/", s.count); }

}  // namespace

absl::StatusOr<std::optional<ShardId>> ShardOfReport(const Report& report) {
  std::vector<std::pair<std::string, ShardId>> found;  // (source, shard)
  const auto parse = [&](const std::string& source, const std::string& text) -> absl::Status {
    if (text.empty()) return absl::OkStatus();
    ShardId s;
    if (absl::Status st = ParseShard(text, &s.index, &s.count); !st.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(source, " '", text, "' is not i/n"));
    }
    found.emplace_back(source, s);
    return absl::OkStatus();
  };
  if (report.has_weight_report()) {
    if (absl::Status st = parse("weight_report.shard", report.weight_report().shard()); !st.ok()) {
      return st;
    }
  }
  const v1::Provenance& p = report.provenance();
  if (p.shards_size() > 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a merged report (", p.shards_size(), " shards in its provenance), not a shard report"));
  }
  if (p.shards_size() == 1) {
    const v1::ShardRun& r = p.shards(0);
    if (absl::Status st = parse("provenance shard", absl::StrCat(r.index(), "/", r.count()));
        !st.ok()) {
      return st;
    }
  }
  if (auto it = p.config().find("shard"); it != p.config().end()) {
    if (absl::Status st = parse("provenance config shard", it->second); !st.ok()) return st;
  }
  if (found.empty()) return std::optional<ShardId>();
  for (const auto& [source, s] : found) {
    if (s.index != found[0].second.index || s.count != found[0].second.count) {
      return absl::InvalidArgumentError(absl::StrCat(found[0].first, " ",
                                                     ShardText(found[0].second), " and ", source,
                                                     " ", ShardText(s), " disagree"));
    }
  }
  return std::optional<ShardId>(found[0].second);
}

std::vector<int> MissingShards(const std::vector<Report>& reports, int count) {
  std::vector<bool> have(static_cast<size_t>(std::max(count, 0)), false);
  for (const Report& r : reports) {
    absl::StatusOr<std::optional<ShardId>> s = ShardOfReport(r);
    if (s.ok() && s->has_value() && (*s)->count == count) have[(*s)->index] = true;
  }
  std::vector<int> missing;
  for (int i = 0; i < count; ++i) {
    if (!have[i]) missing.push_back(i);
  }
  return missing;
}

absl::Status CheckMergeInputs(const std::vector<Report>& reports, const MergeOptions& options) {
  if (reports.empty()) return absl::InvalidArgumentError("no reports to merge");
  const Report::BodyCase kind = reports[0].body_case();
  for (size_t i = 0; i < reports.size(); ++i) {
    if (reports[i].body_case() != kind) {
      return absl::InvalidArgumentError(absl::StrCat(
          "reports of different kinds cannot be merged: ", InputName(options, i), " and ",
          InputName(options, 0)));
    }
    if (absl::Status st = CheckSameRun(reports[0], reports[i], InputName(options, 0),
                                       InputName(options, i));
        !st.ok()) {
      return st;
    }
  }
  // The shard bookkeeping.
  std::vector<std::optional<ShardId>> shards;
  for (size_t i = 0; i < reports.size(); ++i) {
    absl::StatusOr<std::optional<ShardId>> s = ShardOfReport(reports[i]);
    if (!s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(InputName(options, i), ": ", s.status().message()));
    }
    shards.push_back(*s);
  }
  size_t first_shard = shards.size();
  for (size_t i = 0; i < shards.size(); ++i) {
    if (shards[i].has_value()) {
      first_shard = i;
      break;
    }
  }
  if (first_shard == shards.size()) {
    if (options.expected_shards > 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "expected the shards of a ", options.expected_shards, "-way run; ",
          InputName(options, 0), " is the report of a whole run"));
    }
    return absl::OkStatus();
  }
  const int count = shards[first_shard]->count;
  const std::string first_name = InputName(options, first_shard);
  if (options.expected_shards > 0 && count != options.expected_shards) {
    return absl::InvalidArgumentError(absl::StrCat(first_name, " is shard ",
                                                   ShardText(*shards[first_shard]), "; expected ",
                                                   "the shards of a ", options.expected_shards,
                                                   "-way run"));
  }
  std::vector<size_t> by_index(static_cast<size_t>(count), shards.size());
  for (size_t i = 0; i < shards.size(); ++i) {
    if (!shards[i].has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          InputName(options, i), " is the report of a whole run, ", first_name, " is shard ",
          ShardText(*shards[first_shard]), ": merge the shards of one run"));
    }
    if (shards[i]->count != count) {
      return absl::InvalidArgumentError(absl::StrCat(
          InputName(options, i), " is shard ", ShardText(*shards[i]), ", ", first_name,
          " is shard ", ShardText(*shards[first_shard]), ": different shard counts"));
    }
    size_t& slot = by_index[static_cast<size_t>(shards[i]->index)];
    if (slot != shards.size()) {
      return absl::InvalidArgumentError(absl::StrCat(InputName(options, slot), " and ",
                                                     InputName(options, i), " are both shard ",
                                                     ShardText(*shards[i])));
    }
    slot = i;
  }
  if (options.require_all_shards) {
    std::vector<int> missing = MissingShards(reports, count);
    if (!missing.empty()) {
      std::string given;
      for (int s = 0; s < count; ++s) {
        if (by_index[s] == shards.size()) continue;
        absl::StrAppend(&given, given.empty() ? "" : ", ", s, " (", InputName(options, by_index[s]),
                        ")");
      }
      return absl::InvalidArgumentError(absl::StrCat(
          "shards missing: ", absl::StrJoin(missing, ", "), " of ", count, " (given: ", given,
          "); a merge needs every shard"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Report> MergeReports(const std::vector<Report>& reports,
                                    const MergeOptions& options) {
  if (absl::Status st = CheckMergeInputs(reports, options); !st.ok()) return st;
  const Report::BodyCase kind = reports[0].body_case();
  Report out;
  *out.mutable_provenance() = reports[0].provenance();
  out.mutable_provenance()->clear_shards();
  out.mutable_provenance()->mutable_config()->erase("shard");
  std::vector<v1::ShardRun> runs;
  for (const Report& r : reports) {
    for (const v1::ShardRun& s : r.provenance().shards()) runs.push_back(s);
  }
  std::stable_sort(runs.begin(), runs.end(), [](const v1::ShardRun& a, const v1::ShardRun& b) {
    return a.index() < b.index();
  });
  for (v1::ShardRun& s : runs) *out.mutable_provenance()->add_shards() = std::move(s);
  if (out.provenance().has_text_input()) {  // every shard's text files, in input order
    v1::TextInput* text = out.mutable_provenance()->mutable_text_input();
    text->clear_files();
    for (const Report& r : reports) {
      for (const v1::TextFile& f : r.provenance().text_input().files()) *text->add_files() = f;
    }
  }
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
