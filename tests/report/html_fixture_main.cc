// html_fixture_main: writes sinkscope HTML pages built from synthetic reports, for the headless
// browser test (html_render_test.sh) and for looking at the charts by eye.
//
//   argv[1]: an ActivationReport page: 3 layers x 2 heads of 16 x 16 attention maps with a sink
//            column at key 0 (layer 2 also has a sink-logit slot), massive activations in layers
//            1 and 2, per-channel profiles and per-layer quantization errors (one exact);
//   argv[2]: (optional) a WeightReport page: 14 tensors (one named "<&>\"" ), all with channel
//            profiles (12 are drawn) and three quantization errors each;
//   argv[3]: (optional) a StudyReport page: 4 variants x 3 configurations (12 study rows with
//            2 layers each), streaming runs (window, 4+window, full) per variant, one
//            ActivationReport with an 80 x 80 map (pooled to 40 x 40) and one
//            ReceptiveFieldReport with 3 curves.
//
// Usage: html_fixture_main activations.html [weights.html [study.html]]
#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "proto/sinkscope.pb.h"
#include "report/html_report.h"

namespace sinkscope::analysis {
namespace {

namespace v1 = ::sinkscope::v1;

constexpr double kInf = std::numeric_limits<double>::infinity();

void FillProvenance(absl::string_view tool, v1::Provenance* p) {
  p->set_tool(std::string(tool));
  p->set_version("0.1.0");
  p->set_git_commit("0123456789abcdef0123456789abcdef01234567");
  p->set_time("2024-05-01T12:00:00Z");
  p->set_cpu_isa("avx2");
  p->set_onednn_version("2.6.3");
  p->add_command_line(std::string(tool));
  p->add_command_line("--layers=3");
  (*p->mutable_config())["layers"] = "3";
  (*p->mutable_config())["seed"] = "1";
  p->set_int8_gemm_impl("gemm:jit");
  p->set_int8_mitigation("split_weights");
}

// A causal map: key 0 gets `sink` of each row's mass, the rest decays away from the diagonal.
// With `slot` > 0 a sink-logit slot takes that share first.
void FillAttention(int layer, int head, int n, double sink, double slot, v1::AttentionMap* m) {
  m->set_layer(layer);
  m->set_head(head);
  m->set_rows(n);
  m->set_cols(n);
  m->set_pool(1);
  for (int t = 0; t < n; ++t) {
    std::vector<double> row(n, 0.0);
    double rest = 0.0;
    for (int k = 1; k <= t; ++k) rest += std::exp(-0.5 * (t - k));
    const double keep = 1.0 - slot;
    row[0] = t == 0 ? keep : keep * sink;
    for (int k = 1; k <= t; ++k) row[k] = keep * (1.0 - sink) * std::exp(-0.5 * (t - k)) / rest;
    for (double p : row) m->add_probs(static_cast<float>(p));
    if (slot > 0) m->add_sink_slot_mass(static_cast<float>(slot));
  }
}

void FillProfile(int channels, std::mt19937* rng, const std::vector<std::pair<int, double>>& spikes,
                 v1::OutlierProfile* o) {
  std::gamma_distribution<double> g(9.0, 0.35);
  std::vector<double> v(channels);
  for (double& x : v) x = g(*rng);
  for (const auto& [c, value] : spikes) v[c] = value;
  for (double x : v) o->add_channel_abs_max(x);
  std::vector<int> order(channels);
  for (int i = 0; i < channels; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](int a, int b) { return v[a] > v[b]; });
  for (int i = 0; i < 4; ++i) {
    v1::IndexProfile* p = o->add_top_channels();
    p->set_index(order[i]);
    p->set_abs_max(v[order[i]]);
  }
}

void AddError(absl::string_view name, double sqnr_db, v1::QuantError* e) {
  e->set_name(std::string(name));
  e->set_sqnr_db(sqnr_db);
  e->set_cosine(std::isinf(sqnr_db) ? 1.0 : 1.0 - std::pow(10.0, -sqnr_db / 10.0) / 2);
  e->mutable_scheme()->set_description(std::string(name));
}

void FillActivations(int layers, int map_size, v1::ActivationReport* a) {
  std::mt19937 rng(7);
  a->set_model("fixture-llm <toy> & friends");
  a->set_num_layers(layers);
  a->set_num_tokens(map_size);
  a->set_num_sequences(4);
  a->set_sink_epsilon(0.3);
  a->set_sink_rate(66.7);
  a->set_abs_threshold(100.0);
  a->set_ratio_threshold(1000.0);
  for (int l = 0; l < layers; ++l) {
    v1::LayerReport* lr = a->add_layers();
    lr->set_layer(l);
    const double abs_max = l == 0 ? 6.5 : 1500.0 + 300.0 * l;
    lr->mutable_hidden()->set_abs_max(abs_max);
    lr->mutable_hidden()->set_median_abs(0.55 + 0.1 * l);
    lr->mutable_hidden()->set_abs_max_over_median(abs_max / (0.55 + 0.1 * l));
    lr->mutable_hidden()->set_kurtosis(l == 0 ? 3.4 : 900.0 * l);
    lr->set_median_abs(0.55 + 0.1 * l);
    std::vector<std::pair<int, double>> spikes;
    if (l > 0) spikes = {{7, abs_max}, {170, 0.6 * abs_max}, {9, 0.2 * abs_max}};
    FillProfile(256, &rng, spikes, lr->mutable_hidden_outliers());
    for (size_t i = 0; i < spikes.size() && i < static_cast<size_t>(l); ++i) {
      v1::MassiveActivation* m = lr->add_massive();
      m->set_layer(l);
      m->set_token(0);
      m->set_channel(spikes[i].first);
      m->set_value(i == 1 ? -spikes[i].second : spikes[i].second);
      m->set_ratio(spikes[i].second / lr->median_abs());
    }
    for (int h = 0; h < 2; ++h) {
      const double sink = l == 0 && h == 0 ? 0.05 : 0.55 + 0.15 * h;
      const double slot = l == layers - 1 && h == 1 ? 0.3 : 0.0;
      FillAttention(l, h, map_size, sink, slot, lr->add_attention());
      v1::HeadSink* hs = lr->add_heads();
      hs->set_layer(l);
      hs->set_head(h);
      hs->set_first_token_mass(sink * (1.0 - slot));
      hs->set_sink_slot_mass(slot);
      hs->set_is_sink(sink * (1.0 - slot) > a->sink_epsilon());
    }
    AddError("int8 per-tensor", l == 0 ? 38.0 : 12.0 - 3.0 * l, lr->add_quant_errors());
    AddError("int8 per-token", l == 0 ? 41.0 : 30.0 - l, lr->add_quant_errors());
    AddError("fp32 sink KV + int8", l == 0 ? kInf : 39.0, lr->add_quant_errors());
  }
}

v1::Report ActivationPage() {
  v1::Report r;
  FillProvenance("activation_scan", r.mutable_provenance());
  FillActivations(3, 16, r.mutable_activation_report());
  return r;
}

v1::Report WeightPage() {
  v1::Report r;
  FillProvenance("weight_scan", r.mutable_provenance());
  v1::WeightReport* w = r.mutable_weight_report();
  w->set_checkpoint("/models/toy-7b/model.safetensors");
  w->set_tensors_in_checkpoint(291);
  std::mt19937 rng(3);
  const char* kinds[] = {"self_attn.q_proj", "self_attn.k_proj", "mlp.down_proj"};
  for (int i = 0; i < 14; ++i) {
    v1::TensorReport* t = w->add_tensors();
    t->set_name(i == 5 ? "weird <&>\" name"
                       : absl::StrCat("model.layers.", i / 3, ".", kinds[i % 3], ".weight"));
    t->add_shape(256);
    t->add_shape(128);
    t->set_dtype("BF16");
    t->set_layer(i / 3);
    const double abs_max = 0.2 + 0.15 * i * (i % 3 == 2 ? 4 : 1);
    t->mutable_summary()->set_abs_max(abs_max);
    t->mutable_summary()->set_median_abs(0.012);
    t->mutable_summary()->set_abs_max_over_median(abs_max / 0.012);
    t->mutable_summary()->set_kurtosis(3.0 + i);
    FillProfile(128, &rng, {{i * 9 % 128, abs_max * 40}}, t->mutable_outliers());
    AddError("int8 per-tensor", 40.0 - 1.5 * i, t->add_quant_errors());
    AddError("int8 per-channel", 46.0 - 0.5 * i, t->add_quant_errors());
    AddError("int4 per-group(128)", 20.0 - 0.8 * i, t->add_quant_errors());
  }
  v1::Summary* total = w->mutable_total();
  total->set_count(14 * 256 * 128);
  total->set_abs_max(8.6);
  total->set_median_abs(0.012);
  total->set_abs_max_over_median(8.6 / 0.012);
  total->set_kurtosis(11.2);
  total->set_k_sigma(6.0);
  total->set_llm_int8_threshold(6.0);
  return r;
}

v1::Report StudyPage() {
  v1::Report r;
  FillProvenance("sink_study", r.mutable_provenance());
  v1::StudyReport* s = r.mutable_study_report();
  const char* variants[] = {"baseline", "sink token", "softmax1", "gated attention"};
  const char* configs[] = {"W8A8 per-tensor", "W8A8 per-token", "W8A8 + fp32 sink KV"};
  for (int v = 0; v < 4; ++v) {
    for (int c = 0; c < 3; ++c) {
      v1::StudyRow* row = s->add_rows();
      row->set_variant(variants[v]);
      row->set_config(configs[c]);
      row->set_sink_rate(v == 0 ? 80.0 : 20.0 / v);
      row->set_abs_max_over_median(v == 0 ? 2500.0 : 40.0 * v);
      AddError(configs[c], v == 3 && c == 2 ? kInf : 14.0 + 6.0 * c + 5.0 * v,
               row->mutable_attention_error());
      row->set_streaming_nll(2.1 - 0.05 * v);
      row->set_worst_layer_sqnr_db(10.0 + 6.0 * c + 5.0 * v);
      for (int l = 0; l < 2; ++l) {
        v1::StudyLayerError* le = row->add_layers();
        le->set_layer(l);
        AddError(configs[c], 12.0 + 6.0 * c + 5.0 * v + 3.0 * l, le->mutable_output());
      }
    }
    v1::StudyVariant* sv = s->add_variants();
    sv->set_name(variants[v]);
    sv->set_layer_pattern("SF");
    sv->set_sink_rate(v == 0 ? 80.0 : 20.0 / v);
    sv->set_abs_max_over_median(v == 0 ? 2500.0 : 40.0 * v);
    sv->set_default_sqnr_db(14.0 + 5.0 * v);
    sv->set_protected_sqnr_db(26.0 + 5.0 * v);
    v1::StreamingStudy* st = sv->mutable_streaming();
    st->set_cache_size(64);
    st->set_num_tokens(512);
    const char* runs[] = {"window", "4+window", "full"};
    for (int k = 0; k < 3; ++k) {
      v1::StreamingRun* run = st->add_runs();
      run->set_name(runs[k]);
      run->set_n_sink(k == 1 ? 4 : 0);
      run->set_window(k == 2 ? 0 : 64 - run->n_sink());
      run->set_mean_nll(k == 0 ? 6.5 - v : 2.2 - 0.1 * k);
      for (int b = 0; b < 16; ++b) {
        run->mutable_nll_by_position()->add_distance(32.0 * b);
        run->mutable_nll_by_position()->add_value(b < 2 || k > 0 ? 2.2 - 0.1 * k : 6.5 - v);
      }
    }
  }
  FillActivations(1, 80, s->add_activations());
  v1::ReceptiveFieldReport* rf = s->add_receptive_fields();
  rf->set_pattern("SSSF");
  rf->set_layers(4);
  rf->set_window(16);
  rf->set_alpha(0.5);
  rf->set_context(200);
  rf->set_mean_distance(21.5);
  rf->set_std_distance(17.0);
  rf->set_epsilon(1e-3);
  rf->set_reach_at_epsilon(120);
  rf->set_distance_99_mass(95);
  rf->set_gaussian_std(16.2);
  rf->set_gaussian_std_rel_error(0.047);
  rf->set_gaussian_range(48.6);
  rf->set_gaussian_range_rel_error(0.12);
  rf->set_exponential_range(22.0);
  rf->set_exponential_range_rel_error(0.03);
  const char* names[] = {"exact", "gaussian fit", "exponential fit"};
  for (int c = 0; c < 3; ++c) {
    v1::Curve* curve = rf->add_curves();
    curve->set_name(names[c]);
    for (int d = 0; d < 200; d += (c == 0 ? 1 : 5)) {
      curve->add_distance(d);
      const double v = c == 1 ? 0.03 * std::exp(-0.5 * (d / 16.2) * (d / 16.2))
                              : 0.045 * std::exp(-d / 22.0) * (c == 0 ? 1.0 + 0.6 * std::sin(d / 9.0) : 1);
      curve->add_value(v);
    }
  }
  return r;
}

bool WritePage(const char* path, const v1::Report& report) {
  std::ofstream out(path, std::ios::binary);
  out << RenderHtmlReport(report);
  out.close();
  if (!out) {
    std::cerr << "html_fixture_main: cannot write " << path << "\n";
    return false;
  }
  return true;
}

}  // namespace
}  // namespace sinkscope::analysis

int main(int argc, char** argv) {
  using namespace sinkscope::analysis;  // NOLINT
  if (argc < 2 || argc > 4) {
    std::cerr << "usage: html_fixture_main activations.html [weights.html [study.html]]\n";
    return 2;
  }
  bool ok = WritePage(argv[1], ActivationPage());
  if (argc > 2) ok = WritePage(argv[2], WeightPage()) && ok;
  if (argc > 3) ok = WritePage(argv[3], StudyPage()) && ok;
  return ok ? 0 : 1;
}
