// Training: the schedule's closed form, a short run learns the back-copy (copy-position loss
// clearly below the best previous-token-only predictor), runs are deterministic for a seed, and
// the trained checkpoint reads back through model/ with the same logits as libtorch.
#include "train/trainer.h"

#include <sys/stat.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "analysis/activation_scan.h"
#include "base/atomic_file.h"
#include "gtest/gtest.h"
#include "train/tiny_transformer.h"

namespace sinkscope::train {
namespace {

std::string TempDir(const std::string& name) {
  const char* base = std::getenv("TEST_TMPDIR");
  return std::string(base != nullptr ? base : "/tmp") + "/" + name;
}

RunSpec Backcopy(attention::Variant v) {
  std::vector<RunSpec> plan = StandardRuns(/*quick=*/true);
  for (RunSpec& r : plan) {
    if (r.name == attention::VariantName(v)) return r;
  }
  return plan[0];
}

TEST(TrainSchedule, WarmupThenCosineToFloor) {
  TrainSchedule s;
  s.steps = 1000;
  s.warmup_steps = 100;
  s.peak_lr = 2e-3;
  s.final_lr_ratio = 0.1;
  EXPECT_DOUBLE_EQ(s.LearningRate(0), 2e-3 / 100);
  EXPECT_DOUBLE_EQ(s.LearningRate(49), 2e-3 * 50 / 100);
  EXPECT_DOUBLE_EQ(s.LearningRate(100), 2e-3);
  // Half way through the decay: floor + (peak - floor) / 2.
  EXPECT_NEAR(s.LearningRate(550), 2e-4 + 0.5 * 1.8e-3, 1e-15);
  EXPECT_NEAR(s.LearningRate(1000), 2e-4, 1e-15);
}

TEST(TrainRun, LearnsTheBackCopyAndReadsBackThroughModel) {
  UseOneThreadPerRun();
  const RunSpec run = Backcopy(attention::Variant::kVanilla);
  TrainSchedule s = TrainSchedule::Quick();
  const std::string dir = TempDir("learns");
  absl::StatusOr<sinkscope::v1::TrainingRun> r = TrainRun(run, s, dir);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->curve_size(), s.steps);
  ASSERT_EQ(r->emergence_size(), (s.steps + s.checkpoint_every - 1) / s.checkpoint_every);
  const sinkscope::v1::EmergencePoint& last = r->emergence(r->emergence_size() - 1);
  std::cout << "copy loss " << last.eval_copy_loss() << " vs baseline " << r->copy_baseline_nll()
            << ", eval loss " << last.eval_loss() << "\n";
  EXPECT_GT(r->copy_baseline_nll(), 2.5);
  EXPECT_LT(last.eval_copy_loss(), 0.5 * r->copy_baseline_nll()) << "did not learn the copy";
  // Loss went down, and every checkpoint is on disk and measured.
  EXPECT_LT(r->curve(s.steps - 1).loss(), r->curve(0).loss() - 1.0);
  for (const auto& e : r->emergence()) {
    EXPECT_EQ(e.first_token_mass_size(), run.model.num_layers * run.model.num_heads);
    EXPECT_EQ(e.attention_sqnr_db_size(), run.model.num_layers);
    for (double db : e.attention_sqnr_db()) EXPECT_TRUE(std::isfinite(db) && db > 10.0);
  }

  // The final checkpoint through model/: the same logits as libtorch, and mean NLL equal to the
  // libtorch cross-entropy of the same sequence.
  TinyTransformer m(run.model, /*seed=*/77);
  ASSERT_TRUE(m.LoadCheckpoint(dir).ok());
  absl::StatusOr<analysis::ActivationScanInput> in = analysis::OpenModel(dir);
  ASSERT_TRUE(in.ok()) << in.status();
  TaskGenerator gen(run.task, 4242);
  const std::vector<int32_t> ids = gen.SampleSequence();
  absl::StatusOr<model::ForwardResult> fr = in->transformer->Forward(ids);
  ASSERT_TRUE(fr.ok()) << fr.status();
  torch::NoGradGuard no_grad;
  torch::Tensor t_ids = torch::tensor(std::vector<int64_t>(ids.begin(), ids.end())).view({1, -1});
  torch::Tensor logits = m.Forward(t_ids).squeeze(0).contiguous();
  double max_err = 0.0, max_ref = 0.0;
  for (int64_t t = 0; t < fr->logits.rows(); ++t) {
    for (int64_t v = 0; v < fr->logits.cols(); ++v) {
      const double a = logits[t][v].item<double>();
      max_err = std::max(max_err, std::abs(a - fr->logits(t, v)));
      max_ref = std::max(max_ref, std::abs(a));
    }
  }
  EXPECT_LT(max_err, 1e-4 * max_ref);
  torch::Tensor nll = torch::nn::functional::cross_entropy(
      logits.narrow(0, 0, logits.size(0) - 1), t_ids.squeeze(0).narrow(0, 1, logits.size(0) - 1));
  EXPECT_NEAR(fr->mean_nll, nll.item<double>(), 1e-4 * std::max(1.0, fr->mean_nll));
}

TEST(TrainRun, DeterministicForASeed) {
  UseOneThreadPerRun();
  const RunSpec run = Backcopy(attention::Variant::kKvBias);
  TrainSchedule s = TrainSchedule::Quick();
  s.steps = 12;
  s.warmup_steps = 3;
  s.checkpoint_every = 12;
  absl::StatusOr<sinkscope::v1::TrainingRun> a = TrainRun(run, s, TempDir("det_a"));
  absl::StatusOr<sinkscope::v1::TrainingRun> b = TrainRun(run, s, TempDir("det_b"));
  s.seed = 2;
  absl::StatusOr<sinkscope::v1::TrainingRun> c = TrainRun(run, s, TempDir("det_c"));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  for (int i = 0; i < a->curve_size(); ++i) EXPECT_EQ(a->curve(i).loss(), b->curve(i).loss());
  EXPECT_NE(a->curve(11).loss(), c->curve(11).loss());
  std::string wa, wb;
  ASSERT_TRUE(model::ReadFileToString(TempDir("det_a") + "/model.safetensors", &wa).ok());
  ASSERT_TRUE(model::ReadFileToString(TempDir("det_b") + "/model.safetensors", &wb).ok());
  EXPECT_TRUE(wa == wb) << "same seed, different weights";
}

TEST(TrainRun, WithoutKeptCheckpointsEveryCheckpointIsStillMeasured) {
  UseOneThreadPerRun();
  const RunSpec run = Backcopy(attention::Variant::kSinkLogit);
  TrainSchedule s = TrainSchedule::Quick();
  s.steps = 8;
  s.warmup_steps = 2;
  s.checkpoint_every = 4;
  s.keep_checkpoints = false;
  const std::string dir = TempDir("nokeep");
  absl::StatusOr<sinkscope::v1::TrainingRun> r = TrainRun(run, s, dir);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->emergence_size(), 2);
  EXPECT_EQ(r->emergence(0).step(), 4);
  EXPECT_TRUE(r->emergence(0).checkpoint().empty());
  EXPECT_EQ(r->emergence(1).checkpoint(), dir);
  struct stat st;
  EXPECT_NE(stat((dir + "/checkpoints").c_str(), &st), 0) << "intermediate checkpoints kept";
  EXPECT_EQ(stat((dir + "/model.safetensors").c_str(), &st), 0) << "final model missing";
}

TEST(TrainRun, RejectsInconsistentSpecs) {
  RunSpec run = Backcopy(attention::Variant::kVanilla);
  run.task.vocab_size = 32;
  EXPECT_FALSE(TrainRun(run, TrainSchedule::Quick(), TempDir("bad")).ok());
  run = Backcopy(attention::Variant::kVanilla);
  run.model.num_heads = 5;
  EXPECT_FALSE(TrainRun(run, TrainSchedule::Quick(), TempDir("bad")).ok());
}

}  // namespace
}  // namespace sinkscope::train
