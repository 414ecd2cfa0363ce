// File: analysis/trained_models.h
//
// trained_models.h: the tiny models of train/'s standard plan (one per attention variant, plus
// the passkey runs), trained once and cached. The cache directory is
// $XDG_CACHE_HOME/sinkscope/trained-KEY (or ~/.cache/sinkscope/...), KEY the plan's fingerprint
// (every run's configuration, the schedule and train/'s code version), so a changed configuration
// or training code trains anew. Missing models are trained by running the `train_variants` binary
// in a child process (analysis/ never links libtorch), into a temporary directory renamed into
// place when complete: an interrupted run leaves no half-filled cache entry.
//
// Example:
//   absl::StatusOr<TrainedModels> m = EnsureTrainedModels({.quick = true, .train_variants = p});
//   for (const auto& run : m->runs) Study(run.name, run.checkpoint_dir);
#ifndef SINKSCOPE_ANALYSIS_TRAINED_MODELS_H_
#define SINKSCOPE_ANALYSIS_TRAINED_MODELS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/sinkscope.pb.h"

namespace sinkscope::analysis {

struct TrainedModelsOptions {
  bool quick = false;          // the --quick plan and schedule
  std::string train_variants;  // path of the binary ("" : look next to argv0 / in runfiles)
  std::string cache_root;      // "" : $XDG_CACHE_HOME/sinkscope or $HOME/.cache/sinkscope
  std::string argv0;           // to find train_variants beside this binary
  std::function<void(const std::string&)> progress;
  // Polled while training runs; true interrupts the training (SIGINT to the child) and
  // EnsureTrainedModels returns Cancelled.
  std::function<bool()> cancelled;
};

struct TrainedRun {
  std::string name;            // e.g. "sink_logit", "passkey_sliding"
  std::string checkpoint_dir;
  std::string variant, task, mask_pattern;
  int window = 0;
};

struct TrainedModels {
  std::string cache_dir;
  bool from_cache = false;
  std::vector<TrainedRun> runs;
  sinkscope::v1::TrainingReport training;  // loss and emergence curves of the training
};

// The cache root (without the key).
std::string DefaultCacheRoot();

// Cached models, or trains them (minutes) and caches them. Errors name the directory or the
// binary; an interrupted training (SIGINT) returns Cancelled.
absl::StatusOr<TrainedModels> EnsureTrainedModels(const TrainedModelsOptions& options);

}  // namespace sinkscope::analysis

#endif  // SINKSCOPE_ANALYSIS_TRAINED_MODELS_H_
