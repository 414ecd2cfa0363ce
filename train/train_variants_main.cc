// train_variants: trains tiny transformers, one per attention variant, on Bigram-Backcopy (and
// three passkey runs that show the sliding window's limit), writes each as a checkpoint
// directory that every analysis binary reads (config.json model_type "sinkscope" +
// model.safetensors), and a training report with the loss and emergence curves.
//
// Usage: train_variants [--runs=all|NAME,...] [--quick] [--steps=N] [--seed=S]
//        [--out_dir=DIR] [--jobs=N] [--nokeep_checkpoints] [--out=F.pb] [--json=F.json]
// Writes DIR/NAME/ per run and DIR/training.pb + DIR/training.json.
#include <atomic>
#include <exception>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <torch/torch.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/atomic_file.h"
#include "base/cli.h"
#include "report/provenance.h"
#include "report/report_flags.h"
#include "report/report_io.h"
#include "train/run_plan.h"
#include "train/trainer.h"

ABSL_FLAG(std::string, runs, "all",
          "comma-separated runs: all, passkey, or names (vanilla, sink_tokens, kv_bias, "
          "sink_logit, softmax1, clipped_softmax, gated, sigmoid, passkey_full, passkey_sliding, "
          "passkey_alternating)");
ABSL_FLAG(bool, quick, false, "small models and a short schedule (all runs in under 2 minutes)");
ABSL_FLAG(int, steps, 0, "training steps per run (0: the schedule's default)");
ABSL_FLAG(uint64_t, seed, 1, "seed of weights and data");
ABSL_FLAG(std::string, out_dir, "sinkscope-train", "where the run directories go");
ABSL_FLAG(int, jobs, 0, "runs trained at once, each on one thread (0: one per core)");
ABSL_FLAG(bool, keep_checkpoints, true, "keep DIR/NAME/checkpoints/step-N/ of every checkpoint");
// Recipe exploration: each flag, when set (> 0, or >= 0 for weight decay), overrides that setting
// of every selected run or of the schedule. The study only uses the plan (run_plan.cc).
ABSL_FLAG(int, layers, 0, "override: layers per model");
ABSL_FLAG(int, vocab, 0, "override: vocabulary size (model and task)");
ABSL_FLAG(int, d_model, 0, "override: hidden size (intermediate size 2x unless --ffn)");
ABSL_FLAG(int, heads, 0, "override: attention heads (= kv heads)");
ABSL_FLAG(int, ffn, 0, "override: MLP intermediate size");
ABSL_FLAG(int, seq_len, 0, "override: task sequence length");
ABSL_FLAG(double, trigger_prob, 0, "override: Bigram-Backcopy trigger probability");
ABSL_FLAG(int, successors, 0, "override: successors per token of the bigram chain");
ABSL_FLAG(int, num_triggers, 0, "override: Bigram-Backcopy trigger tokens");
ABSL_FLAG(int, copy_offsets, 0, "override: Bigram-Backcopy copy rules (trigger j copies 1 + (j-1) % n back)");
ABSL_FLAG(int, batch, 0, "override: sequences per step");
ABSL_FLAG(double, lr, 0, "override: peak learning rate");
ABSL_FLAG(int, warmup, 0, "override: warmup steps");
ABSL_FLAG(double, final_lr_ratio, 0, "override: cosine floor as a fraction of the peak");
ABSL_FLAG(double, wd, -1, "override: AdamW weight decay (matrices only)");
ABSL_FLAG(double, adam_eps, 0, "override: Adam epsilon");
ABSL_FLAG(double, beta2, 0, "override: Adam beta2");
ABSL_FLAG(int, checkpoint_every, 0, "override: steps between checkpoints");
ABSL_FLAG(int, start_tokens, -1, "override: the first token after BOS is drawn from this many ordinary tokens (0: all)");
ABSL_FLAG(bool, equal_successors, false, "override: every successor of the bigram chain equally likely");
ABSL_FLAG(bool, skip_first, false, "override: leave position 0's prediction out of the loss");
ABSL_FLAG(double, embed_std, 0, "override: token embeddings' initial standard deviation");

namespace sa = sinkscope::analysis;
namespace st = sinkscope::train;

int main(int argc, char** argv) {
  constexpr char kTool[] = "train_variants";
  absl::SetProgramUsageMessage("train_variants [--runs=all] [--quick] [--out_dir=DIR]");
  absl::ParseCommandLine(argc, argv);
  const bool quick = absl::GetFlag(FLAGS_quick);
  absl::StatusOr<std::vector<st::RunSpec>> runs =
      st::SelectRuns(st::StandardRuns(quick), absl::GetFlag(FLAGS_runs));
  if (!runs.ok()) return sa::UsageError(kTool, runs.status().message());
  st::TrainSchedule schedule = quick ? st::TrainSchedule::Quick() : st::TrainSchedule::Default();
  if (absl::GetFlag(FLAGS_steps) < 0) return sa::UsageError(kTool, "--steps must be >= 0");
  if (absl::GetFlag(FLAGS_steps) > 0) {
    schedule.steps = absl::GetFlag(FLAGS_steps);
    schedule.warmup_steps = std::min(schedule.warmup_steps, std::max(1, schedule.steps / 10));
    schedule.checkpoint_every = std::max(1, std::min(schedule.checkpoint_every, schedule.steps));
  }
  for (st::RunSpec& r : *runs) {
    if (absl::GetFlag(FLAGS_layers) > 0) r.model.num_layers = absl::GetFlag(FLAGS_layers);
    if (absl::GetFlag(FLAGS_vocab) > 0) r.model.vocab_size = r.task.vocab_size = absl::GetFlag(FLAGS_vocab);
    if (absl::GetFlag(FLAGS_d_model) > 0) {
      r.model.hidden_size = absl::GetFlag(FLAGS_d_model);
      r.model.intermediate_size = 2 * r.model.hidden_size;
    }
    if (absl::GetFlag(FLAGS_heads) > 0) {
      r.model.num_heads = r.model.num_kv_heads = absl::GetFlag(FLAGS_heads);
    }
    if (absl::GetFlag(FLAGS_ffn) > 0) r.model.intermediate_size = absl::GetFlag(FLAGS_ffn);
    if (absl::GetFlag(FLAGS_embed_std) > 0) r.model.embed_init_std = absl::GetFlag(FLAGS_embed_std);
    if (absl::GetFlag(FLAGS_seq_len) > 0) r.task.seq_len = absl::GetFlag(FLAGS_seq_len);
    if (absl::GetFlag(FLAGS_successors) > 0) r.task.successors = absl::GetFlag(FLAGS_successors);
    if (absl::GetFlag(FLAGS_start_tokens) >= 0) r.task.start_tokens = absl::GetFlag(FLAGS_start_tokens);
    if (absl::GetFlag(FLAGS_equal_successors)) r.task.equal_successors = true;
    if (r.task.kind == st::TaskKind::kBigramBackcopy) {
      if (absl::GetFlag(FLAGS_num_triggers) > 0) r.task.num_triggers = absl::GetFlag(FLAGS_num_triggers);
      if (absl::GetFlag(FLAGS_copy_offsets) > 0) r.task.copy_offsets = absl::GetFlag(FLAGS_copy_offsets);
    }
    if (absl::GetFlag(FLAGS_trigger_prob) > 0) r.task.trigger_prob = absl::GetFlag(FLAGS_trigger_prob);
  }
  if (absl::GetFlag(FLAGS_batch) > 0) schedule.batch = absl::GetFlag(FLAGS_batch);
  if (absl::GetFlag(FLAGS_lr) > 0) schedule.peak_lr = absl::GetFlag(FLAGS_lr);
  if (absl::GetFlag(FLAGS_warmup) > 0) schedule.warmup_steps = absl::GetFlag(FLAGS_warmup);
  if (absl::GetFlag(FLAGS_final_lr_ratio) > 0) {
    schedule.final_lr_ratio = absl::GetFlag(FLAGS_final_lr_ratio);
  }
  if (absl::GetFlag(FLAGS_wd) >= 0) schedule.weight_decay = absl::GetFlag(FLAGS_wd);
  if (absl::GetFlag(FLAGS_adam_eps) > 0) schedule.adam_eps = absl::GetFlag(FLAGS_adam_eps);
  if (absl::GetFlag(FLAGS_beta2) > 0) schedule.beta2 = absl::GetFlag(FLAGS_beta2);
  if (absl::GetFlag(FLAGS_skip_first)) schedule.skip_first_prediction = true;
  if (absl::GetFlag(FLAGS_checkpoint_every) > 0) {
    schedule.checkpoint_every = absl::GetFlag(FLAGS_checkpoint_every);
  }
  schedule.seed = absl::GetFlag(FLAGS_seed);
  schedule.keep_checkpoints = absl::GetFlag(FLAGS_keep_checkpoints);
  const std::string out_dir = absl::GetFlag(FLAGS_out_dir);
  if (out_dir.empty()) return sa::UsageError(kTool, "--out_dir must not be empty");
  // Tiny models: one intra-op thread each (more only adds synchronisation), runs in parallel.
  int jobs = absl::GetFlag(FLAGS_jobs);
  if (jobs < 0) return sa::UsageError(kTool, "--jobs must be >= 0");
  if (jobs == 0) jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  jobs = std::min<int>(jobs, static_cast<int>(runs->size()));
  st::UseOneThreadPerRun();

  const sa::ReportOutputs outputs = sa::ReportOutputsFromFlags();
  if (absl::Status s = sa::CheckReportOutputs(outputs); !s.ok()) return sa::Fail(kTool, s);

  sinkscope::v1::Report report;
  *report.mutable_provenance() = sa::MakeProvenance(
      kTool, argc, argv,
      {{"runs", absl::GetFlag(FLAGS_runs)}, {"quick", quick ? "true" : "false"},
       {"schedule", schedule.ToString()}, {"jobs", absl::StrCat(jobs)},
       {"plan_fingerprint", st::PlanFingerprint(*runs, schedule)}});
  sinkscope::v1::TrainingReport* tr = report.mutable_training_report();
  tr->set_schedule(schedule.ToString());
  std::cerr << kTool << ": " << runs->size() << " runs, " << schedule.ToString() << ", "
            << jobs << " at a time -> " << out_dir << "\n";
  std::vector<absl::StatusOr<sinkscope::v1::TrainingRun>> results(
      runs->size(), absl::UnknownError("not run"));
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex log_mu;
  const auto worker = [&] {
    for (size_t i = next++; i < runs->size() && !failed; i = next++) {
      const st::RunSpec& run = (*runs)[i];
      try {
        results[i] = st::TrainRun(run, schedule, absl::StrCat(out_dir, "/", run.name),
                                  [&log_mu](const std::string& line) {
                                    std::lock_guard<std::mutex> lock(log_mu);
                                    std::cerr << line << std::endl;
                                  });
      } catch (const std::exception& e) {  // libtorch reports errors as exceptions
        results[i] = absl::InternalError(absl::StrCat("run ", run.name, ": ", e.what()));
      }
      if (!results[i].ok()) failed = true;
    }
  };
  std::vector<std::thread> pool;
  for (int j = 0; j < jobs; ++j) pool.emplace_back(worker);
  for (std::thread& t : pool) t.join();
  for (auto& r : results) {
    if (!r.ok() && failed) {
      if (absl::IsUnknown(r.status())) continue;  // skipped after another run failed
      return sa::Fail(kTool, r.status());
    }
    *tr->add_runs() = std::move(*r);
  }

  // Summary table: what each variant learned and what emerged.
  std::cout << absl::StrFormat("%-20s %8s %8s %9s %7s %10s %9s %10s %9s %9s %8s\n", "run",
                               "loss", "copy", "baseline", "sink%", "max/med", "max|h|",
                               "tok0/med", "int8 dB", "keep1 dB", "seconds");
  for (const sinkscope::v1::TrainingRun& r : tr->runs()) {
    if (r.emergence_size() == 0) continue;
    const sinkscope::v1::EmergencePoint& e = r.emergence(r.emergence_size() - 1);
    double db = 0.0, keep = 0.0;
    for (int l = 0; l < e.attention_sqnr_db_size(); ++l) {
      db += e.attention_sqnr_db(l) / e.attention_sqnr_db_size();
      keep += e.attention_sqnr_db_keep_sink(l) / e.attention_sqnr_db_size();
    }
    std::cout << absl::StrFormat(
        "%-20s %8.3f %8.3f %9.3f %7.1f %10.1f %9.1f %10.1f %9.1f %9.1f %8.1f\n", r.name(),
        e.eval_loss(), e.eval_copy_loss(), r.copy_baseline_nll(), e.sink_rate(),
        e.abs_max_over_median(), e.abs_max(), e.first_token_abs_max_over_median(), db, keep,
        r.seconds());
  }
  sa::ReportOutputs in_dir{absl::StrCat(out_dir, "/training.pb"),
                           absl::StrCat(out_dir, "/training.json"), ""};
  if (absl::Status s = sa::WriteReport(report, in_dir); !s.ok()) return sa::Fail(kTool, s);
  if (!outputs.empty()) {
    if (absl::Status s = sa::WriteReport(report, outputs); !s.ok()) return sa::Fail(kTool, s);
  }
  std::cerr << kTool << ": wrote " << in_dir.pb << " and " << in_dir.json << "\n";
  return 0;
}
