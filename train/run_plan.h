// File: train/run_plan.h
//
// run_plan.h: which tiny models train_variants trains, and a fingerprint of that plan. The
// standard plan: every attention variant (vanilla, sink_tokens, kv_bias, sink_logit, softmax1,
// clipped_softmax, gated) on Bigram-Backcopy with full causal attention, and three passkey runs
// that show the sliding window's limit: vanilla full, vanilla sliding (window 8: two layers reach
// 14 tokens back, less than the passkey distance), and GPT-OSS's alternation (sliding / full)
// with sink logits. Plain C++ (no libtorch): the study fingerprints the plan to find cached runs.
//
// Example:
//   std::vector<RunSpec> runs = StandardRuns(/*quick=*/false);
//   std::string key = PlanFingerprint(runs, TrainSchedule::Default());  // 16 hex digits
#ifndef SINKSCOPE_TRAIN_RUN_PLAN_H_
#define SINKSCOPE_TRAIN_RUN_PLAN_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "train/synthetic_tasks.h"
#include "train/tiny_model_config.h"
#include "train/train_schedule.h"

namespace sinkscope::train {

// Bump when the training code changes what a plan produces (the study's cache key includes it).
inline constexpr int kTrainCodeVersion = 2;  // 2: Adam epsilon, embedding init, copy_offsets, sigmoid

struct RunSpec {
  std::string name;  // also the run's directory name
  TinyModelConfig model;
  TaskSpec task;
};

// The standard plan. --quick trains the same runs on a shorter schedule (TrainSchedule::Quick).
std::vector<RunSpec> StandardRuns(bool quick);

// The runs of `plan` whose names are listed in `names` (comma-separated; "all" keeps every run,
// a variant name keeps that variant's Bigram-Backcopy run, "passkey" the passkey runs). Unknown
// names are an error listing the known ones.
absl::StatusOr<std::vector<RunSpec>> SelectRuns(const std::vector<RunSpec>& plan,
                                                absl::string_view names);

// FNV-1a 64 of every run's config.json, task and the schedule, plus kTrainCodeVersion.
std::string PlanFingerprint(const std::vector<RunSpec>& runs, const TrainSchedule& schedule);

}  // namespace sinkscope::train

#endif  // SINKSCOPE_TRAIN_RUN_PLAN_H_
