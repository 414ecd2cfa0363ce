// File: train/train_schedule.cc
#include "train/train_schedule.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace sinkscope::train {

TrainSchedule TrainSchedule::Default() { return TrainSchedule(); }

TrainSchedule TrainSchedule::Quick() {
  TrainSchedule s;
  s.steps = 400;
  s.batch = 24;
  s.peak_lr = 2e-2;
  s.warmup_steps = 25;
  s.checkpoint_every = 100;
  s.eval_sequences = 32;
  s.probe_sequences = 2;
  return s;
}

std::string TrainSchedule::ToString() const {
  return absl::StrCat("steps=", steps, " batch=", batch, " AdamW(lr=", peak_lr, ", betas=", beta1,
                      "/", beta2, ", eps=", adam_eps, ", wd=", weight_decay, ") warmup=", warmup_steps,
                      " cosine to ", final_lr_ratio, "x, clip=", grad_clip,
                      skip_first_prediction ? " skip_first" : "",
                      " checkpoint_every=", checkpoint_every, " eval=", eval_sequences,
                      " probes=", probe_sequences, " seed=", seed);
}

double TrainSchedule::LearningRate(int step) const {
  if (step < warmup_steps) return peak_lr * (step + 1) / warmup_steps;
  const double span = std::max(1, steps - warmup_steps);
  const double progress = std::min(1.0, (step - warmup_steps) / span);
  const double floor = peak_lr * final_lr_ratio;
  return floor + (peak_lr - floor) * 0.5 * (1.0 + std::cos(M_PI * progress));
}

}  // namespace sinkscope::train
