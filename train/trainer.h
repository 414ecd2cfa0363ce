// File: train/trainer.h
//
// trainer.h: trains one TinyTransformer on a synthetic task with AdamW (linear warmup, cosine
// decay to a floor, gradient clipping), seeded and deterministic for a fixed seed and thread
// count, writing a checkpoint every `checkpoint_every` steps and measuring at each one, on
// held-out sequences, through model/ + attention/ (the code that analyses real checkpoints):
// loss and copy-position loss, first-token mass per head and Sink_1^0.3, the residual stream's
// abs-max / median and where it sits, and the int8 attention output SQNR of each layer (default
// configuration and with the first token's K/V kept in fp32).
//
// Layout under `run_dir`: config.json + model.safetensors (the final model, what the analysis
// binaries read) and checkpoints/step-NNNNNN/ (one per checkpoint).
//
// Example:
//   RunSpec run{"sink_logit", model_config, task_spec};
//   absl::StatusOr<sinkscope::v1::TrainingRun> r = TrainRun(run, TrainSchedule::Default(), dir);
#ifndef SINKSCOPE_TRAIN_TRAINER_H_
#define SINKSCOPE_TRAIN_TRAINER_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "proto/sinkscope.pb.h"
#include "train/run_plan.h"
#include "train/train_schedule.h"

namespace sinkscope::train {

// Tiny models train fastest on one thread per run: sets libtorch's intra-op threads to 1 and, when
// the BLAS behind libtorch is OpenBLAS, its thread count too (OpenBLAS's own pool otherwise spins
// on every core for each small GEMM: measured 4x slower with two runs in parallel on 2 cores).
void UseOneThreadPerRun();

// Progress lines (stderr in the binary).
using ProgressFn = std::function<void(const std::string& line)>;

absl::StatusOr<sinkscope::v1::TrainingRun> TrainRun(const RunSpec& run,
                                                     const TrainSchedule& schedule,
                                                     const std::string& run_dir,
                                                     const ProgressFn& progress = nullptr);

}  // namespace sinkscope::train

#endif  // SINKSCOPE_TRAIN_TRAINER_H_
