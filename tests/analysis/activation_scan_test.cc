// activation_scan on a tiny random Llama checkpoint: per-layer numbers against the forward
// pass's own captures, mean NLL, int8 replays, and merging two sequences.
#include "analysis/activation_scan.h"

#include <cmath>

#include "gtest/gtest.h"
#include "analysis/report_merge.h"
#include "tests/analysis/tiny_llama_fixture.h"

namespace sinkscope::analysis {
namespace {

std::string Tmp(const std::string& name) { return std::string(getenv("TEST_TMPDIR")) + "/" + name; }

TEST(ActivationScanTest, LayersHeadsAndNllMatchTheForwardPass) {
  const std::string dir = Tmp("tiny");
  ASSERT_TRUE(testing::WriteTinyLlama(dir, {}, 3).ok());
  ASSERT_TRUE(testing::WriteTokens(Tmp("a.txt"), 24, 50, 1).ok());
  absl::StatusOr<std::vector<int32_t>> ids = ReadTokenIds(Tmp("a.txt"));
  ASSERT_TRUE(ids.ok()) << ids.status();
  ASSERT_EQ(ids->size(), 24u);
  absl::StatusOr<ActivationScanInput> in = OpenModel(dir);
  ASSERT_TRUE(in.ok()) << in.status();
  absl::StatusOr<sinkscope::v1::ActivationReport> r = ScanActivations(*in, *ids);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->layers_size(), 2);
  EXPECT_EQ(r->num_tokens(), 24);
  // Independent recomputation from the transformer's own hooks.
  std::vector<double> first_token_mass;
  std::vector<double> abs_max;
  model::ForwardHooks hooks;
  hooks.capture_attention = true;
  hooks.on_layer = [&](int, const model::LayerCapture& cap) {
    abs_max.push_back(cap.block_output.cwiseAbs().maxCoeff());
    for (const auto& p : cap.attention->probs) first_token_mass.push_back(p.col(0).mean());
  };
  absl::StatusOr<model::ForwardResult> fwd = in->transformer->Forward(*ids, hooks);
  ASSERT_TRUE(fwd.ok());
  EXPECT_DOUBLE_EQ(r->mean_nll(), fwd->mean_nll);
  EXPECT_EQ(r->num_predicted(), 23);
  EXPECT_GT(r->mean_nll(), 0.0);
  int sinks = 0;
  for (int l = 0; l < 2; ++l) {
    const auto& layer = r->layers(l);
    EXPECT_EQ(layer.hidden().abs_max(), abs_max[l]);
    ASSERT_EQ(layer.heads_size(), 4);
    ASSERT_EQ(layer.attention_size(), 4);
    for (int h = 0; h < 4; ++h) {
      EXPECT_NEAR(layer.heads(h).first_token_mass(), first_token_mass[l * 4 + h], 1e-6);
      sinks += first_token_mass[l * 4 + h] > 0.3;
    }
    // 3 int8 replays (keep_sink_kv_fp32 0, 1, 4) x 7 stages.
    ASSERT_EQ(layer.quant_errors_size(), 21);
    EXPECT_EQ(layer.quant_errors(6).name(), "keep_sink_kv_fp32=0/output");
    EXPECT_GT(layer.quant_errors(6).sqnr_db(), 15.0);
  }
  EXPECT_DOUBLE_EQ(r->sink_rate(), 100.0 * sinks / 8.0);
}

TEST(ActivationScanTest, MergingSequencesWeightsByTokens) {
  const std::string dir = Tmp("tiny2");
  ASSERT_TRUE(testing::WriteTinyLlama(dir, {}, 4).ok());
  absl::StatusOr<ActivationScanInput> in = OpenModel(dir);
  ASSERT_TRUE(in.ok()) << in.status();
  ActivationScanOptions o;
  o.int8 = false;
  std::vector<sinkscope::v1::Report> reports;
  for (int n : {10, 30}) {
    ASSERT_TRUE(testing::WriteTokens(Tmp("t.txt"), n, 50, n).ok());
    absl::StatusOr<sinkscope::v1::ActivationReport> r = ScanActivations(*in, *ReadTokenIds(Tmp("t.txt")), o);
    ASSERT_TRUE(r.ok());
    sinkscope::v1::Report rep;
    *rep.mutable_activation_report() = *r;
    reports.push_back(rep);
  }
  absl::StatusOr<sinkscope::v1::Report> m = MergeReports(reports);
  ASSERT_TRUE(m.ok()) << m.status();
  const auto& a = reports[0].activation_report();
  const auto& b = reports[1].activation_report();
  EXPECT_NEAR(m->activation_report().mean_nll(), (a.mean_nll() * 9 + b.mean_nll() * 29) / 38, 1e-12);
  EXPECT_EQ(m->activation_report().layers(0).hidden().count(),
            a.layers(0).hidden().count() + b.layers(0).hidden().count());
}

TEST(ActivationScanTest, BadInputsAreErrorsNamingTheFile) {
  EXPECT_FALSE(OpenModel(Tmp("missing-dir")).ok());
  ASSERT_TRUE(model::WriteFileAtomically(Tmp("bad.txt"), "1 2 x3").ok());
  absl::StatusOr<std::vector<int32_t>> ids = ReadTokenIds(Tmp("bad.txt"));
  ASSERT_FALSE(ids.ok());
  EXPECT_NE(ids.status().message().find("bad.txt"), std::string::npos);
  const std::string dir = Tmp("tiny3");
  ASSERT_TRUE(testing::WriteTinyLlama(dir, {}, 5).ok());
  ASSERT_TRUE(model::WriteFileAtomically(dir + "/config.json", "{\"model_type\": \"bert\"}").ok());
  absl::StatusOr<ActivationScanInput> in = OpenModel(dir);
  ASSERT_FALSE(in.ok());
  EXPECT_NE(in.status().message().find("config.json"), std::string::npos);
}

}  // namespace
}  // namespace sinkscope::analysis
