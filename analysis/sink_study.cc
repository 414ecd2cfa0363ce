#include "analysis/sink_study.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "analysis/activation_scan.h"
#include "analysis/quant_eval.h"
#include "analysis/receptive_field.h"
#include "model/model_config.h"
#include "model/streaming_decoder.h"
#include "quant/error_metrics.h"
#include "quant/quant_scheme.h"
#include "analysis/report_merge.h"

namespace sinkscope::analysis {
namespace {

namespace v1 = ::sinkscope::v1;
using quant::QuantScheme;

absl::Status Cancelled() { return absl::CancelledError("sink_study: interrupted"); }

bool IsCancelled(const StudyOptions& o) { return o.cancelled && o.cancelled(); }

void Progress(const StudyOptions& o, const std::string& line) {
  if (o.progress) o.progress(line);
}

absl::Status Prefixed(const StudySubject& s, const absl::Status& st) {
  if (absl::IsCancelled(st)) return st;
  return absl::Status(st.code(), absl::StrCat("subject '", s.name, "' (", s.checkpoint_dir,
                                              "): ", st.message()));
}

std::vector<int32_t> RandomIds(int n, int vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> u(0, std::max(0, vocab - 1));
  std::vector<int32_t> ids(n);
  for (int32_t& x : ids) x = u(rng);
  return ids;
}

std::vector<std::vector<int32_t>> HeldOut(const StudySubject& s, const StudyOptions& o,
                                          int vocab) {
  std::vector<std::vector<int32_t>> seqs = !s.held_out.empty() ? s.held_out : o.sequences;
  if (seqs.empty()) {
    for (int i = 0; i < std::max(1, o.num_sequences); ++i) {
      seqs.push_back(RandomIds(std::max(2, o.seq_len), vocab, o.seed + 1000u * i));
    }
  }
  for (auto& ids : seqs) {
    if (static_cast<int>(ids.size()) > o.max_tokens) ids.resize(o.max_tokens);
  }
  return seqs;
}

// The stream for the StreamingLLM runs: the held-out sequences back to back, then seeded random
// ids up to `length`.
std::vector<int32_t> StreamIds(const std::vector<std::vector<int32_t>>& seqs, int length,
                               int vocab, uint32_t seed) {
  std::vector<int32_t> ids;
  for (const auto& s : seqs) {
    for (int32_t id : s) {
      if (static_cast<int>(ids.size()) < length) ids.push_back(id);
    }
  }
  if (static_cast<int>(ids.size()) < length) {
    const std::vector<int32_t> fill = RandomIds(length - static_cast<int>(ids.size()), vocab, seed + 77u);
    ids.insert(ids.end(), fill.begin(), fill.end());
  }
  return ids;
}

std::string LayerPattern(const model::ModelConfig& c) {
  std::string p;
  for (int w : c.layer_windows) p += w > 0 ? 'S' : 'F';
  return p;
}

v1::StudyQuantConfig ConfigProto(const StudyQuantConfig& c) {
  v1::StudyQuantConfig p;
  p.set_name(c.name);
  p.set_granularity(c.granularity);
  p.set_kv_bits(c.kv_bits);
  p.set_keep_sink_kv_fp32(c.config.keep_sink_kv_fp32);
  *p.mutable_weights() = quant::ToProto(c.config.weights);
  *p.mutable_activations() = quant::ToProto(c.config.activations);
  *p.mutable_query() = quant::ToProto(c.config.query);
  *p.mutable_key() = quant::ToProto(c.config.key);
  *p.mutable_value() = quant::ToProto(c.config.value);
  p.set_description(c.config.ToString());
  return p;
}

v1::QuantError ErrorProto(const quant::ErrorAccumulator& acc, const StudyQuantConfig& c,
                          const std::string& name) {
  v1::QuantError e = quant::ToProto(acc.Finish(), name);
  *e.mutable_scheme() = quant::ToProto(c.config.activations);
  *e.mutable_weight_scheme() = quant::ToProto(c.config.weights);
  e.set_path("oracle");
  return e;
}

// Keeps the attention maps of the first heads of a few layers (first, second, last).
void TrimAttentionMaps(int max_maps, v1::ActivationReport* a) {
  const int layers = a->layers_size();
  std::vector<int> keep_layers = {0, 1, layers - 1};
  int kept = 0;
  for (int l = 0; l < layers; ++l) {
    v1::LayerReport* layer = a->mutable_layers(l);
    const bool keep_layer = std::find(keep_layers.begin(), keep_layers.end(), l) != keep_layers.end();
    google::protobuf::RepeatedPtrField<v1::AttentionMap> maps;
    for (const v1::AttentionMap& m : layer->attention()) {
      if (keep_layer && m.head() < 2 && kept < max_maps) {
        *maps.Add() = m;
        ++kept;
      }
    }
    layer->mutable_attention()->Swap(&maps);
  }
}

struct SubjectResult {
  v1::StudyVariant variant;
  v1::ActivationReport activations;
  v1::ReceptiveFieldReport receptive_field;
  std::vector<v1::StudyRow> rows;
  std::vector<v1::StudyEndToEnd> end_to_end;
  v1::StudyPositionProbe probe;
  bool has_probe = false;
};

absl::Status RunStreaming(const model::Transformer& t, const std::vector<std::vector<int32_t>>& seqs,
                          const StudySubject& s, const StudyOptions& o, v1::StreamingStudy* out) {
  const model::ModelConfig& c = t.config();
  out->set_cache_size(o.streaming_cache);
  out->set_positions("within_cache");
  if (c.family == model::ModelFamily::kGpt2) {
    out->set_skipped("gpt2: learned absolute positions (StreamingLLM needs RoPE)");
    return absl::OkStatus();
  }
  for (int l = 0; l < c.num_layers; ++l) {
    const attention::AttentionSpec spec = model::AttentionSpecForLayer(c, l);
    if (spec.mask == attention::MaskKind::kNone) {
      out->set_skipped(absl::StrCat("layer ", l, ": bidirectional attention (not causal)"));
      return absl::OkStatus();
    }
  }
  std::vector<int32_t> ids = s.stream.empty()
                                 ? StreamIds(seqs, o.streaming_length, c.vocab_size, o.seed)
                                 : s.stream;
  if (static_cast<int>(ids.size()) > o.streaming_length) ids.resize(o.streaming_length);
  out->set_num_tokens(static_cast<int64_t>(ids.size()));
  for (const model::StreamingConfig& cfg :
       model::StreamingLlmConfigs(o.streaming_cache, o.streaming_sinks)) {
    if (IsCancelled(o)) return Cancelled();
    Progress(o, absl::StrCat(s.name, ": streaming ", ids.size(), " tokens, ", cfg.name,
                             cfg.window > 0 ? absl::StrCat(" (", cfg.n_sink, "+", cfg.window, ")") : ""));
    absl::StatusOr<model::StreamingResult> r = model::DecodeStreaming(t, ids, cfg, o.cancelled);
    if (!r.ok()) return r.status();
    v1::StreamingRun* run = out->add_runs();
    run->set_name(cfg.name);
    run->set_n_sink(cfg.n_sink);
    run->set_window(std::max(0, cfg.window));
    run->set_mean_nll(r->mean_nll);
    run->set_perplexity(std::exp(r->mean_nll));
    v1::Curve* curve = run->mutable_nll_by_position();
    curve->set_name(cfg.name);
    const int64_t n = static_cast<int64_t>(r->nll.size());
    const int64_t block = std::max<int64_t>(1, (n + o.streaming_curve_points - 1) /
                                                   std::max(1, o.streaming_curve_points));
    for (int64_t b = 0; b < n; b += block) {
      double sum = 0.0;
      const int64_t e = std::min(n, b + block);
      for (int64_t i = b; i < e; ++i) sum += r->nll[i];
      curve->add_distance(static_cast<double>(b));
      curve->add_value(sum / static_cast<double>(e - b));
    }
  }
  return absl::OkStatus();
}

// quant_eval's configurations on the subject's held-out sequences, in the options' order; one
// the model cannot run (CheckSpecForModel) is an entry with `skipped`.
absl::Status RunEndToEnd(const model::Transformer& t, const std::vector<std::vector<int32_t>>& seqs,
                         const StudySubject& s, const StudyOptions& o,
                         std::vector<v1::StudyEndToEnd>* out) {
  std::vector<QuantEvalSpec> runnable;
  std::vector<std::string> skipped(o.end_to_end.size());
  for (size_t i = 0; i < o.end_to_end.size(); ++i) {
    absl::StatusOr<QuantEvalSpec> spec = ParseQuantConfig(o.end_to_end[i]);
    if (!spec.ok()) return spec.status();
    if (absl::Status st = CheckSpecForModel(*spec, t.config()); !st.ok()) {
      skipped[i] = std::string(st.message());
    } else {
      runnable.push_back(*std::move(spec));
    }
  }
  v1::QuantEvalReport r;
  if (!runnable.empty()) {
    absl::StatusOr<v1::QuantEvalReport> got = EvaluateQuantConfigs(t, seqs, runnable);
    if (!got.ok()) return got.status();
    r = *std::move(got);
  }
  int next = 0;
  for (size_t i = 0; i < o.end_to_end.size(); ++i) {
    v1::StudyEndToEnd e;
    e.set_variant(s.name);
    e.set_name(o.end_to_end[i]);
    if (!skipped[i].empty()) {
      e.set_skipped(skipped[i]);
      out->push_back(std::move(e));
      continue;
    }
    const v1::QuantEvalConfig& c = r.configs(next++);
    e.set_mean_nll(c.mean_nll());
    e.set_mean_kl(c.mean_kl());
    e.set_top1_agreement(c.top1_agreement());
    e.set_delta_nll(c.delta_nll());
    e.set_base(c.base());
    for (const std::string& rem : c.remedies()) e.add_remedies(rem);
    double worst = std::numeric_limits<double>::infinity();
    for (const v1::QuantEvalLayer& l : c.layers()) {
      if (l.residual_sqnr_db() < worst) {
        worst = l.residual_sqnr_db();
        e.set_worst_layer(l.layer());
      }
    }
    e.set_worst_layer_sqnr_db(c.layers_size() > 0 ? worst : 0.0);
    out->push_back(std::move(e));
  }
  return absl::OkStatus();
}

// Sums over heads and queries t >= n of A[t, 0] and of sum_{j < n} A[t, j], per layer, of one
// forward over `ids` (sequence keys: after the layer's prefix keys, if any).
struct ProbeSums {
  std::vector<double> first, first_n;
  std::vector<int64_t> count;
};

absl::Status AddFirstTokenMasses(const model::Transformer& t, const std::vector<int32_t>& ids,
                                 int n, ProbeSums* sums) {
  const int64_t T = static_cast<int64_t>(ids.size());
  model::ForwardHooks hooks;
  hooks.capture_attention = true;
  hooks.on_layer = [&](int l, const model::LayerCapture& cap) {
    if (cap.attention == nullptr) return;
    for (const auto& p : cap.attention->probs) {
      const int64_t prefix = p.cols() - T;
      if (prefix < 0) continue;
      for (int64_t q = n; q < T; ++q) {
        double m = 0.0;
        for (int64_t j = 0; j < n; ++j) m += p(q, prefix + j);
        sums->first[l] += p(q, prefix);
        sums->first_n[l] += m;
        ++sums->count[l];
      }
    }
  };
  absl::StatusOr<model::ForwardResult> r = t.Forward(ids, hooks);
  return r.ok() ? absl::OkStatus() : r.status();
}

// Position or content: the held-out sequences as they are, then with their first n ids
// replaced by the filler.
absl::StatusOr<v1::StudyPositionProbe> RunPositionProbe(
    const model::Transformer& t, const std::vector<std::vector<int32_t>>& seqs,
    const StudySubject& s, const StudyOptions& o) {
  const int L = t.config().num_layers;
  const int n = o.probe_tokens;
  v1::StudyPositionProbe probe;
  probe.set_variant(s.name);
  probe.set_replaced(n);
  int32_t filler = s.filler_id >= 0 ? s.filler_id : o.filler_id;
  std::string how = s.filler_id >= 0 ? s.filler_name : "given id";
  if (filler < 0) {
    filler = t.config().vocab_size - 1;
    how = "id vocab-1";
  }
  if (filler >= t.config().vocab_size) {
    return absl::InvalidArgumentError(absl::StrCat("position probe: filler id ", filler,
                                                   " is outside the vocabulary (",
                                                   t.config().vocab_size, ")"));
  }
  probe.set_filler_id(filler);
  probe.set_filler(how);
  ProbeSums before{std::vector<double>(L, 0.0), std::vector<double>(L, 0.0),
                   std::vector<int64_t>(L, 0)};
  ProbeSums after = before;
  for (const std::vector<int32_t>& ids : seqs) {
    if (static_cast<int64_t>(ids.size()) <= n) continue;
    if (IsCancelled(o)) return Cancelled();
    if (absl::Status st = AddFirstTokenMasses(t, ids, n, &before); !st.ok()) return st;
    std::vector<int32_t> replaced = ids;
    std::fill(replaced.begin(), replaced.begin() + n, filler);
    if (absl::Status st = AddFirstTokenMasses(t, replaced, n, &after); !st.ok()) return st;
  }
  double mb = 0.0, ma = 0.0;
  int layers = 0;
  for (int l = 0; l < L; ++l) {
    const double cb = std::max<int64_t>(1, before.count[l]);
    const double ca = std::max<int64_t>(1, after.count[l]);
    probe.add_first_token_mass_before(before.first[l] / cb);
    probe.add_first_token_mass_after(after.first[l] / ca);
    probe.add_first_tokens_mass_before(before.first_n[l] / cb);
    probe.add_first_tokens_mass_after(after.first_n[l] / ca);
    if (before.count[l] > 0) {
      mb += before.first[l] / cb;
      ma += after.first[l] / ca;
      ++layers;
    }
  }
  probe.set_mass_before(layers > 0 ? mb / layers : 0.0);
  probe.set_mass_after(layers > 0 ? ma / layers : 0.0);
  probe.set_verdict(probe.mass_before() < 0.1 ? "no sink"
                    : probe.mass_after() >= 0.5 * probe.mass_before() ? "positional"
                                                                       : "content");
  return probe;
}

absl::StatusOr<SubjectResult> StudyOne(const StudySubject& s, const StudyOptions& o) {
  Progress(o, absl::StrCat(s.name, ": loading ", s.checkpoint_dir));
  absl::StatusOr<ActivationScanInput> in = OpenModel(s.checkpoint_dir);
  if (!in.ok()) return in.status();
  const model::ModelConfig& c = in->transformer->config();
  const std::vector<std::vector<int32_t>> seqs = HeldOut(s, o, c.vocab_size);
  const size_t K = o.configs.size();
  const int L = c.num_layers;

  std::vector<quant::ErrorAccumulator> pooled(K);
  std::vector<std::vector<quant::ErrorAccumulator>> per_layer(K, std::vector<quant::ErrorAccumulator>(L));
  std::vector<std::vector<std::vector<v1::QuantError>>> stages(
      K, std::vector<std::vector<v1::QuantError>>(L));
  double residual_norm = 0.0, attention_norm = 0.0;
  size_t seq_index = 0;

  ActivationScanOptions scan;
  scan.massive = o.massive;
  scan.sink_epsilon = o.sink_epsilon;
  scan.int8 = false;  // the study replays its own table below
  scan.on_layer = [&](int l, const model::LayerCapture& cap) -> absl::Status {
    if (IsCancelled(o)) return Cancelled();
    residual_norm += cap.block_input.norm();
    attention_norm += cap.attention_output.norm();
    for (size_t k = 0; k < K; ++k) {
      absl::StatusOr<attention::Int8Attention> q = attention::Int8Attention::Create(
          cap.attention_layer->spec(), cap.attention_layer->weights(), o.configs[k].config);
      if (!q.ok()) {
        return absl::Status(q.status().code(), absl::StrCat("layer ", l, ", config '",
                                                            o.configs[k].name, "': ", q.status().message()));
      }
      absl::StatusOr<attention::Int8Comparison> cmp =
          attention::CompareInt8(*cap.attention_layer, *q, cap.attention_input);
      if (!cmp.ok()) {
        return absl::Status(cmp.status().code(), absl::StrCat("layer ", l, ", config '",
                                                              o.configs[k].name, "': ", cmp.status().message()));
      }
      const int64_t n = cmp->reference.size();
      pooled[k].Add(cmp->reference.data(), cmp->int8.data(), n);
      per_layer[k][l].Add(cmp->reference.data(), cmp->int8.data(), n);
      if (seq_index == 0) stages[k][l] = cmp->stages;
    }
    return absl::OkStatus();
  };

  std::vector<v1::Report> scans;
  for (seq_index = 0; seq_index < seqs.size(); ++seq_index) {
    if (IsCancelled(o)) return Cancelled();
    Progress(o, absl::StrCat(s.name, ": sequence ", seq_index + 1, "/", seqs.size(), ": ",
                             seqs[seq_index].size(), " tokens through ", L,
                             " layers, activation scan + int8 replay x ", K, " configurations"));
    absl::StatusOr<v1::ActivationReport> a = ScanActivations(*in, seqs[seq_index], scan);
    if (!a.ok()) {
      return absl::IsCancelled(a.status())
                 ? a.status()
                 : absl::Status(a.status().code(), absl::StrCat("sequence ", seq_index, ": ",
                                                                a.status().message()));
    }
    v1::Report one;
    *one.mutable_activation_report() = *std::move(a);
    scans.push_back(std::move(one));
  }
  absl::StatusOr<v1::Report> merged =
      scans.size() == 1 ? absl::StatusOr<v1::Report>(scans[0]) : MergeReports(scans);
  if (!merged.ok()) return merged.status();

  SubjectResult r;
  r.activations = merged->activation_report();
  r.activations.set_model(s.name);
  TrimAttentionMaps(o.max_attention_maps, &r.activations);

  v1::StudyVariant& v = r.variant;
  v.set_name(s.name);
  v.set_checkpoint(s.checkpoint_dir);
  v.set_model(c.ToString());
  v.set_layer_pattern(LayerPattern(c));
  v.set_num_sequences(static_cast<int>(seqs.size()));
  size_t longest = 0;
  for (const auto& ids : seqs) longest = std::max(longest, ids.size());
  v.set_tokens_per_sequence(static_cast<int>(longest));
  v.set_sink_rate(r.activations.sink_rate());
  v.set_mean_nll(r.activations.mean_nll());
  double ftm = 0.0, ratio = 0.0;
  int heads = 0;
  int64_t massive = 0;
  for (const v1::LayerReport& l : r.activations.layers()) {
    ratio = std::max(ratio, l.hidden().abs_max_over_median());
    massive += l.massive_size();
    for (const v1::HeadSink& h : l.heads()) {
      ftm += h.first_token_mass();
      ++heads;
    }
  }
  v.set_first_token_mass(heads > 0 ? ftm / heads : 0.0);
  v.set_abs_max_over_median(ratio);
  v.set_massive_activations(massive);

  // Streaming first (rows carry its NLL).
  if (o.streaming) {
    if (absl::Status st = RunStreaming(*in->transformer, seqs, s, o, v.mutable_streaming()); !st.ok()) {
      return st;
    }
  } else {
    v.mutable_streaming()->set_skipped("disabled (--nostreaming)");
  }
  double sink_nll = std::numeric_limits<double>::quiet_NaN();
  int best_sinks = -1;
  for (const v1::StreamingRun& run : v.streaming().runs()) {
    if (run.window() > 0 && run.n_sink() > best_sinks) {
      best_sinks = run.n_sink();
      sink_nll = run.mean_nll();
    }
  }

  for (size_t k = 0; k < K; ++k) {
    const StudyQuantConfig& cfg = o.configs[k];
    v1::StudyRow row;
    row.set_variant(s.name);
    row.set_config(cfg.name);
    row.set_sink_rate(v.sink_rate());
    row.set_abs_max_over_median(v.abs_max_over_median());
    *row.mutable_attention_error() = ErrorProto(pooled[k], cfg, absl::StrCat(cfg.name, "/output"));
    row.set_streaming_nll(best_sinks > 0 ? sink_nll : 0.0);
    *row.mutable_quant_config() = ConfigProto(cfg);
    double worst = std::numeric_limits<double>::infinity();
    for (int l = 0; l < L; ++l) {
      v1::StudyLayerError* le = row.add_layers();
      le->set_layer(l);
      *le->mutable_output() = ErrorProto(per_layer[k][l], cfg, absl::StrCat(cfg.name, "/layer ", l));
      for (const v1::QuantError& e : stages[k][l]) *le->add_stages() = e;
      worst = std::min(worst, le->output().sqnr_db());
    }
    row.set_worst_layer_sqnr_db(L > 0 ? worst : 0.0);
    if (cfg.name == kDefaultConfigName) {
      v.set_default_config(cfg.name);
      v.set_default_sqnr_db(row.attention_error().sqnr_db());
    }
    if (cfg.name == kProtectedConfigName) {
      v.set_protected_config(cfg.name);
      v.set_protected_sqnr_db(row.attention_error().sqnr_db());
    }
    r.rows.push_back(std::move(row));
  }

  if (!o.end_to_end.empty()) {
    Progress(o, absl::StrCat(s.name, ": end to end, ", o.end_to_end.size(),
                             " whole-model configurations"));
    if (absl::Status st = RunEndToEnd(*in->transformer, seqs, s, o, &r.end_to_end); !st.ok()) {
      return absl::Status(st.code(), absl::StrCat("end to end: ", st.message()));
    }
  }
  {
    constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
    v.set_w8a8_tensor_kl(kNaN);
    v.set_kv4_kl(kNaN);
    v.set_best_remedy_kl(kNaN);
    for (const v1::StudyEndToEnd& e : r.end_to_end) {
      if (!e.skipped().empty()) continue;
      if (e.name() == "w8a8_tensor") v.set_w8a8_tensor_kl(e.mean_kl());
      if (e.name() == "kv4") v.set_kv4_kl(e.mean_kl());
      if (e.remedies_size() > 0 && !(e.mean_kl() >= v.best_remedy_kl())) {
        v.set_best_remedy(e.name());
        v.set_best_remedy_kl(e.mean_kl());
      }
    }
  }
  if (o.probe_tokens > 0) {
    absl::StatusOr<v1::StudyPositionProbe> probe = RunPositionProbe(*in->transformer, seqs, s, o);
    if (!probe.ok()) return probe.status();
    r.probe = *std::move(probe);
    r.has_probe = true;
    v.set_position_verdict(r.probe.verdict());
  }

  // Receptive field of the layer pattern at the fitted residual strength.
  if (IsCancelled(o)) return Cancelled();
  const double ratio_r = attention_norm > 0.0 ? residual_norm / attention_norm : 1e6;
  const double alpha = std::clamp(ratio_r / (1.0 + ratio_r), 0.0, 0.999);
  v.set_fitted_alpha(alpha);
  int64_t window = 0;
  for (int w : c.layer_windows) window = std::max<int64_t>(window, w);
  int64_t context = std::max<int64_t>(2, static_cast<int64_t>(longest));
  if (window == 0) window = context;
  context = std::max(context, window);
  absl::StatusOr<StackModel> stack = StackFromPattern(LayerPattern(c), L, window, alpha, context);
  if (!stack.ok()) return stack.status();
  r.receptive_field = SummarizeInfluence(*stack, ExactInfluence(*stack), /*epsilon=*/0.01);
  return r;
}

std::string Db(double v) {
  if (std::isinf(v) && v > 0) return "exact";
  return absl::StrFormat("%.1f", v);
}

std::string Fixed(double v, int digits) {
  if (!std::isfinite(v)) return "-";
  return absl::StrFormat("%.*f", digits, v);
}

// A KL in nats: 3 significant digits, "-" when not measured.
std::string Kl(double v) { return std::isfinite(v) ? absl::StrFormat("%.3g", v) : "-"; }

std::string Pad(const std::string& s, size_t width, bool left = false) {
  if (s.size() >= width) return s;
  return left ? s + std::string(width - s.size(), ' ') : std::string(width - s.size(), ' ') + s;
}

}  // namespace

std::vector<StudyQuantConfig> DefaultStudyConfigs() {
  std::vector<StudyQuantConfig> out;
  for (const char* granularity : {"per-tensor", "per-channel/token"}) {
    for (int kv_bits : {8, 4}) {
      for (int keep : {0, 1, 4}) {
        StudyQuantConfig c;
        c.granularity = granularity;
        c.kv_bits = kv_bits;
        c.name = absl::StrCat(granularity, " kv", kv_bits, " keep", keep);
        attention::AttentionQuantConfig& q = c.config;
        if (c.granularity == "per-tensor") {
          q.weights = QuantScheme::PerTensor();
          q.activations = QuantScheme::PerTensor().Asymmetric();
          q.query = QuantScheme::PerTensor();
          q.key = QuantScheme::PerTensor();
          q.value = QuantScheme::PerTensor();
        }  // else: the Int8Attention defaults
        q.key = q.key.WithBits(kv_bits);
        q.value = q.value.WithBits(kv_bits);
        q.keep_sink_kv_fp32 = keep;
        out.push_back(std::move(c));
      }
    }
  }
  return out;
}

std::vector<std::string> DefaultEndToEndConfigs() {
  return {"w8a8",
          "w8a8_tensor",
          "kv8",
          "kv4",
          "fp8",
          "mxfp4",
          "w8a8_tensor+keep_sink",
          "w8a8_tensor+smooth",
          "w8a8_tensor+rotate",
          "w8a8_tensor+llmint8"};
}

void MakeQuick(StudyOptions* o) {
  o->quick = true;
  o->seq_len = std::min(o->seq_len, 64);
  o->num_sequences = 1;
  if (o->sequences.size() > 1) o->sequences.resize(1);
  o->max_tokens = std::min(o->max_tokens, 64);
  o->streaming_cache = std::min(o->streaming_cache, 16);
  o->streaming_length = std::min(o->streaming_length, 96);
}

absl::StatusOr<v1::Report> RunStudy(const std::vector<StudySubject>& subjects,
                                    const StudyOptions& o) {
  if (subjects.empty()) return absl::InvalidArgumentError("sink_study: no subjects");
  if (o.configs.empty()) return absl::InvalidArgumentError("sink_study: no quantization configurations");
  if (o.streaming && o.streaming_cache < 2) {
    return absl::InvalidArgumentError("sink_study: the streaming cache needs at least 2 tokens");
  }
  if (o.streaming && o.streaming_length <= o.streaming_cache) {
    return absl::InvalidArgumentError(
        "sink_study: the stream must be longer than the streaming cache");
  }
  for (const StudyQuantConfig& c : o.configs) {
    if (absl::Status st = attention::ValidateQuantConfig(c.config); !st.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("config '", c.name, "': ", st.message()));
    }
  }
  for (const std::string& name : o.end_to_end) {
    if (absl::StatusOr<QuantEvalSpec> spec = ParseQuantConfig(name); !spec.ok()) {
      return spec.status();
    }
  }
  if (o.probe_tokens < 0) {
    return absl::InvalidArgumentError("sink_study: the position probe needs >= 0 tokens");
  }
  v1::Report report;
  v1::StudyReport* study = report.mutable_study_report();
  study->set_quick(o.quick);
  study->set_seed(o.seed);
  study->set_note(o.note);
  for (const StudyQuantConfig& c : o.configs) *study->add_configs() = ConfigProto(c);
  for (const StudySubject& s : subjects) {
    if (IsCancelled(o)) return Cancelled();
    absl::StatusOr<SubjectResult> r = StudyOne(s, o);
    if (!r.ok()) return Prefixed(s, r.status());
    *study->add_variants() = std::move(r->variant);
    *study->add_activations() = std::move(r->activations);
    *study->add_receptive_fields() = std::move(r->receptive_field);
    for (v1::StudyRow& row : r->rows) *study->add_rows() = std::move(row);
    for (v1::StudyEndToEnd& e : r->end_to_end) *study->add_end_to_end() = std::move(e);
    if (r->has_probe) *study->add_position_probes() = std::move(r->probe);
  }
  return report;
}

std::string StudyTable(const v1::StudyReport& s) {
  std::string out;
  absl::StrAppend(&out, "sink_study: sinks, massive activations, int8 attention cost and the fixes",
                  s.quick() ? " (--quick)" : "", "\n");
  size_t name_w = 8;
  for (const v1::StudyVariant& v : s.variants()) name_w = std::max(name_w, v.name().size());
  const bool e2e = s.end_to_end_size() > 0;
  size_t remedy_w = 12;
  for (const v1::StudyVariant& v : s.variants()) remedy_w = std::max(remedy_w, v.best_remedy().size() + 10);
  absl::StrAppend(&out, Pad("variant", name_w, true), "  Sink_1^0.3  absmax/med  massive",
                  "  SQNR dB default  protected  (gain)", "  stream NLL window  +sinks    full",
                  e2e ? absl::StrCat("  KL w8a8_tensor    KL kv4  ",
                                     Pad("best remedy (KL)", remedy_w, true))
                      : "",
                  s.position_probes_size() > 0 ? "  position probe" : "", "\n");
  for (const v1::StudyVariant& v : s.variants()) {
    double window = NAN, sinks = NAN, full = NAN;
    int best = -1;
    for (const v1::StreamingRun& r : v.streaming().runs()) {
      if (r.window() == 0) {
        full = r.mean_nll();
      } else if (r.n_sink() == 0) {
        window = r.mean_nll();
      } else if (r.n_sink() > best) {
        best = r.n_sink();
        sinks = r.mean_nll();
      }
    }
    const double gain = v.protected_sqnr_db() - v.default_sqnr_db();
    absl::StrAppend(&out, Pad(v.name(), name_w, true), Pad(Fixed(v.sink_rate(), 1) + " %", 12),
                    Pad(Fixed(v.abs_max_over_median(), 1), 12),
                    Pad(absl::StrCat(v.massive_activations()), 9), Pad(Db(v.default_sqnr_db()), 17),
                    Pad(Db(v.protected_sqnr_db()), 11),
                    Pad(std::isfinite(gain) ? absl::StrFormat("(%+.1f)", gain) : "", 7),
                    Pad(Fixed(window, 3), 19), Pad(Fixed(sinks, 3), 8), Pad(Fixed(full, 3), 8));
    if (e2e) {
      absl::StrAppend(&out, Pad(Kl(v.w8a8_tensor_kl()), 15), Pad(Kl(v.kv4_kl()), 10), "  ",
                      Pad(v.best_remedy().empty()
                              ? "-"
                              : absl::StrCat(v.best_remedy(), " (", Kl(v.best_remedy_kl()), ")"),
                          remedy_w, true));
    }
    if (s.position_probes_size() > 0) absl::StrAppend(&out, "  ", v.position_verdict());
    out += "\n";
  }
  absl::StrAppend(&out, "(default: ", kDefaultConfigName, "; protected: ", kProtectedConfigName,
                  "; stream +sinks: the most sinks tried, cache ",
                  s.variants_size() > 0 ? s.variants(0).streaming().cache_size() : 0, ")\n");
  if (e2e) {
    absl::StrAppend(&out, "(KL: mean KL(p_fp32 || p_config) in nats per predicted token, whole model;",
                    " best remedy: the lowest KL among the remedies tried)\n");
  }
  if (!s.note().empty()) absl::StrAppend(&out, "note: ", s.note(), "\n");

  // SQNR of every configuration (rows) per variant (columns).
  absl::StrAppend(&out, "\nint8 attention-output SQNR dB (pooled over layers; worst layer in brackets)\n");
  size_t cfg_w = 13;
  for (const v1::StudyQuantConfig& c : s.configs()) cfg_w = std::max(cfg_w, c.name().size());
  absl::StrAppend(&out, Pad("configuration", cfg_w, true));
  for (const v1::StudyVariant& v : s.variants()) absl::StrAppend(&out, "  ", Pad(v.name(), 16));
  out += "\n";
  for (const v1::StudyQuantConfig& c : s.configs()) {
    absl::StrAppend(&out, Pad(c.name(), cfg_w, true));
    for (const v1::StudyVariant& v : s.variants()) {
      std::string cell = "-";
      for (const v1::StudyRow& r : s.rows()) {
        if (r.variant() == v.name() && r.config() == c.name()) {
          cell = absl::StrCat(Db(r.attention_error().sqnr_db()), " [",
                              Db(r.worst_layer_sqnr_db()), "]");
        }
      }
      absl::StrAppend(&out, "  ", Pad(cell, 16));
    }
    out += "\n";
  }

  if (e2e) {
    // KL of every whole-model configuration (rows) per variant (columns).
    absl::StrAppend(&out, "\nend to end: KL(fp32 || config) nats per token [top-1 agreement %]\n");
    std::vector<std::string> names;
    for (const v1::StudyEndToEnd& e : s.end_to_end()) {
      if (std::find(names.begin(), names.end(), e.name()) == names.end()) names.push_back(e.name());
    }
    size_t w = 13;
    for (const std::string& n : names) w = std::max(w, n.size());
    absl::StrAppend(&out, Pad("configuration", w, true));
    for (const v1::StudyVariant& v : s.variants()) absl::StrAppend(&out, "  ", Pad(v.name(), 16));
    out += "\n";
    for (const std::string& n : names) {
      absl::StrAppend(&out, Pad(n, w, true));
      for (const v1::StudyVariant& v : s.variants()) {
        std::string cell = "-";
        for (const v1::StudyEndToEnd& e : s.end_to_end()) {
          if (e.variant() != v.name() || e.name() != n) continue;
          cell = e.skipped().empty()
                     ? absl::StrCat(Kl(e.mean_kl()), " [", Fixed(100.0 * e.top1_agreement(), 1), "]")
                     : "skipped";
        }
        absl::StrAppend(&out, "  ", Pad(cell, 16));
      }
      out += "\n";
    }
  }
  if (s.position_probes_size() > 0) {
    absl::StrAppend(&out, "\nposition or content: first-token mass of the unchanged queries, ",
                    "before -> after replacing the first ", s.position_probes(0).replaced(),
                    " tokens (per layer)\n");
    for (const v1::StudyPositionProbe& p : s.position_probes()) {
      std::vector<std::string> layers;
      for (int l = 0; l < p.first_token_mass_before_size(); ++l) {
        layers.push_back(absl::StrCat(Fixed(p.first_token_mass_before(l), 2), "->",
                                      Fixed(p.first_token_mass_after(l), 2)));
      }
      absl::StrAppend(&out, Pad(p.variant(), name_w, true), "  ", Pad(p.verdict(), 10, true),
                      "  mean ", Fixed(p.mass_before(), 3), " -> ", Fixed(p.mass_after(), 3),
                      "  (filler ", p.filler(), " = ", p.filler_id(), ")  layers ",
                      absl::StrJoin(layers, " "), "\n");
    }
  }
  return out;
}

}  // namespace sinkscope::analysis
