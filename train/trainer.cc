// File: train/trainer.cc
#include "train/trainer.h"

#include <dlfcn.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "train/emergence.h"
#include "train/tiny_transformer.h"

namespace sinkscope::train {
namespace {

struct BatchTensors {
  torch::Tensor ids;        // int64 [B, T]
  torch::Tensor targets;    // int64 [B * (T - 1)]
  torch::Tensor copy_mask;  // bool  [B * (T - 1)]
};

BatchTensors ToTensors(const TokenBatch& b) {
  BatchTensors t;
  std::vector<int64_t> ids(b.tokens.begin(), b.tokens.end());
  t.ids = torch::tensor(ids, torch::kInt64).view({b.batch, b.seq_len});
  t.targets = t.ids.narrow(1, 1, b.seq_len - 1).reshape({-1}).clone();
  std::vector<uint8_t> mask;
  mask.reserve(static_cast<size_t>(b.batch) * (b.seq_len - 1));
  for (int i = 0; i < b.batch; ++i) {
    for (int p = 0; p + 1 < b.seq_len; ++p) {
      mask.push_back(b.role[static_cast<size_t>(i) * b.seq_len + p] == Role::kCopy);
    }
  }
  t.copy_mask = torch::tensor(mask, torch::kUInt8).to(torch::kBool);
  return t;
}

// Per-position NLL [B * (T - 1)] of the targets.
torch::Tensor TokenNll(TinyTransformer& m, const BatchTensors& b) {
  torch::Tensor logits = m.Forward(b.ids);
  const int64_t T = logits.size(1), V = logits.size(2);
  torch::Tensor pred = logits.narrow(1, 0, T - 1).reshape({-1, V});
  return torch::nn::functional::cross_entropy(
      pred, b.targets, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
}

double MaskedMean(const torch::Tensor& nll, const torch::Tensor& mask) {
  torch::Tensor sel = nll.masked_select(mask);
  return sel.numel() > 0 ? sel.mean().item<double>() : 0.0;
}

}  // namespace

void UseOneThreadPerRun() {
  torch::set_num_threads(1);
  using SetThreads = void (*)(int);
  if (void* f = dlsym(RTLD_DEFAULT, "openblas_set_num_threads"); f != nullptr) {
    reinterpret_cast<SetThreads>(f)(1);
  }
}

absl::StatusOr<sinkscope::v1::TrainingRun> TrainRun(const RunSpec& run,
                                                     const TrainSchedule& s,
                                                     const std::string& run_dir,
                                                     const ProgressFn& progress) {
  if (absl::Status st = ValidateTinyConfig(run.model); !st.ok()) return st;
  if (absl::Status st = ValidateTaskSpec(run.task); !st.ok()) return st;
  if (run.task.vocab_size != run.model.vocab_size) {
    return absl::InvalidArgumentError("TrainRun: task and model vocab sizes differ");
  }
  if (s.steps < 1 || s.batch < 1 || s.checkpoint_every < 1) {
    return absl::InvalidArgumentError("TrainRun: steps, batch and checkpoint_every must be >= 1");
  }
  const auto start = std::chrono::steady_clock::now();
  TinyTransformer model(run.model, s.seed);
  const std::string extra = absl::StrCat(
      "\"sinkscope_task\": {\"task\": \"", TaskKindName(run.task.kind), "\", \"seq_len\": ",
      run.task.seq_len, ", \"num_triggers\": ", run.task.num_triggers, ", \"trigger_prob\": ",
      run.task.trigger_prob, ", \"num_values\": ", run.task.num_values, ", \"successors\": ",
      run.task.successors, ", \"copy_offsets\": ", run.task.copy_offsets,
      ", \"start_tokens\": ", run.task.start_tokens, ", \"equal_successors\": ",
      run.task.equal_successors ? "true" : "false", "},\n  \"sinkscope_schedule\": \"", s.ToString(), "\"");

  sinkscope::v1::TrainingRun out;
  out.set_name(run.name);
  out.set_variant(attention::VariantName(run.model.variant));
  out.set_task(TaskKindName(run.task.kind));
  out.set_mask_pattern(MaskPatternName(run.model.masks));
  out.set_window(run.model.masks == MaskPattern::kFull ? 0 : run.model.window);
  out.set_checkpoint_dir(run_dir);
  out.set_config_json(TinyConfigJson(run.model, extra));
  out.set_steps(s.steps);
  out.set_seed(s.seed);
  out.set_num_layers(run.model.num_layers);
  out.set_num_heads(run.model.num_heads);

  TaskGenerator train_data(run.task, s.seed);
  // Held-out sequences: same task (chain), other sequences.
  TaskGenerator eval_data(run.task, s.seed + 1000003);
  const TokenBatch eval_batch = eval_data.Sample(s.eval_sequences);
  const BatchTensors eval = ToTensors(eval_batch);
  out.set_copy_baseline_nll(CopyBaselineNll(eval_batch));
  std::vector<std::vector<int32_t>> probes;
  for (int i = 0; i < s.probe_sequences; ++i) probes.push_back(eval_data.SampleSequence());

  torch::optim::AdamWOptions decay_opts(s.peak_lr), plain_opts(s.peak_lr);
  decay_opts.betas({s.beta1, s.beta2}).eps(s.adam_eps).weight_decay(s.weight_decay);
  plain_opts.betas({s.beta1, s.beta2}).eps(s.adam_eps).weight_decay(0.0);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(model.DecayedParameters(),
                      std::make_unique<torch::optim::AdamWOptions>(decay_opts));
  groups.emplace_back(model.UndecayedParameters(),
                      std::make_unique<torch::optim::AdamWOptions>(plain_opts));
  torch::optim::AdamW opt(std::move(groups), decay_opts);
  const std::vector<torch::Tensor> params = model.parameters();

  for (int step = 0; step < s.steps; ++step) {
    const double lr = s.LearningRate(step);
    for (auto& g : opt.param_groups()) {
      static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
    }
    const BatchTensors b = ToTensors(train_data.Sample(s.batch));
    opt.zero_grad();
    torch::Tensor nll = TokenNll(model, b);
    torch::Tensor loss =
        s.skip_first_prediction
            ? nll.view({s.batch, -1}).narrow(1, 1, nll.size(0) / s.batch - 1).mean()
            : nll.mean();
    loss.backward();
    torch::nn::utils::clip_grad_norm_(params, s.grad_clip);
    opt.step();
    const double loss_value = loss.item<double>();
    if (!std::isfinite(loss_value)) {
      return absl::InternalError(absl::StrCat("run ", run.name, ": loss is ", loss_value,
                                              " at step ", step, " (diverged)"));
    }
    sinkscope::v1::TrainingCurvePoint* c = out.add_curve();
    c->set_step(step + 1);
    c->set_loss(loss_value);
    c->set_copy_loss(MaskedMean(nll.detach(), b.copy_mask));
    c->set_lr(lr);

    const bool last = step + 1 == s.steps;
    if ((step + 1) % s.checkpoint_every != 0 && !last) continue;
    // Every checkpoint is written and measured through model/; without keep_checkpoints the
    // intermediate ones are removed once measured.
    const std::string ckpt =
        last ? run_dir : absl::StrFormat("%s/checkpoints/step-%06d", run_dir, step + 1);
    if (absl::Status st = model.SaveCheckpoint(ckpt, extra); !st.ok()) return st;
    absl::StatusOr<sinkscope::v1::EmergencePoint> e = MeasureEmergence(ckpt, probes);
    if (!e.ok()) return e.status();
    if (!last && !s.keep_checkpoints) {
      for (const char* f : {"/model.safetensors", "/config.json"}) {
        std::remove((ckpt + f).c_str());
      }
      rmdir(ckpt.c_str());
      rmdir((run_dir + "/checkpoints").c_str());  // fails while other steps remain: fine
      e->clear_checkpoint();
    }
    e->set_step(step + 1);
    {
      torch::NoGradGuard no_grad;
      torch::Tensor eval_nll = TokenNll(model, eval);
      e->set_eval_loss(eval_nll.mean().item<double>());
      e->set_eval_copy_loss(MaskedMean(eval_nll, eval.copy_mask));
    }
    if (progress) {
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      double sqnr = 0.0;
      for (double v : e->attention_sqnr_db()) sqnr += v / e->attention_sqnr_db_size();
      progress(absl::StrFormat(
          "[%s] step %d/%d loss %.3f copy %.3f (baseline %.3f) sink %.0f%% max/median %.1f "
          "(|h| %.1f, layer %d token %d; token 0: %.1f) int8 attn %.1f dB (%.1f s)",
          run.name, step + 1, s.steps, e->eval_loss(), e->eval_copy_loss(),
          out.copy_baseline_nll(), e->sink_rate(), e->abs_max_over_median(), e->abs_max(),
          e->max_layer(), e->max_token(), e->first_token_abs_max_over_median(), sqnr, secs));
    }
    *out.add_emergence() = std::move(*e);
  }
  out.set_seconds(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return out;
}

}  // namespace sinkscope::train
