// File: train/train_schedule.h
//
// train_schedule.h: how a tiny model is trained: AdamW (decoupled weight decay on matrices only),
// linear warmup then cosine decay to a floor, gradient-norm clipping, checkpoint cadence and the
// held-out measurement sizes. Plain C++ (no libtorch) so that the study can fingerprint it.
//
// Example:
//   TrainSchedule s = TrainSchedule::Quick();
//   double lr = s.LearningRate(/*step=*/10);
#ifndef SINKSCOPE_TRAIN_TRAIN_SCHEDULE_H_
#define SINKSCOPE_TRAIN_TRAIN_SCHEDULE_H_

#include <cstdint>
#include <string>

namespace sinkscope::train {

// The defaults are the recipe of the standard plan (train/README.md has the table of recipes
// measured): a high learning rate, no weight decay and a tiny Adam epsilon (He et al. 2024:
// outlier features grow with a high learning rate and a small epsilon; Adam, not SGD, grows
// Guo et al.'s residual-state peaks), so that the sinks and BOS's massive activation emerge
// within a few minutes of CPU.
struct TrainSchedule {
  int steps = 2000;
  int batch = 32;
  double peak_lr = 2e-2;
  int warmup_steps = 50;
  double final_lr_ratio = 0.1;   // cosine decays to peak_lr * final_lr_ratio
  double weight_decay = 0.0;     // AdamW, matrices only (never norms, embeddings, sinks, biases)
  double beta1 = 0.9, beta2 = 0.98;
  double adam_eps = 1e-12;
  double grad_clip = 1.0;
  // Leave position 0's prediction (of the first token after BOS, uniformly random in both tasks:
  // no model can do better than ln(#tokens)) out of the training loss, so that BOS's residual is
  // shaped only by what the later positions need from it (a key and value for attention).
  bool skip_first_prediction = false;
  int checkpoint_every = 250;    // plus the last step
  int eval_sequences = 64;       // held-out loss
  int probe_sequences = 4;       // held-out sequences for sink / activation / int8 metrics
  uint64_t seed = 1;
  bool keep_checkpoints = true;  // false: intermediate checkpoints are deleted once measured

  static TrainSchedule Default();  // the train_variants default (all runs in < 15 min, 2 cores)
  static TrainSchedule Quick();    // --quick (all runs in < 2 min)
  std::string ToString() const;
  // Learning rate at `step` (0-based).
  double LearningRate(int step) const;
};

}  // namespace sinkscope::train

#endif  // SINKSCOPE_TRAIN_TRAIN_SCHEDULE_H_
