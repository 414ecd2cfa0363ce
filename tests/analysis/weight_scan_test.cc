// weight_scan on a fixture checkpoint: per-tensor numbers against direct computation, shards
// merged equal the whole scan, and report round trips through .pb / .json / .txtpb.
#include "analysis/weight_scan.h"

#include <cmath>
#include <memory>

#include "analysis/report_io.h"
#include "analysis/report_merge.h"
#include "gtest/gtest.h"
#include "model/atomic_file.h"
#include "model/safetensors.h"
#include "quant/error_metrics.h"
#include "quant/quantize.h"
#include "tests/analysis/fixture_checkpoint.h"

namespace sinkscope::analysis {
namespace {

std::string Tmp(const std::string& name) { return std::string(getenv("TEST_TMPDIR")) + "/" + name; }

class WeightScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = Tmp("fixture.safetensors");
    ASSERT_TRUE(testing::WriteFixtureCheckpoint(path_).ok());
  }
  std::string path_;
};

TEST_F(WeightScanTest, PerTensorNumbersMatchDirectComputation) {
  absl::StatusOr<sinkscope::v1::WeightReport> r = ScanWeights(path_);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->tensors_size(), 14);
  EXPECT_EQ(r->tensors_in_checkpoint(), 14);
  absl::StatusOr<std::unique_ptr<model::SafetensorsFile>> f = model::SafetensorsFile::Open(path_);
  ASSERT_TRUE(f.ok());
  for (const auto& t : r->tensors()) {
    SCOPED_TRACE(t.name());
    const model::TensorInfo* info = (*f)->Find(t.name());
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(t.dtype(), model::DTypeName(info->dtype));
    // Widen to float directly and compare.
    const model::TypedTensorView v = (*f)->View(*info);
    quant::FloatMatrix m(1, v.size());
    for (int64_t i = 0; i < v.size(); ++i) m(0, i) = static_cast<float>(model::LoadAsDouble(v.data, v.dtype, i));
    EXPECT_EQ(t.summary().abs_max(), m.cwiseAbs().maxCoeff());
    EXPECT_NEAR(t.summary().mean(), m.cast<double>().mean(), 1e-9);
    // Per-tensor int8 error equals the quant library's fake quantization of the same values.
    ASSERT_GE(t.quant_errors_size(), 1);
    absl::StatusOr<quant::FloatMatrix> fq = quant::FakeQuantize(m, quant::QuantScheme{}, t.name());
    ASSERT_TRUE(fq.ok());
    const quant::ErrorMetrics e = *quant::ComputeErrorMetrics(quant::ViewOf(m), quant::ViewOf(*fq));
    EXPECT_NEAR(t.quant_errors(0).sqnr_db(), e.sqnr_db, 1e-9);
    if (info->shape.size() == 2) {
      ASSERT_EQ(t.quant_errors_size(), 2);
      // Per-channel (one scale per row) never loses to per-tensor.
      EXPECT_GE(t.quant_errors(1).sqnr_db(), t.quant_errors(0).sqnr_db() - 1e-9);
      EXPECT_EQ(t.outliers().channel_abs_max_size(), info->shape[1]);
    }
  }
  // The outlier channel of down_proj is found.
  const auto& down = r->tensors(3);
  ASSERT_EQ(down.name(), "model.layers.0.mlp.down_proj.weight");
  EXPECT_EQ(down.layer(), 0);
  EXPECT_EQ(down.outliers().top_channels(0).index(), 17);
  EXPECT_EQ(LayerIndexFromName("transformer.h.11.attn.c_attn.weight"), 11);
  EXPECT_EQ(LayerIndexFromName("lm_head.weight"), -1);
}

TEST_F(WeightScanTest, MergedShardsEqualTheWholeScan) {
  absl::StatusOr<sinkscope::v1::WeightReport> whole = ScanWeights(path_);
  ASSERT_TRUE(whole.ok());
  std::vector<sinkscope::v1::Report> shards;
  for (int i = 0; i < 3; ++i) {
    WeightScanOptions o;
    o.shard_index = i;
    o.shard_count = 3;
    absl::StatusOr<sinkscope::v1::WeightReport> s = ScanWeights(path_, o);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->shard(), std::to_string(i) + "/3");
    sinkscope::v1::Report r;
    *r.mutable_weight_report() = *s;
    // Through the files, as report_merge reads them.
    const std::string file = Tmp("shard" + std::to_string(i) + (i == 1 ? ".json" : ".pb"));
    ReportOutputs out;
    (i == 1 ? out.json : out.pb) = file;
    ASSERT_TRUE(WriteReport(r, out).ok());
    absl::StatusOr<sinkscope::v1::Report> back = ReadReport(file);
    ASSERT_TRUE(back.ok()) << back.status();
    shards.push_back(*back);
  }
  absl::StatusOr<sinkscope::v1::Report> merged = MergeReports({shards[2], shards[0], shards[1]});
  ASSERT_TRUE(merged.ok()) << merged.status();
  const sinkscope::v1::WeightReport& m = merged->weight_report();
  EXPECT_EQ(m.shard(), "");
  ASSERT_EQ(m.tensors_size(), whole->tensors_size());
  for (int i = 0; i < m.tensors_size(); ++i) {
    EXPECT_EQ(m.tensors(i).SerializeAsString(), whole->tensors(i).SerializeAsString())
        << m.tensors(i).name();
  }
  const auto& a = m.total();
  const auto& b = whole->total();
  EXPECT_EQ(a.count(), b.count());
  EXPECT_EQ(a.abs_max(), b.abs_max());
  EXPECT_EQ(a.median_abs(), b.median_abs());
  EXPECT_EQ(a.p9999_abs(), b.p9999_abs());
  EXPECT_EQ(a.llm_int8_count(), b.llm_int8_count());
  EXPECT_EQ(a.sketch().SerializeAsString(), b.sketch().SerializeAsString());
  EXPECT_NEAR(a.mean(), b.mean(), 1e-15);
  EXPECT_NEAR(a.std(), b.std(), 1e-12 * b.std());
  EXPECT_NEAR(a.kurtosis(), b.kurtosis(), 1e-9 * b.kurtosis());
  // The same tensor twice is an error; so are different kinds.
  EXPECT_FALSE(MergeReports({shards[0], shards[0]}).ok());
  sinkscope::v1::Report rf;
  rf.mutable_receptive_field_report();
  EXPECT_FALSE(MergeReports({shards[0], rf}).ok());
}

TEST(ReportIoTest, RoundTripsInEveryFormatWithSnakeCaseJson) {
  sinkscope::v1::Report r;
  r.mutable_provenance()->set_tool("t");
  (*r.mutable_provenance()->mutable_config())["k"] = "v";
  auto* a = r.mutable_activation_report();
  a->set_sink_rate(37.5);
  auto* l = a->add_layers();
  l->set_median_abs(0.25);
  auto* h = l->add_heads();
  h->set_first_token_mass(0.75);
  auto* m = l->add_massive();
  m->set_value(-1234.5);
  m->set_channel(1415);
  ReportOutputs out{Tmp("r.pb"), Tmp("r.json"), Tmp("r.txtpb")};
  ASSERT_TRUE(CheckReportOutputs(out).ok());
  ASSERT_TRUE(WriteReport(r, out).ok());
  for (const std::string& p : {out.pb, out.json, out.textproto}) {
    absl::StatusOr<sinkscope::v1::Report> back = ReadReport(p);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->SerializeAsString(), r.SerializeAsString()) << p;
  }
  absl::StatusOr<std::string> json = ReportToJson(r);
  ASSERT_TRUE(json.ok());
  for (const char* field : {"\"activation_report\"", "\"sink_rate\"", "\"first_token_mass\"",
                            "\"median_abs\"", "\"channel\"", "\"value\""}) {
    EXPECT_NE(json->find(field), std::string::npos) << field;
  }
  EXPECT_EQ(json->find("sinkRate"), std::string::npos);
  // Errors name the file; an unwritable output fails before any work.
  EXPECT_FALSE(ReadReport(Tmp("missing.pb")).ok());
  ASSERT_TRUE(model::WriteFileAtomically(Tmp("junk.json"), "{not json").ok());
  absl::StatusOr<sinkscope::v1::Report> junk = ReadReport(Tmp("junk.json"));
  ASSERT_FALSE(junk.ok());
  EXPECT_NE(junk.status().message().find("junk.json"), std::string::npos);
  EXPECT_FALSE(CheckReportOutputs({Tmp("nodir/x.pb"), "", ""}).ok());
}

}  // namespace
}  // namespace sinkscope::analysis
