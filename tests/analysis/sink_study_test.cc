// sink_study on tiny random Llama checkpoints: the report's structure (every subject and every
// configuration present, SQNR finite, keep-sink configurations never worse than the unprotected
// ones beyond noise), and its numbers against independent computations: the int8 replay redone
// here through the public attention API on the forward pass's own captures, the sink rate from
// the captured probabilities, the full-attention stream against the ordinary forward's NLL.
#include "analysis/sink_study.h"

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "analysis/activation_scan.h"
#include "analysis/quant_eval.h"
#include "attention/int8_attention.h"
#include "gtest/gtest.h"
#include "tests/analysis/tiny_llama_fixture.h"

namespace sinkscope::analysis {
namespace {

namespace v1 = ::sinkscope::v1;

std::string Tmp(const std::string& name) { return std::string(getenv("TEST_TMPDIR")) + "/" + name; }

std::vector<int32_t> Ids(int n, int vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> ids(n);
  for (int32_t& x : ids) x = static_cast<int32_t>(rng() % vocab);
  return ids;
}

class SinkStudyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(testing::WriteTinyLlama(Tmp("a"), {}, 3).ok());
    ASSERT_TRUE(testing::WriteTinyLlama(Tmp("b"), {}, 4).ok());
    held_out_ = new std::vector<int32_t>(Ids(48, 50, 9));
    StudyOptions o;
    MakeQuick(&o);
    o.streaming_length = 48;  // the stream is exactly the held-out sequence
    report_ = new absl::StatusOr<v1::Report>(
        RunStudy({{"a", Tmp("a"), {*held_out_}, {}, -1, ""},
                                  {"b", Tmp("b"), {*held_out_}, {}, -1, ""}},
                                 o));
  }
  static void TearDownTestSuite() {
    delete report_;
    delete held_out_;
  }
  static const v1::StudyReport& Study() { return (*report_)->study_report(); }

  static absl::StatusOr<v1::Report>* report_;
  static std::vector<int32_t>* held_out_;
};
absl::StatusOr<v1::Report>* SinkStudyTest::report_ = nullptr;
std::vector<int32_t>* SinkStudyTest::held_out_ = nullptr;

TEST_F(SinkStudyTest, EverySubjectAndConfigurationIsPresentAndConsistent) {
  ASSERT_TRUE(report_->ok()) << report_->status();
  const v1::StudyReport& s = Study();
  EXPECT_TRUE(s.quick());
  const std::vector<StudyQuantConfig> configs = DefaultStudyConfigs();
  ASSERT_EQ(s.configs_size(), 12);
  ASSERT_EQ(s.variants_size(), 2);
  ASSERT_EQ(s.activations_size(), 2);
  ASSERT_EQ(s.receptive_fields_size(), 2);
  ASSERT_EQ(s.rows_size(), 24);
  for (int v = 0; v < 2; ++v) {
    const v1::StudyVariant& var = s.variants(v);
    EXPECT_EQ(var.name(), v == 0 ? "a" : "b");
    EXPECT_EQ(var.layer_pattern(), "FF");
    EXPECT_EQ(var.num_sequences(), 1);
    EXPECT_EQ(var.tokens_per_sequence(), 48);
    EXPECT_EQ(s.activations(v).layers_size(), 2);
    EXPECT_EQ(s.receptive_fields(v).pattern(), "FF");
    EXPECT_GT(s.receptive_fields(v).curves_size(), 0);
    EXPECT_GT(var.fitted_alpha(), 0.0);
    EXPECT_LT(var.fitted_alpha(), 1.0);
    std::set<std::string> seen;
    double keep0[2][2] = {};  // [granularity][kv bits 8, 4]
    for (const v1::StudyRow& r : s.rows()) {
      if (r.variant() != var.name()) continue;
      seen.insert(r.config());
      EXPECT_EQ(r.layers_size(), 2);
      EXPECT_TRUE(std::isfinite(r.attention_error().sqnr_db())) << r.config();
      EXPECT_GT(r.attention_error().sqnr_db(), 5.0) << r.config();
      EXPECT_LE(r.worst_layer_sqnr_db(), r.attention_error().sqnr_db() + 1e-9);
      for (const v1::StudyLayerError& l : r.layers()) {
        EXPECT_TRUE(std::isfinite(l.output().sqnr_db()));
        EXPECT_EQ(l.stages_size(), 7);
        EXPECT_GE(l.output().sqnr_db(), r.worst_layer_sqnr_db());
      }
      EXPECT_EQ(r.sink_rate(), var.sink_rate());
      const int g = r.quant_config().granularity() == "per-tensor" ? 0 : 1;
      const int b = r.quant_config().kv_bits() == 8 ? 0 : 1;
      if (r.quant_config().keep_sink_kv_fp32() == 0) keep0[g][b] = r.attention_error().sqnr_db();
    }
    EXPECT_EQ(seen.size(), 12u);
    for (const StudyQuantConfig& c : configs) EXPECT_EQ(seen.count(c.name), 1u) << c.name;
    // Keeping the first keys in fp32 never costs more than noise (0.5 dB).
    for (const v1::StudyRow& r : s.rows()) {
      if (r.variant() != var.name() || r.quant_config().keep_sink_kv_fp32() == 0) continue;
      const int g = r.quant_config().granularity() == "per-tensor" ? 0 : 1;
      const int b = r.quant_config().kv_bits() == 8 ? 0 : 1;
      EXPECT_GE(r.attention_error().sqnr_db(), keep0[g][b] - 0.5) << var.name() << " " << r.config();
    }
    // 4-bit K/V costs more than 8-bit.
    EXPECT_LT(keep0[0][1], keep0[0][0]);
    EXPECT_LT(keep0[1][1], keep0[1][0]);
    EXPECT_EQ(var.default_config(), kDefaultConfigName);
    EXPECT_EQ(var.protected_config(), kProtectedConfigName);
    // Streaming: window-only, 1/2/4 sinks + window, full; all finite.
    const v1::StreamingStudy& st = var.streaming();
    EXPECT_EQ(st.skipped(), "");
    EXPECT_EQ(st.cache_size(), 16);
    EXPECT_EQ(st.num_tokens(), 48);
    ASSERT_EQ(st.runs_size(), 5);
    const char* names[] = {"window", "1+window", "2+window", "4+window", "full"};
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(st.runs(i).name(), names[i]);
      EXPECT_TRUE(std::isfinite(st.runs(i).mean_nll()));
      EXPECT_NEAR(st.runs(i).perplexity(), std::exp(st.runs(i).mean_nll()), 1e-9);
      if (i < 4) {
        EXPECT_EQ(st.runs(i).n_sink() + st.runs(i).window(), 16);
      }
      EXPECT_GT(st.runs(i).nll_by_position().value_size(), 1);
    }
  }
}

// The numbers, recomputed here from the forward pass's captures.
TEST_F(SinkStudyTest, NumbersMatchAnIndependentRecomputation) {
  ASSERT_TRUE(report_->ok()) << report_->status();
  const std::vector<StudyQuantConfig> configs = DefaultStudyConfigs();
  for (int v = 0; v < 2; ++v) {
    const v1::StudyVariant& var = Study().variants(v);
    absl::StatusOr<ActivationScanInput> in = OpenModel(Tmp(var.name()));
    ASSERT_TRUE(in.ok()) << in.status();
    // [config][layer] -> (sum ref^2, sum err^2)
    std::vector<std::vector<std::pair<double, double>>> energy(
        configs.size(), std::vector<std::pair<double, double>>(2));
    int heads = 0, sinks = 0;
    double ratio = 0.0;
    model::ForwardHooks hooks;
    hooks.capture_attention = true;
    hooks.on_layer = [&](int l, const model::LayerCapture& cap) {
      for (const auto& p : cap.attention->probs) {
        ++heads;
        sinks += p.col(0).mean() > 0.3;
      }
      std::vector<float> a(cap.block_output.data(), cap.block_output.data() + cap.block_output.size());
      for (float& x : a) x = std::abs(x);
      const float mx = *std::max_element(a.begin(), a.end());
      std::nth_element(a.begin(), a.begin() + a.size() / 2, a.end());
      ratio = std::max(ratio, static_cast<double>(mx / a[a.size() / 2]));
      for (size_t k = 0; k < configs.size(); ++k) {
        absl::StatusOr<attention::Int8Attention> q = attention::Int8Attention::Create(
            cap.attention_layer->spec(), cap.attention_layer->weights(), configs[k].config);
        ASSERT_TRUE(q.ok()) << q.status();
        absl::StatusOr<quant::FloatMatrix> y = q->Forward(cap.attention_input);
        ASSERT_TRUE(y.ok());
        const quant::FloatMatrix& ref = cap.attention_output;
        for (int64_t i = 0; i < ref.size(); ++i) {
          const double r = ref.data()[i], e = r - y->data()[i];
          energy[k][l].first += r * r;
          energy[k][l].second += e * e;
        }
      }
    };
    absl::StatusOr<model::ForwardResult> fwd = in->transformer->Forward(*held_out_, hooks);
    ASSERT_TRUE(fwd.ok());
    EXPECT_NEAR(var.sink_rate(), 100.0 * sinks / heads, 1e-9);
    // abs-max / median from the sketch: within its 0.5 % relative accuracy.
    EXPECT_NEAR(var.abs_max_over_median(), ratio, 0.01 * ratio);
    EXPECT_NEAR(var.mean_nll(), fwd->mean_nll, 1e-9);
    // Full attention over the stream (= the held-out sequence) is the ordinary forward.
    EXPECT_NEAR(var.streaming().runs(4).mean_nll(), fwd->mean_nll, 1e-4 * fwd->mean_nll);
    for (const v1::StudyRow& r : Study().rows()) {
      if (r.variant() != var.name()) continue;
      size_t k = 0;
      while (k < configs.size() && configs[k].name != r.config()) ++k;
      ASSERT_LT(k, configs.size());
      double sig = 0.0, noise = 0.0;
      for (int l = 0; l < 2; ++l) {
        sig += energy[k][l].first;
        noise += energy[k][l].second;
        EXPECT_NEAR(r.layers(l).output().sqnr_db(),
                    10.0 * std::log10(energy[k][l].first / energy[k][l].second), 1e-3)
            << r.config() << " layer " << l;
      }
      EXPECT_NEAR(r.attention_error().sqnr_db(), 10.0 * std::log10(sig / noise), 1e-3) << r.config();
      if (r.config() == kDefaultConfigName) {
        EXPECT_EQ(var.default_sqnr_db(), r.attention_error().sqnr_db());
      }
      if (r.config() == kProtectedConfigName) {
        EXPECT_EQ(var.protected_sqnr_db(), r.attention_error().sqnr_db());
      }
    }
  }
}

// End to end: the study's entries are quant_eval's on the same held-out sequences (the wiring:
// which sequences, which order; quant_eval_test checks quant_eval itself against a float64
// forward), every default configuration on every subject, and the answer's columns are read
// from them. Position probe: the masses recomputed here from the forward's own probabilities.
TEST_F(SinkStudyTest, EndToEndAndPositionProbeMatchIndependentComputations) {
  ASSERT_TRUE(report_->ok()) << report_->status();
  const std::vector<std::string> names = DefaultEndToEndConfigs();
  ASSERT_EQ(Study().end_to_end_size(), static_cast<int>(2 * names.size()));
  ASSERT_EQ(Study().position_probes_size(), 2);
  for (int v = 0; v < 2; ++v) {
    const v1::StudyVariant& var = Study().variants(v);
    absl::StatusOr<ActivationScanInput> in = OpenModel(Tmp(var.name()));
    ASSERT_TRUE(in.ok()) << in.status();
    absl::StatusOr<std::vector<QuantEvalSpec>> specs =
        ParseQuantConfigs(absl::StrJoin(names, ","));
    ASSERT_TRUE(specs.ok());
    absl::StatusOr<v1::QuantEvalReport> want =
        EvaluateQuantConfigs(*in->transformer, {*held_out_}, *specs);
    ASSERT_TRUE(want.ok()) << want.status();
    double best = INFINITY, kv8 = NAN, kv4 = NAN;
    for (size_t i = 0; i < names.size(); ++i) {
      const v1::StudyEndToEnd& e = Study().end_to_end(v * names.size() + i);
      const v1::QuantEvalConfig& c = want->configs(i);
      EXPECT_EQ(e.variant(), var.name());
      EXPECT_EQ(e.name(), names[i]);
      EXPECT_TRUE(e.skipped().empty()) << e.skipped();
      EXPECT_DOUBLE_EQ(e.mean_kl(), c.mean_kl()) << e.name();
      EXPECT_DOUBLE_EQ(e.mean_nll(), c.mean_nll()) << e.name();
      EXPECT_DOUBLE_EQ(e.top1_agreement(), c.top1_agreement()) << e.name();
      EXPECT_GT(e.mean_kl(), 0.0) << e.name();
      EXPECT_GE(e.top1_agreement(), 0.0);
      EXPECT_LE(e.top1_agreement(), 1.0);
      if (e.name().find('+') != std::string::npos) best = std::min(best, e.mean_kl());
      if (e.name() == "kv8") kv8 = e.mean_kl();
      if (e.name() == "kv4") kv4 = e.mean_kl();
      if (e.name() == "w8a8_tensor") {
        EXPECT_EQ(var.w8a8_tensor_kl(), e.mean_kl());
      }
    }
    EXPECT_EQ(var.kv4_kl(), kv4);
    EXPECT_LT(kv8, kv4);
    EXPECT_EQ(var.best_remedy_kl(), best);
    EXPECT_NE(var.best_remedy().find('+'), std::string::npos);

    // The probe: first 4 ids -> the vocabulary's last id (50 - 1).
    const v1::StudyPositionProbe& p = Study().position_probes(v);
    EXPECT_EQ(p.variant(), var.name());
    EXPECT_EQ(p.filler_id(), 49);
    EXPECT_EQ(p.replaced(), 4);
    std::vector<int32_t> replaced = *held_out_;
    for (int i = 0; i < 4; ++i) replaced[i] = 49;
    for (int pass = 0; pass < 2; ++pass) {
      std::vector<double> first(2, 0.0), first4(2, 0.0);
      std::vector<int> n(2, 0);
      model::ForwardHooks hooks;
      hooks.capture_attention = true;
      hooks.on_layer = [&](int l, const model::LayerCapture& cap) {
        for (const auto& pr : cap.attention->probs) {
          for (int64_t t = 4; t < pr.rows(); ++t) {
            first[l] += pr(t, 0);
            for (int j = 0; j < 4; ++j) first4[l] += static_cast<double>(pr(t, j));
            ++n[l];
          }
        }
      };
      ASSERT_TRUE(in->transformer->Forward(pass == 0 ? *held_out_ : replaced, hooks).ok());
      for (int l = 0; l < 2; ++l) {
        const double f = first[l] / n[l], f4 = first4[l] / n[l];
        EXPECT_NEAR(pass == 0 ? p.first_token_mass_before(l) : p.first_token_mass_after(l), f, 1e-9);
        EXPECT_NEAR(pass == 0 ? p.first_tokens_mass_before(l) : p.first_tokens_mass_after(l), f4,
                    1e-9);
      }
    }
    const double before = (p.first_token_mass_before(0) + p.first_token_mass_before(1)) / 2;
    const double after = (p.first_token_mass_after(0) + p.first_token_mass_after(1)) / 2;
    EXPECT_NEAR(p.mass_before(), before, 1e-12);
    EXPECT_NEAR(p.mass_after(), after, 1e-12);
    EXPECT_EQ(p.verdict(), before < 0.1 ? "no sink" : (after >= 0.5 * before ? "positional" : "content"));
    EXPECT_EQ(var.position_verdict(), p.verdict());
  }
}

// An unknown whole-model configuration fails the study up front, naming it (before any model
// is opened: the subject's directory does not exist).
TEST(SinkStudyEndToEndTest, UnknownConfigurationIsAnError) {
  StudyOptions o;
  MakeQuick(&o);
  o.end_to_end = {"w8a8", "w9a9"};
  absl::StatusOr<v1::Report> r = RunStudy({{"a", Tmp("none"), {}, {}, -1, ""}}, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("w9a9"), std::string::npos) << r.status();
}

TEST_F(SinkStudyTest, TableAnswersFirst) {
  ASSERT_TRUE(report_->ok()) << report_->status();
  const std::string t = StudyTable(Study());
  const std::vector<std::string> lines = absl::StrSplit(t, '\n');
  ASSERT_GT(lines.size(), 18u);
  EXPECT_NE(lines[1].find("Sink_1^0.3"), std::string::npos);
  EXPECT_EQ(lines[2].rfind("a ", 0), 0u) << lines[2];
  EXPECT_EQ(lines[3].rfind("b ", 0), 0u) << lines[3];
  const std::string sqnr = absl::StrFormat("%.1f", Study().variants(0).default_sqnr_db());
  EXPECT_NE(lines[2].find(sqnr), std::string::npos) << lines[2];
  for (const StudyQuantConfig& c : DefaultStudyConfigs()) EXPECT_NE(t.find(c.name), std::string::npos);
}

TEST(SinkStudyConfigTest, TableCoversGranularityBitsAndKeep) {
  const std::vector<StudyQuantConfig> c = DefaultStudyConfigs();
  ASSERT_EQ(c.size(), 12u);
  std::set<std::string> names;
  for (const StudyQuantConfig& q : c) {
    names.insert(q.name);
    EXPECT_EQ(q.config.key.bits, q.kv_bits);
    EXPECT_EQ(q.config.value.bits, q.kv_bits);
    EXPECT_EQ(q.config.weights.bits, 8);
    EXPECT_EQ(q.config.activations.bits, 8);
    const bool per_tensor = q.granularity == "per-tensor";
    EXPECT_EQ(q.config.key.granularity == quant::Granularity::kPerTensor, per_tensor) << q.name;
    EXPECT_EQ(q.config.activations.granularity == quant::Granularity::kPerTensor, per_tensor);
    EXPECT_TRUE(attention::ValidateQuantConfig(q.config).ok()) << q.name;
    EXPECT_NE(q.name.find(absl::StrCat("keep", q.config.keep_sink_kv_fp32)), std::string::npos);
  }
  EXPECT_EQ(names.size(), 12u);
  EXPECT_EQ(names.count(kDefaultConfigName), 1u);
  EXPECT_EQ(names.count(kProtectedConfigName), 1u);
}

TEST(SinkStudyErrorTest, ErrorsNameTheSubjectAndCancellationStops) {
  ASSERT_TRUE(testing::WriteTinyLlama(Tmp("c"), {}, 5).ok());
  StudyOptions o;
  MakeQuick(&o);
  absl::StatusOr<v1::Report> r = RunStudy({{"ghost", Tmp("missing"), {}, {}, -1, ""}}, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("ghost"), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("missing"), std::string::npos) << r.status();
  r = RunStudy({{"c", Tmp("c"), {{1, 2, 999}}, {}, -1, ""}}, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("999"), std::string::npos) << r.status();
  EXPECT_FALSE(RunStudy({}, o).ok());
  int polls = 0;
  o.cancelled = [&polls] { return ++polls > 3; };
  r = RunStudy({{"c", Tmp("c"), {}, {}, -1, ""}}, o);
  EXPECT_TRUE(absl::IsCancelled(r.status())) << r.status();
  o.cancelled = nullptr;
  o.streaming = false;
  r = RunStudy({{"c", Tmp("c"), {}, {}, -1, ""}}, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->study_report().variants(0).streaming().runs_size(), 0);
  EXPECT_NE(r->study_report().variants(0).streaming().skipped(), "");
}

}  // namespace
}  // namespace sinkscope::analysis
