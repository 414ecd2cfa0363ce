// weight_scan on a fixture checkpoint: per-tensor numbers against direct computation, shards
// balanced by bytes and merged bit-identical to the whole scan, the merge's refusals (missing,
// repeated or foreign shards), and report round trips through .pb / .json / .txtpb.
#include "analysis/weight_scan.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/atomic_file.h"
#include "gtest/gtest.h"
#include "model/checkpoint.h"
#include "model/safetensors.h"
#include "quant/calibration.h"
#include "quant/error_metrics.h"
#include "quant/quantize.h"
#include "report/report_io.h"
#include "analysis/report_merge.h"
#include "report/report_text.h"
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
  // Everything equal, the total bit for bit (merged in checkpoint order, as the whole scan does).
  EXPECT_EQ(m.total().SerializeAsString(), whole->total().SerializeAsString());
  EXPECT_EQ(m.scanned_bytes(), whole->scanned_bytes());
  EXPECT_EQ(m.SerializeAsString(), whole->SerializeAsString());
  // The same tensor twice is an error; so are different kinds.
  EXPECT_FALSE(MergeReports({shards[0], shards[0]}).ok());
  sinkscope::v1::Report rf;
  rf.mutable_receptive_field_report();
  EXPECT_FALSE(MergeReports({shards[0], rf}).ok());
}

// The fixture split into two shards behind an index (tensors alternate between the shards),
// plus a GPT-OSS sink-logit tensor [8] for layer 1.
class ShardedCheckpointTest : public WeightScanTest {
 protected:
  void SetUp() override {
    WeightScanTest::SetUp();
    dir_ = Tmp("sharded");
    mkdir(dir_.c_str(), 0755);
    absl::StatusOr<std::unique_ptr<model::SafetensorsFile>> f = model::SafetensorsFile::Open(path_);
    ASSERT_TRUE(f.ok());
    std::vector<model::TensorToWrite> shard[2];
    std::string map;
    int i = 0;
    for (const model::TensorInfo& t : (*f)->tensors()) {
      const model::TypedTensorView v = (*f)->View(t);
      shard[i % 2].push_back({t.name, t.dtype, t.shape,
                              std::string(reinterpret_cast<const char*>(v.data), t.end - t.begin)});
      map += (map.empty() ? "" : ",") + ("\"" + t.name + "\": \"shard-" + std::to_string(i % 2) +
                                         ".safetensors\"");
      ++i;
    }
    sinks_ = {0.5f, -1.25f, 2.0f, 0.0f, 3.5f, -0.75f, 1.0f, 4.25f};
    shard[1].push_back({"model.layers.1.self_attn.sinks", model::DType::kBF16, {8},
                        testing::FloatBytes(sinks_, model::DType::kBF16)});
    map += R"(, "model.layers.1.self_attn.sinks": "shard-1.safetensors")";
    ASSERT_TRUE(model::WriteSafetensors(dir_ + "/shard-0.safetensors", shard[0]).ok());
    ASSERT_TRUE(model::WriteSafetensors(dir_ + "/shard-1.safetensors", shard[1]).ok());
    ASSERT_TRUE(model::WriteFileAtomically(dir_ + "/model.safetensors.index.json",
                                           R"({"metadata": {}, "weight_map": {)" + map + "}}")
                    .ok());
  }
  std::string dir_;
  std::vector<float> sinks_;
};

TEST_F(ShardedCheckpointTest, IndexScanMatchesTheSingleFileAndShardsMergeToTheWhole) {
  absl::StatusOr<sinkscope::v1::WeightReport> single = ScanWeights(path_);
  absl::StatusOr<sinkscope::v1::WeightReport> whole = ScanWeights(dir_);
  ASSERT_TRUE(single.ok() && whole.ok()) << whole.status();
  ASSERT_EQ(whole->tensors_size(), 15);
  EXPECT_EQ(whole->tensors_in_checkpoint(), 15);
  // Shard-0 tensors first (checkpoint order), each equal to the single-file scan's (but for its
  // index: its position in this checkpoint's order).
  EXPECT_EQ(whole->tensors(0).name(), "model.embed_tokens.weight");
  EXPECT_EQ(whole->tensors(7).name(), "model.layers.0.self_attn.q_proj.weight");
  for (const auto& t : single->tensors()) {
    bool found = false;
    for (const auto& u : whole->tensors()) {
      if (u.name() != t.name()) continue;
      found = true;
      sinkscope::v1::TensorReport same = u;
      same.set_index(t.index());
      EXPECT_EQ(same.SerializeAsString(), t.SerializeAsString()) << t.name();
    }
    EXPECT_TRUE(found) << t.name();
  }
  std::vector<sinkscope::v1::Report> shards;
  for (int i = 0; i < 2; ++i) {
    WeightScanOptions o;
    o.shard_index = i;
    o.shard_count = 2;
    absl::StatusOr<sinkscope::v1::WeightReport> s = ScanWeights(dir_, o);
    ASSERT_TRUE(s.ok());
    sinkscope::v1::Report r;
    *r.mutable_weight_report() = *s;
    shards.push_back(r);
  }
  absl::StatusOr<sinkscope::v1::Report> merged = MergeReports({shards[1], shards[0]});
  ASSERT_TRUE(merged.ok()) << merged.status();
  const sinkscope::v1::WeightReport& m = merged->weight_report();
  EXPECT_EQ(m.shard(), "");
  ASSERT_EQ(m.tensors_size(), whole->tensors_size());
  for (int i = 0; i < m.tensors_size(); ++i) {
    EXPECT_EQ(m.tensors(i).SerializeAsString(), whole->tensors(i).SerializeAsString());
  }
  EXPECT_EQ(m.SerializeAsString(), whole->SerializeAsString());
}

TEST_F(ShardedCheckpointTest, ThreadsGiveTheSameReport) {
  WeightScanOptions o;
  absl::StatusOr<sinkscope::v1::WeightReport> one = ScanWeights(dir_, o);
  int calls = 0;
  o.threads = 2;
  o.progress = [&](const WeightScanProgress& p) {
    ++calls;
    EXPECT_LE(p.bytes_done, p.bytes_total);
  };
  absl::StatusOr<sinkscope::v1::WeightReport> two = ScanWeights(dir_, o);
  ASSERT_TRUE(one.ok() && two.ok());
  EXPECT_EQ(two->SerializeAsString(), one->SerializeAsString());
  EXPECT_EQ(calls, 15);
  o.threads = 7;
  o.shard_index = 1;
  o.shard_count = 3;
  absl::StatusOr<sinkscope::v1::WeightReport> seven = ScanWeights(dir_, o);
  o.threads = 1;
  absl::StatusOr<sinkscope::v1::WeightReport> serial = ScanWeights(dir_, o);
  ASSERT_TRUE(seven.ok() && serial.ok());
  EXPECT_EQ(seven->SerializeAsString(), serial->SerializeAsString());
}

TEST_F(ShardedCheckpointTest, FilterSelectsAndShardsApplyAfterIt) {
  WeightScanOptions o;
  o.filter = "*mlp*";
  absl::StatusOr<sinkscope::v1::WeightReport> r = ScanWeights(dir_, o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->tensors_size(), 3);
  EXPECT_EQ(r->tensors_in_checkpoint(), 3);
  for (const auto& t : r->tensors()) EXPECT_NE(t.name().find("mlp.down_proj"), std::string::npos);
  o.filter = "model.layers.?.self_attn.*,lm_head.weight";
  r = ScanWeights(dir_, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->tensors_size(), 8);  // 3 q_proj, 3 k_proj, the sinks, lm_head
  o.filter = "model.layers.?.self_attn.?_proj.weight";
  o.shard_index = 1;
  o.shard_count = 2;
  r = ScanWeights(dir_, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->tensors_in_checkpoint(), 6);
  // Balanced by bytes: shard 0 two F32 q_proj (8 KB), shard 1 one q_proj and the three F16
  // k_proj (4 + 3 x 1 KB).
  EXPECT_EQ(r->tensors_size(), 4);
  EXPECT_EQ(r->scanned_bytes(), 4096 + 3 * 1024);
  o.filter = "nothing*";
  o.shard_index = 0;
  o.shard_count = 1;
  r = ScanWeights(dir_, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->tensors_size(), 0);
}

TEST_F(ShardedCheckpointTest, FourBitSchemesGiveOneErrorPerTensor) {
  WeightScanOptions o;
  ASSERT_TRUE(ParseWeightQuantSchemes("tensor4", &o.schemes).ok());
  absl::StatusOr<sinkscope::v1::WeightReport> r4 = ScanWeights(dir_, o);
  absl::StatusOr<sinkscope::v1::WeightReport> r8 = ScanWeights(dir_);
  ASSERT_TRUE(r4.ok() && r8.ok());
  for (int i = 0; i < r4->tensors_size(); ++i) {
    const auto& t = r4->tensors(i);
    ASSERT_EQ(t.quant_errors_size(), 1) << t.name();
    EXPECT_EQ(t.quant_errors(0).name(), "int4 per-tensor");
    EXPECT_EQ(t.quant_errors(0).scheme().bits(), 4);
    // 4 bits lose ~6 dB per bit against 8 (less where outliers already cost most).
    EXPECT_LT(t.quant_errors(0).sqnr_db(), r8->tensors(i).quant_errors(0).sqnr_db() - 6)
        << t.name();
  }
  ASSERT_TRUE(ParseWeightQuantSchemes("channel4,tensor", &o.schemes).ok());
  r4 = ScanWeights(dir_, o);
  ASSERT_TRUE(r4.ok());
  EXPECT_EQ(r4->tensors(0).quant_errors_size(), 2);
  EXPECT_EQ(r4->tensors(0).quant_errors(0).name(), "int4 per-channel");
  std::vector<WeightQuantScheme> s;
  EXPECT_FALSE(ParseWeightQuantSchemes("tensor,int3", &s).ok());
  EXPECT_FALSE(ParseWeightQuantSchemes("tensor,tensor", &s).ok());
  EXPECT_FALSE(ParseWeightQuantSchemes("", &s).ok());
}

TEST_F(ShardedCheckpointTest, SinkLogitsAreTabulatedPerLayerAndHead) {
  absl::StatusOr<std::unique_ptr<model::Checkpoint>> c = model::Checkpoint::Open(dir_);
  ASSERT_TRUE(c.ok());
  absl::StatusOr<sinkscope::v1::WeightReport> r = ScanWeights(**c);
  ASSERT_TRUE(r.ok());
  const std::vector<AttentionSinkValues> sinks = AttentionSinks(**c, *r);
  ASSERT_EQ(sinks.size(), 1u);
  EXPECT_EQ(sinks[0].layer, 1);
  ASSERT_EQ(sinks[0].values.size(), 8u);
  for (size_t h = 0; h < 8; ++h) EXPECT_EQ(sinks[0].values[h], sinks_[h]);  // exact in bf16
  const std::string table = FormatAttentionSinks(sinks);
  EXPECT_NE(table.find("4.250"), std::string::npos) << table;
  EXPECT_NE(table.find("-1.250"), std::string::npos) << table;
  EXPECT_EQ(FormatAttentionSinks({}), "");
  // The report carries them per layer and head, exactly.
  ASSERT_EQ(r->sink_logits_size(), 8);
  for (int h = 0; h < 8; ++h) {
    EXPECT_EQ(r->sink_logits(h).layer(), 1);
    EXPECT_EQ(r->sink_logits(h).head(), h);
    EXPECT_EQ(r->sink_logits(h).value(), sinks_[h]);
    EXPECT_EQ(r->sink_logits(h).tensor(), "model.layers.1.self_attn.sinks");
  }
  sinkscope::v1::Report whole;
  *whole.mutable_weight_report() = *r;
  const std::string text = DescribeReport(whole);
  EXPECT_NE(text.find("attention sink logits (8 heads)"), std::string::npos) << text;
  // mean = 9.25 / 8
  EXPECT_NE(text.find("layer   1:   -1.250    1.156    4.250 | 0.500 -1.250 2.000"),
            std::string::npos)
      << text;
  // Shards (the sinks tensor lands in one of them) merge back to the same list.
  std::vector<sinkscope::v1::Report> shards;
  int with_sinks = 0;
  for (int i = 0; i < 3; ++i) {
    WeightScanOptions o;
    o.shard_index = i;
    o.shard_count = 3;
    absl::StatusOr<sinkscope::v1::WeightReport> s = ScanWeights(**c, o);
    ASSERT_TRUE(s.ok());
    with_sinks += s->sink_logits_size() > 0;
    shards.emplace_back();
    *shards.back().mutable_weight_report() = *s;
  }
  EXPECT_EQ(with_sinks, 1);
  absl::StatusOr<sinkscope::v1::Report> merged = MergeReports({shards[1], shards[2], shards[0]});
  ASSERT_TRUE(merged.ok()) << merged.status();
  ASSERT_EQ(merged->weight_report().sink_logits_size(), 8);
  for (int h = 0; h < 8; ++h) {
    EXPECT_EQ(merged->weight_report().sink_logits(h).SerializeAsString(),
              r->sink_logits(h).SerializeAsString());
  }
  // The summary of the sink tensor holds its extremes.
  for (const auto& t : r->tensors()) {
    if (t.name() == "model.layers.1.self_attn.sinks") {
      EXPECT_EQ(t.summary().abs_max(), 4.25);
    }
  }
  // Filtered away: not tabulated.
  WeightScanOptions o;
  o.filter = "*mlp*";
  absl::StatusOr<sinkscope::v1::WeightReport> f = ScanWeights(**c, o);
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(AttentionSinks(**c, *f).empty());
  EXPECT_EQ(f->sink_logits_size(), 0);
}

// Shard balance: greedy longest-processing-time over tensor bytes. Every item in exactly one
// shard, shards' totals within the largest item of each other, deterministic, indices sorted.
void ExpectBalancedPartition(const std::vector<uint64_t>& sizes, int n) {
  SCOPED_TRACE(::testing::Message() << sizes.size() << " items, " << n << " shards");
  const std::vector<std::vector<size_t>> a = AssignShardsBySize(sizes, n);
  ASSERT_EQ(a.size(), static_cast<size_t>(n));
  EXPECT_EQ(AssignShardsBySize(sizes, n), a);  // deterministic
  std::vector<int> seen(sizes.size(), 0);
  uint64_t largest = 0, lo = UINT64_MAX, hi = 0;
  for (uint64_t s : sizes) largest = std::max(largest, s);
  for (const std::vector<size_t>& shard : a) {
    EXPECT_TRUE(std::is_sorted(shard.begin(), shard.end()));
    uint64_t total = 0;
    for (size_t i : shard) {
      ASSERT_LT(i, sizes.size());
      ++seen[i];
      total += sizes[i];
    }
    lo = std::min(lo, total);
    hi = std::max(hi, total);
  }
  for (size_t i = 0; i < sizes.size(); ++i) EXPECT_EQ(seen[i], 1) << "item " << i;
  EXPECT_LE(hi - lo, largest);
}

TEST(ShardBalanceTest, GreedyBySizeIsBalancedDeterministicAndCoversEverything) {
  // A MoE-like checkpoint: many small tensors and a few huge expert tensors in a row, where the
  // old every-n-th-tensor split put all the huge ones on one shard.
  std::vector<uint64_t> moe;
  for (int l = 0; l < 6; ++l) {
    for (int k = 0; k < 4; ++k) moe.push_back(1000 + 10 * k);      // attention, norms
    moe.push_back(l % 2 == 0 ? 1000000 : 900000);                  // experts (every 5th)
  }
  ExpectBalancedPartition(moe, 5);
  ExpectBalancedPartition(moe, 4);
  std::vector<std::vector<size_t>> a = AssignShardsBySize(moe, 5);
  uint64_t lo = UINT64_MAX, hi = 0;
  for (const auto& shard : a) {
    uint64_t total = 0;
    for (size_t i : shard) total += moe[i];
    lo = std::min(lo, total);
    hi = std::max(hi, total);
  }
  EXPECT_LE(hi, 2 * lo);  // the round-robin split: shard 4 has every expert, 60x the others
  // Random sizes, shard counts from 1 to more shards than items; ties (equal sizes, zeros).
  std::mt19937 rng(5);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<uint64_t> sizes(rng() % 40);
    for (uint64_t& s : sizes) s = trial % 3 == 0 ? rng() % 4 : uint64_t{1} << (rng() % 30);
    ExpectBalancedPartition(sizes, 1 + static_cast<int>(rng() % 9));
  }
  ExpectBalancedPartition({}, 3);
  // Ties go to the lower index first and the lower shard: equal sizes deal out in order.
  EXPECT_EQ(AssignShardsBySize({7, 7, 7, 7}, 2), (std::vector<std::vector<size_t>>{{0, 2}, {1, 3}}));
}

TEST_F(WeightScanTest, ShardsAreBalancedByBytesAndCarryTheirIndices) {
  absl::StatusOr<std::unique_ptr<model::Checkpoint>> c = model::Checkpoint::Open(path_);
  ASSERT_TRUE(c.ok());
  uint64_t largest = 0, all = 0;
  for (const model::TensorInfo& t : (*c)->tensors()) {
    largest = std::max<uint64_t>(largest, t.end - t.begin);
    all += t.end - t.begin;
  }
  absl::StatusOr<sinkscope::v1::WeightReport> whole = ScanWeights(**c);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(static_cast<uint64_t>(whole->scanned_bytes()), all);
  for (int i = 0; i < whole->tensors_size(); ++i) EXPECT_EQ(whole->tensors(i).index(), i);
  for (int n : {2, 4, 14, 20}) {
    int64_t lo = INT64_MAX, hi = 0, sum = 0;
    std::vector<int> seen(14, 0);
    for (int i = 0; i < n; ++i) {
      WeightScanOptions o;
      o.shard_index = i;
      o.shard_count = n;
      absl::StatusOr<sinkscope::v1::WeightReport> s = ScanWeights(**c, o);
      ASSERT_TRUE(s.ok());
      int64_t bytes = 0;
      for (const auto& t : s->tensors()) {
        ++seen[t.index()];
        EXPECT_EQ(t.name(), whole->tensors(static_cast<int>(t.index())).name());
        const model::TensorInfo* info = (*c)->Find(t.name());
        bytes += static_cast<int64_t>(info->end - info->begin);
      }
      EXPECT_EQ(s->scanned_bytes(), bytes);
      lo = std::min(lo, bytes);
      hi = std::max(hi, bytes);
      sum += bytes;
    }
    EXPECT_EQ(seen, std::vector<int>(14, 1)) << n << " shards";
    EXPECT_EQ(static_cast<uint64_t>(sum), all);
    EXPECT_LE(static_cast<uint64_t>(hi - lo), largest) << n << " shards";
  }
}

// The merge refuses anything but every shard of one run, each once, naming what is wrong.
TEST_F(WeightScanTest, MergeRefusesMissingRepeatedAndForeignShards) {
  std::vector<sinkscope::v1::Report> shards;
  for (int i = 0; i < 4; ++i) {
    WeightScanOptions o;
    o.shard_index = i;
    o.shard_count = 4;
    absl::StatusOr<sinkscope::v1::WeightReport> s = ScanWeights(path_, o);
    ASSERT_TRUE(s.ok());
    shards.emplace_back();
    sinkscope::v1::Provenance* p = shards.back().mutable_provenance();
    p->set_tool("weight_scan");
    p->set_version("0.1.0");
    (*p->mutable_config())["checkpoint"] = path_;
    (*p->mutable_config())["shard"] = absl::StrCat(i, "/4");
    (*p->mutable_config())["threads"] = absl::StrCat(i + 1);  // may differ
    sinkscope::v1::ShardRun* run = p->add_shards();
    run->set_index(i);
    run->set_count(4);
    run->set_bytes(s->scanned_bytes());
    run->set_seconds(0.5 + i);
    *shards.back().mutable_weight_report() = *s;
  }
  MergeOptions named;
  named.names = {"s0.pb", "s1.pb", "s2.pb", "s3.pb"};
  absl::StatusOr<sinkscope::v1::Report> all =
      MergeReports({shards[3], shards[1], shards[0], shards[2]});
  ASSERT_TRUE(all.ok()) << all.status();
  // The merged provenance lists the shards in order, bytes and seconds included.
  ASSERT_EQ(all->provenance().shards_size(), 4);
  int64_t bytes = 0;
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(all->provenance().shards(i).index(), i);
    EXPECT_EQ(all->provenance().shards(i).seconds(), 0.5 + i);
    bytes += all->provenance().shards(i).bytes();
  }
  EXPECT_EQ(bytes, all->weight_report().scanned_bytes());
  const auto message = [&](std::vector<sinkscope::v1::Report> in, MergeOptions o) {
    absl::StatusOr<sinkscope::v1::Report> r = MergeReports(in, o);
    EXPECT_FALSE(r.ok());
    return r.ok() ? std::string() : std::string(r.status().message());
  };
  std::string m = message({shards[0], shards[2]}, {{"s0.pb", "s2.pb"}, 0, true});
  EXPECT_NE(m.find("shards missing: 1, 3 of 4"), std::string::npos) << m;
  EXPECT_NE(m.find("2 ('s2.pb')"), std::string::npos) << m;
  m = message({shards[0], shards[1], shards[1], shards[2], shards[3]}, {});
  EXPECT_NE(m.find("input 1 and input 2 are both shard 1/4"), std::string::npos) << m;
  EXPECT_FALSE(CheckMergeInputs({shards[1]}, {{}, 3, false}).ok());  // --shards=3: a 4-way shard
  EXPECT_TRUE(CheckMergeInputs({shards[1]}, {{}, 4, false}).ok());   // a subset, when checking
  // Another configuration, checkpoint, tool or shard count: named.
  std::vector<sinkscope::v1::Report> other = shards;
  (*other[2].mutable_provenance()->mutable_config())["filter"] = "*mlp*";
  m = message(other, named);
  EXPECT_NE(m.find("'s2.pb' is not of the same run as 's0.pb': configuration 'filter' is "
                   "'*mlp*' in 's2.pb', '' in 's0.pb'"),
            std::string::npos)
      << m;
  other = shards;
  (*other[3].mutable_provenance()->mutable_config())["checkpoint"] = "/elsewhere";
  m = message(other, named);
  EXPECT_NE(m.find("configuration 'checkpoint' is '/elsewhere'"), std::string::npos) << m;
  other = shards;
  other[1].mutable_provenance()->set_tool("activation_scan");
  m = message(other, named);
  EXPECT_NE(m.find("the tool is 'activation_scan' in 's1.pb'"), std::string::npos) << m;
  other = shards;
  other[1].mutable_weight_report()->set_checkpoint("/elsewhere");
  EXPECT_NE(message(other, named).find("different checkpoints"), std::string::npos);
  other = shards;
  other[0].mutable_provenance()->mutable_shards(0)->set_count(5);
  m = message(other, named);
  EXPECT_NE(m.find("'s0.pb': weight_report.shard 0/4 and provenance shard 0/5 disagree"),
            std::string::npos)
      << m;
  // A whole-run report among shards.
  absl::StatusOr<sinkscope::v1::WeightReport> whole = ScanWeights(path_);
  ASSERT_TRUE(whole.ok());
  other = {shards[0], sinkscope::v1::Report()};
  *other[1].mutable_weight_report() = *whole;
  *other[1].mutable_provenance() = shards[0].provenance();
  other[1].mutable_provenance()->clear_shards();
  (*other[1].mutable_provenance()->mutable_config())["shard"] = "";
  m = message(other, named);
  EXPECT_NE(m.find("'s1.pb' is the report of a whole run"), std::string::npos) << m;
  // A merged report is no shard.
  std::vector<sinkscope::v1::Report> again = {*all};
  m = message(again, {});
  EXPECT_NE(m.find("a merged report"), std::string::npos) << m;
}

// Large BF16 / F16 tensors take the fused one-pass path (histogram + row kernels): every number
// against naive loops over the widened values, Inf / NaN rows included, and the same values in
// F32 (the element-wise path) give the same exact statistics.
TEST(FusedScanTest, LargeHalfTensorsMatchNaiveLoops) {
  const int64_t rows = 48, cols = 2056;  // 98688 elements; cols not a multiple of 8
  std::mt19937 rng(21);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> v(rows * cols);
  for (float& x : v) x = normal(rng);
  for (int64_t r = 0; r < rows; ++r) v[r * cols + 33] *= 50.0f;  // outlier channel
  v[7 * cols + 1000] = 9.5f;                                     // top entry, llm.int8 count
  for (const model::DType dt : {model::DType::kBF16, model::DType::kF16}) {
    SCOPED_TRACE(model::DTypeName(dt));
    std::vector<float> w = v;
    w[3 * cols + 5] = NAN;        // a row with a NaN
    w[11 * cols + 2055] = -INFINITY;
    const std::string path = Tmp(std::string("fused_") + model::DTypeName(dt) + ".safetensors");
    const std::string f32_path = Tmp(std::string("fused_f32_") + model::DTypeName(dt) + ".safetensors");
    // The values as stored (rounded to the dtype), widened: the oracle's input.
    std::vector<float> x(w.size());
    const std::string bytes = testing::FloatBytes(w, dt);
    for (size_t i = 0; i < w.size(); ++i) {
      uint16_t h;
      std::memcpy(&h, bytes.data() + 2 * i, 2);
      x[i] = dt == model::DType::kBF16 ? model::Bf16ToFloat(h) : model::HalfToFloat(h);
    }
    ASSERT_TRUE(model::WriteSafetensors(path, {{"model.layers.2.mlp.up_proj.weight", dt,
                                                {rows, cols}, bytes}}).ok());
    ASSERT_TRUE(model::WriteSafetensors(f32_path, {{"model.layers.2.mlp.up_proj.weight",
                                                    model::DType::kF32, {rows, cols},
                                                    testing::FloatBytes(x, model::DType::kF32)}})
                    .ok());
    WeightScanOptions o;
    ASSERT_TRUE(ParseWeightQuantSchemes("tensor,channel,tensor4,channel4", &o.schemes).ok());
    o.top_k = 3;
    absl::StatusOr<sinkscope::v1::WeightReport> r = ScanWeights(path, o);
    absl::StatusOr<sinkscope::v1::WeightReport> r32 = ScanWeights(f32_path, o);
    ASSERT_TRUE(r.ok() && r32.ok());
    const sinkscope::v1::TensorReport& t = r->tensors(0);
    const sinkscope::v1::TensorReport& t32 = r32->tensors(0);

    // Summary: naive loops in long double.
    int64_t finite = 0, nonfinite = 0, llm = 0;
    long double sum = 0, lo = INFINITY, hi = -INFINITY;
    std::vector<double> mags;
    for (float e : x) {
      if (!std::isfinite(e)) {
        ++nonfinite;
        continue;
      }
      ++finite;
      sum += e;
      lo = std::min<long double>(lo, e);
      hi = std::max<long double>(hi, e);
      llm += std::fabs(e) >= 6.0f;
      mags.push_back(std::fabs(e));
    }
    const long double mean = sum / finite;
    long double m2 = 0, m4 = 0;
    for (float e : x) {
      if (!std::isfinite(e)) continue;
      const long double d = e - mean;
      m2 += d * d;
      m4 += d * d * d * d;
    }
    EXPECT_EQ(t.summary().count(), finite);
    EXPECT_EQ(t.summary().nonfinite_count(), nonfinite);
    EXPECT_EQ(t.summary().llm_int8_count(), llm);
    EXPECT_EQ(t.summary().min(), static_cast<double>(lo));
    EXPECT_EQ(t.summary().max(), static_cast<double>(hi));
    EXPECT_NEAR(t.summary().mean(), static_cast<double>(mean), 1e-15);
    EXPECT_NEAR(t.summary().std(), std::sqrt(static_cast<double>(m2 / finite)), 1e-13);
    EXPECT_NEAR(t.summary().kurtosis(), static_cast<double>(finite * m4 / (m2 * m2)), 1e-9);
    std::sort(mags.begin(), mags.end());
    const double median = mags[(mags.size() - 1) / 2];
    EXPECT_NEAR(t.summary().median_abs(), median, 0.005 * median * 1.0001);
    // The element-wise path over the same values: the same sketch and exact counts.
    EXPECT_EQ(t.summary().sketch().SerializeAsString(), t32.summary().sketch().SerializeAsString());
    EXPECT_EQ(t.summary().count_above_k_sigma(), t32.summary().count_above_k_sigma());
    EXPECT_NEAR(t.summary().kurtosis(), t32.summary().kurtosis(), 1e-12 * t32.summary().kurtosis());

    // Outlier profile.
    const auto& p = t.outliers();
    ASSERT_EQ(p.channel_abs_max_size(), cols);
    for (int64_t c = 0; c < cols; ++c) {
      double m = 0;
      for (int64_t rr = 0; rr < rows; ++rr) {
        const float e = x[rr * cols + c];
        if (std::isfinite(e)) m = std::max(m, std::fabs(static_cast<double>(e)));
      }
      ASSERT_EQ(p.channel_abs_max(c), m) << c;
    }
    EXPECT_EQ(p.top_channels(0).index(), 1000);
    EXPECT_EQ(p.top_channels(1).index(), 33);
    long double sq = 0;
    for (int64_t rr = 0; rr < rows; ++rr) sq += (long double)x[rr * cols + 33] * x[rr * cols + 33];
    // Channel sums of squares go through float partial sums of 16 rows (tensor_summary.h):
    // the rms is within 5e-7 relative.
    const double rms = std::sqrt(static_cast<double>(sq / rows));
    EXPECT_NEAR(p.top_channels(1).rms(), rms, 5e-7 * rms);
    ASSERT_EQ(p.top_entries_size(), 3);
    EXPECT_EQ(p.top_entries(0).token(), 7);
    EXPECT_EQ(p.top_entries(0).channel(), 1000);
    EXPECT_EQ(p.top_entries(0).value(), x[7 * cols + 1000]);
    for (int k = 0; k < 3; ++k) {
      EXPECT_EQ(p.top_entries(k).SerializeAsString(), t32.outliers().top_entries(k).SerializeAsString());
      EXPECT_EQ(p.top_tokens(k).index(), t32.outliers().top_tokens(k).index());
    }

    // Quantization errors: naive loops (quantize each finite value with the group's min-max
    // parameters), long double sums.
    ASSERT_EQ(t.quant_errors_size(), 4);
    const int bits_of[4] = {8, 8, 4, 4};
    const bool per_row_of[4] = {false, true, false, true};
    for (int k = 0; k < 4; ++k) {
      SCOPED_TRACE(t.quant_errors(k).name());
      quant::QuantScheme scheme = per_row_of[k] ? quant::QuantScheme::PerChannel(0) : quant::QuantScheme{};
      scheme.bits = bits_of[k];
      long double ref_sq = 0, err_sq = 0, approx_sq = 0, dot = 0;
      double max_abs = 0;
      const int64_t groups = per_row_of[k] ? rows : 1, per = per_row_of[k] ? cols : rows * cols;
      for (int64_t g = 0; g < groups; ++g) {
        float glo = 0, ghi = 0;
        bool seen = false;
        for (int64_t i = g * per; i < (g + 1) * per; ++i) {
          if (!std::isfinite(x[i])) continue;
          glo = seen ? std::min(glo, x[i]) : x[i];
          ghi = seen ? std::max(ghi, x[i]) : x[i];
          seen = true;
        }
        const quant::ScaleAndZeroPoint sp = quant::CalibrateMinMax(glo, ghi, scheme);
        for (int64_t i = g * per; i < (g + 1) * per; ++i) {
          if (!std::isfinite(x[i])) continue;
          const float a = quant::DequantizeValue(
              quant::QuantizeValue(x[i], sp, scheme.qmin(), scheme.qmax()), sp);
          const long double d = (long double)x[i] - a;
          ref_sq += (long double)x[i] * x[i];
          approx_sq += (long double)a * a;
          dot += (long double)x[i] * a;
          err_sq += d * d;
          max_abs = std::max(max_abs, std::fabs(static_cast<double>(d)));
        }
      }
      EXPECT_NEAR(t.quant_errors(k).sqnr_db(), static_cast<double>(10 * std::log10(ref_sq / err_sq)), 1e-9);
      EXPECT_EQ(t.quant_errors(k).max_abs_error(), max_abs);
      EXPECT_NEAR(t.quant_errors(k).cosine(),
                  static_cast<double>(dot / std::sqrt(ref_sq * approx_sq)), 1e-13);
      EXPECT_NEAR(t.quant_errors(k).mse(), static_cast<double>(err_sq / finite),
                  1e-12 * static_cast<double>(err_sq / finite));
      EXPECT_NEAR(t.quant_errors(k).sqnr_db(), t32.quant_errors(k).sqnr_db(), 1e-9);
      EXPECT_EQ(t.quant_errors(k).name(), t32.quant_errors(k).name());
    }
  }
}

// The fused scan through every kernel table this CPU runs (avx512, avx2, baseline): the same
// report bit for bit, Inf / NaN and extreme rows included; an unknown table is an error.
TEST(FusedScanTest, EveryKernelTableGivesTheSameReport) {
  const int64_t rows = 40, cols = 3000;
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> v(rows * cols);
  for (float& x : v) x = normal(rng);
  for (int64_t r = 0; r < rows; ++r) v[r * cols + 7] *= 60.0f;
  v[2 * cols + 9] = NAN;
  v[5 * cols + 100] = INFINITY;
  v[9 * cols + 3] = 1e-30f;   // extreme (bf16): the row takes the double path
  v[13 * cols + 4] = 1e30f;
  std::vector<model::TensorToWrite> tensors;
  for (const model::DType dt : {model::DType::kBF16, model::DType::kF16}) {
    std::vector<float> w = v;
    if (dt == model::DType::kF16) {
      w[9 * cols + 3] = 1e-6f;
      w[13 * cols + 4] = 60000.0f;
    }
    tensors.push_back({std::string("model.layers.0.mlp.") + model::DTypeName(dt) + ".weight", dt,
                       {rows, cols}, testing::FloatBytes(w, dt)});
  }
  const std::string path = Tmp("kernel_tables.safetensors");
  ASSERT_TRUE(model::WriteSafetensors(path, tensors).ok());
  WeightScanOptions o;
  ASSERT_TRUE(ParseWeightQuantSchemes("tensor,channel,tensor4,channel4", &o.schemes).ok());
  absl::StatusOr<sinkscope::v1::WeightReport> best = ScanWeights(path, o);
  ASSERT_TRUE(best.ok()) << best.status();
  for (const char* name : {"avx512", "avx2", "baseline"}) {
    o.kernels = name;
    absl::StatusOr<sinkscope::v1::WeightReport> r = ScanWeights(path, o);
    if (!r.ok()) {  // a table this CPU does not run
      EXPECT_NE(std::string(name), "baseline");
      EXPECT_NE(r.status().message().find("do not run on this CPU"), std::string::npos);
      continue;
    }
    EXPECT_EQ(r->SerializeAsString(), best->SerializeAsString()) << name;
  }
  o.kernels = "sse9";
  EXPECT_FALSE(ScanWeights(path, o).ok());
}

TEST(GlobTest, MatchesWholeNames) {
  EXPECT_TRUE(GlobMatch("", "anything"));
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("a*b?d", "a-xx-bcd"));
  EXPECT_FALSE(GlobMatch("a*b?d", "a-xx-bcde"));
  EXPECT_FALSE(GlobMatch("mlp", "model.mlp.w"));
  EXPECT_TRUE(GlobMatch("*mlp*", "model.mlp.w"));
  EXPECT_TRUE(GlobMatch("x,*.w", "model.mlp.w"));
  EXPECT_TRUE(GlobMatch("**a**", "bab"));
  EXPECT_FALSE(GlobMatch("?", ""));
  EXPECT_TRUE(GlobMatch("*a*a*a*a*b", std::string(200, 'a') + "b"));
  EXPECT_FALSE(GlobMatch("*a*a*a*a*b", std::string(200, 'a')));
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
