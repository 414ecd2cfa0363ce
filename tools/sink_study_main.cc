// sink_study: the project's question in one report: for each sink mechanism (or a given
// checkpoint), how big are the sinks and massive activations, what does int8 attention cost under
// each quantization configuration, which fix removes the cost, and what a bounded StreamingLLM
// cache costs with and without sink tokens. See analysis/sink_study.h and the README.
//
// Default subjects: the tiny models train_variants trains per attention variant, cached under
// $XDG_CACHE_HOME/sinkscope (or ~/.cache/sinkscope) by a fingerprint of their configuration.
//
// Usage: sink_study [--checkpoint=DIR [--name=NAME] [--tokens=FILE[,FILE...] | --text=FILE[,FILE...]
//                   [--tokenizer=PATH]]] [--quick]
//        [--cache_dir=DIR] [--train_variants=PATH]
//        [--out_dir=./sinkscope-study] [--seq_len=256] [--num_sequences=2] [--seed=1]
//        [--[no]streaming] [--streaming_cache=64] [--streaming_length=512]
//        [--abs_threshold=100] [--ratio_threshold=1000] [--sink_epsilon=0.3]
// Writes OUT_DIR/study.pb, study.json and study.html (each atomically) and prints a compact
// table whose first lines answer the question. Progress goes to stderr. Ctrl-C stops between
// stages with exit code 130 and writes nothing. Exit codes: 1 error, 2 usage.
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "analysis/activation_scan.h"
#include "analysis/quant_eval.h"
#include "analysis/sink_study.h"
#include "text/load_tokenizer.h"
#include "text/tokenizer.h"
#include "analysis/token_inputs.h"
#include "analysis/trained_models.h"
#include "base/atomic_file.h"
#include "base/cli.h"
#include "report/html_report.h"
#include "report/provenance.h"
#include "report/report_io.h"
#include "train/run_plan.h"
#include "train/synthetic_tasks.h"

ABSL_FLAG(std::string, checkpoint, "", "study this checkpoint directory (config.json + safetensors) instead of the built-in subjects");
ABSL_FLAG(std::string, name, "", "name of the --checkpoint subject in the report (default: the directory's name)");
ABSL_FLAG(std::string, tokens, "", "held-out token-id files (integers separated by whitespace or commas), comma-separated: one sequence each (default: seeded random ids)");
ABSL_FLAG(std::string, out_dir, "./sinkscope-study", "directory for study.pb, study.json and study.html");
ABSL_FLAG(bool, quick, false, "one short sequence and a short stream (every configuration and section kept)");
ABSL_FLAG(int, seq_len, 256, "length of each random held-out sequence (and the cap on --tokens files)");
ABSL_FLAG(int, num_sequences, 2, "number of random held-out sequences");
ABSL_FLAG(int, seed, 1, "seed of the random held-out sequences and stream");
ABSL_FLAG(bool, streaming, true, "StreamingLLM section (causal models): window-only vs sinks + window vs full");
ABSL_FLAG(int, streaming_cache, 64, "StreamingLLM cache size (n_sink + window)");
ABSL_FLAG(int, streaming_length, 512, "tokens streamed through the cache (several times the cache)");
ABSL_FLAG(std::string, cache_dir, "", "where trained tiny models are cached (default: $XDG_CACHE_HOME/sinkscope or ~/.cache/sinkscope)");
ABSL_FLAG(std::string, train_variants, "", "the train_variants binary (default: found in runfiles / beside this binary)");
ABSL_FLAG(double, abs_threshold, 100.0, "massive activation: |x| above this");
ABSL_FLAG(double, ratio_threshold, 1000.0, "massive activation: |x| at least this times median |h|");
ABSL_FLAG(double, sink_epsilon, 0.3, "Sink_1^eps threshold on first-token mass");
ABSL_FLAG(std::string, end_to_end, "default", "whole-model configurations run on every subject (quant_eval's names, comma-separated; 'default': w8a8, w8a8_tensor, kv8, kv4, fp8, mxfp4 and the remedies on w8a8_tensor; 'none': skip)");
ABSL_FLAG(int, probe_tokens, 4, "position or content: how many first tokens the probe replaces (0: skip)");
ABSL_FLAG(int, filler_id, -1, "position probe filler token id (default: the vocabulary's last id)");

namespace sa = sinkscope::analysis;

namespace {

constexpr char kTool[] = "sink_study";
constexpr int kExitInterrupted = 130;

volatile std::sig_atomic_t g_interrupted = 0;
extern "C" void OnSigint(int) { g_interrupted = 1; }

bool IsDir(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Relative paths are relative to where the user ran `bazel run` (BUILD_WORKING_DIRECTORY).
std::string UserPath(const std::string& p) {
  const char* wd = getenv("BUILD_WORKING_DIRECTORY");
  if (p.empty() || p[0] == '/' || wd == nullptr || *wd == '\0') return p;
  return absl::StrCat(wd, "/", p);
}

std::string BaseName(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  const size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

// mkdir -p; returns the directories it created (deepest last).
absl::Status MakeDirs(const std::string& dir, std::vector<std::string>* created) {
  std::string path;
  for (absl::string_view part : absl::StrSplit(dir, '/')) {
    if (part.empty()) continue;
    path = !path.empty() ? absl::StrCat(path, "/", part)
                         : absl::StrCat(dir[0] == '/' ? "/" : "", part);
    if (part == "." || part == "..") continue;
    if (IsDir(path)) continue;
    if (mkdir(path.c_str(), 0755) != 0) {
      return absl::PermissionDeniedError(
          absl::StrCat(dir, ": cannot create directory '", path, "': ", std::strerror(errno)));
    }
    created->push_back(path);
  }
  return absl::OkStatus();
}

// --- The default subjects -----------------------------------------------------------------
// Without --checkpoint: the tiny models of train/'s standard plan (one per attention variant and
// the passkey runs), trained once and cached. Each subject's held-out sequences and its stream
// come from its own task (same chain as training, sequences it never saw).
std::vector<sa::StudySubject> TrainedSubjects(const sa::TrainedModels& models, bool quick,
                                              int num_sequences, int stream_length) {
  std::vector<sa::StudySubject> out;
  const std::vector<sinkscope::train::RunSpec> plan = sinkscope::train::StandardRuns(quick);
  for (const sa::TrainedRun& run : models.runs) {
    sa::StudySubject s{run.name, run.checkpoint_dir, {}, {}, -1, ""};
    for (const sinkscope::train::RunSpec& spec : plan) {
      if (spec.name != run.name) continue;
      sinkscope::train::TaskGenerator held_out(spec.task, /*seed=*/9001);
      for (int i = 0; i < num_sequences; ++i) s.held_out.push_back(held_out.SampleSequence());
      sinkscope::train::TaskSpec long_task = spec.task;
      long_task.seq_len = stream_length;
      sinkscope::train::TaskGenerator stream(long_task, /*seed=*/9002);
      s.stream = stream.SampleSequence();
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "sink_study [--checkpoint=DIR] [--quick] [--out_dir=DIR]: sinks, massive activations, "
      "int8 attention cost per configuration and the StreamingLLM experiment, in one report");
  const std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() > 1) {
    return sa::UsageError(kTool, absl::StrCat("unexpected argument '", positional[1], "'"));
  }
  const std::string checkpoint = UserPath(absl::GetFlag(FLAGS_checkpoint));
  const std::string out_dir = UserPath(absl::GetFlag(FLAGS_out_dir));
  if (out_dir.empty()) return sa::UsageError(kTool, "--out_dir must not be empty");
  if (std::string p = sa::TokenFlagsProblem(absl::GetFlag(FLAGS_tokens), /*required=*/false);
      !p.empty()) {
    return sa::UsageError(kTool, p);
  }
  if ((!absl::GetFlag(FLAGS_tokens).empty() || !absl::GetFlag(FLAGS_text).empty()) &&
      checkpoint.empty()) {
    return sa::UsageError(
        kTool, "--tokens / --text need --checkpoint (the built-in subjects bring their own)");
  }
  if (!absl::GetFlag(FLAGS_name).empty() && checkpoint.empty()) {
    return sa::UsageError(kTool, "--name needs --checkpoint");
  }
  sa::StudyOptions options;
  options.seq_len = absl::GetFlag(FLAGS_seq_len);
  options.num_sequences = absl::GetFlag(FLAGS_num_sequences);
  options.seed = static_cast<uint32_t>(absl::GetFlag(FLAGS_seed));
  options.max_tokens = options.seq_len;
  options.streaming = absl::GetFlag(FLAGS_streaming);
  options.streaming_cache = absl::GetFlag(FLAGS_streaming_cache);
  options.streaming_length = absl::GetFlag(FLAGS_streaming_length);
  options.massive.abs_threshold = absl::GetFlag(FLAGS_abs_threshold);
  options.massive.ratio_threshold = absl::GetFlag(FLAGS_ratio_threshold);
  options.sink_epsilon = absl::GetFlag(FLAGS_sink_epsilon);
  if (options.seq_len < 2) return sa::UsageError(kTool, "--seq_len must be >= 2");
  if (options.num_sequences < 1) return sa::UsageError(kTool, "--num_sequences must be >= 1");
  if (!(options.sink_epsilon > 0.0 && options.sink_epsilon < 1.0)) {
    return sa::UsageError(kTool, "--sink_epsilon must be in (0, 1)");
  }
  if (options.streaming_cache < 2) return sa::UsageError(kTool, "--streaming_cache must be >= 2");
  if (options.streaming_length <= options.streaming_cache) {
    return sa::UsageError(kTool, "--streaming_length must exceed --streaming_cache");
  }
  if (const std::string e2e = absl::GetFlag(FLAGS_end_to_end); e2e == "none") {
    options.end_to_end.clear();
  } else if (e2e != "default") {
    options.end_to_end = absl::StrSplit(e2e, ',', absl::SkipWhitespace());
    if (absl::StatusOr<std::vector<sa::QuantEvalSpec>> specs = sa::ParseQuantConfigs(e2e);
        !specs.ok()) {
      return sa::UsageError(kTool, absl::StrCat("--end_to_end: ", specs.status().message()));
    }
  }
  options.probe_tokens = absl::GetFlag(FLAGS_probe_tokens);
  options.filler_id = absl::GetFlag(FLAGS_filler_id);
  if (options.probe_tokens < 0) return sa::UsageError(kTool, "--probe_tokens must be >= 0");
  if (options.probe_tokens >= options.seq_len) {
    return sa::UsageError(kTool, "--probe_tokens must be below --seq_len");
  }
  if (absl::GetFlag(FLAGS_quick)) sa::MakeQuick(&options);

  // Held-out token files (read before any work: a bad file fails fast).
  // --text: tokenized with --tokenizer or the checkpoint folder's own tokenizer.
  absl::StatusOr<sa::TokenInputs> inputs =
      sa::TokenInputs::FromFlags(absl::GetFlag(FLAGS_tokens), checkpoint, &UserPath);
  if (!inputs.ok()) return sa::Fail(kTool, inputs.status());
  for (size_t i = 0; i < inputs->files().size(); ++i) {
    const std::string& f = inputs->files()[i];
    absl::StatusOr<std::vector<int32_t>> ids = inputs->Read(i);
    if (!ids.ok()) return sa::Fail(kTool, ids.status());
    if (ids->size() < 2) {
      return sa::Fail(kTool, absl::InvalidArgumentError(absl::StrCat(f, ": needs at least 2 token ids")));
    }
    const bool dropped = options.quick && i > 0;  // --quick studies one sequence
    inputs->NoteUsed(i, dropped ? 0 : std::min<int64_t>(ids->size(), options.max_tokens));
    options.sequences.push_back(*std::move(ids));
  }
  if (options.quick && options.sequences.size() > 1) options.sequences.resize(1);

  // Output directory: created now (so that an unwritable place fails before the work) and
  // removed again if the study does not complete.
  std::vector<std::string> created;
  if (absl::Status st = MakeDirs(out_dir, &created); !st.ok()) return sa::Fail(kTool, st);
  const auto undo_dirs = [&created]() {
    for (auto it = created.rbegin(); it != created.rend(); ++it) rmdir(it->c_str());
  };
  const std::string pb = out_dir + "/study.pb", json = out_dir + "/study.json",
                    html = out_dir + "/study.html";
  for (const std::string* p : {&pb, &json, &html}) {
    if (absl::Status st = sinkscope::model::CheckWritable(*p); !st.ok()) {
      undo_dirs();
      return sa::Fail(kTool, st);
    }
  }

  std::signal(SIGINT, OnSigint);
  const auto start = std::chrono::steady_clock::now();
  options.cancelled = [] { return g_interrupted != 0; };
  options.progress = [start](const std::string& line) {
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cerr << kTool << absl::StrFormat(" [%6.1fs] ", s) << line << "\n";
  };
  std::vector<sa::StudySubject> subjects;
  sinkscope::v1::TrainingReport training;
  if (!checkpoint.empty()) {
    const std::string name = absl::GetFlag(FLAGS_name).empty() ? BaseName(checkpoint)
                                                                : absl::GetFlag(FLAGS_name);
    subjects.push_back({name, checkpoint, {}, {}, -1, ""});
    // The position probe's filler: the tokenizer's newline (the last id of "\n": SentencePiece
    // gives "▁" then <0x0A>), when the folder or --tokenizer has a tokenizer; else the default.
    if (options.filler_id < 0) {
      const std::string tok = absl::GetFlag(FLAGS_tokenizer).empty()
                                  ? checkpoint
                                  : UserPath(absl::GetFlag(FLAGS_tokenizer));
      if (sinkscope::text::ResolveTokenizerPath(tok).ok()) {
        absl::StatusOr<std::unique_ptr<sinkscope::text::Tokenizer>> t =
            sinkscope::text::LoadTokenizer(tok);
        if (!t.ok()) return sa::Fail(kTool, t.status());
        absl::StatusOr<std::vector<int32_t>> nl = (*t)->Encode("\n", /*add_special_tokens=*/false);
        if (nl.ok() && !nl->empty()) {
          subjects.back().filler_id = nl->back();
          subjects.back().filler_name = "newline";
        }
      }
    }
  } else {
    sa::TrainedModelsOptions t;
    t.quick = options.quick;
    t.train_variants = UserPath(absl::GetFlag(FLAGS_train_variants));
    t.cache_root = UserPath(absl::GetFlag(FLAGS_cache_dir));
    t.argv0 = argv[0];
    t.progress = options.progress;
    t.cancelled = options.cancelled;
    absl::StatusOr<sa::TrainedModels> models = sa::EnsureTrainedModels(t);
    if (g_interrupted || (!models.ok() && absl::IsCancelled(models.status()))) {
      undo_dirs();
      std::cerr << kTool << ": interrupted; no report written\n";
      return kExitInterrupted;
    }
    if (!models.ok()) {
      undo_dirs();
      return sa::Fail(kTool, models.status());
    }
    subjects = TrainedSubjects(*models, options.quick, options.quick ? 1 : 2,
                               options.streaming_length);
    training = models->training;
    options.note = absl::StrCat(
        "subjects: tiny models trained per attention variant by train_variants (",
        options.quick ? "--quick" : "default", " schedule; ",
        models->from_cache ? "from the cache " : "trained now, cached in ", models->cache_dir,
        "); held-out sequences and streams from each model's own task");
  }

  absl::StatusOr<sinkscope::v1::Report> report = sa::RunStudy(subjects, options);
  if (g_interrupted || (!report.ok() && absl::IsCancelled(report.status()))) {
    undo_dirs();
    std::cerr << kTool << ": interrupted; no report written\n";
    return kExitInterrupted;
  }
  if (!report.ok()) {
    undo_dirs();
    return sa::Fail(kTool, report.status());
  }
  if (training.runs_size() > 0) *report->mutable_study_report()->mutable_training() = training;
  *report->mutable_provenance() = sa::MakeProvenance(
      kTool, argc, argv,
      {{"checkpoint", checkpoint},
       {"out_dir", out_dir},
       {"quick", options.quick ? "true" : "false"},
       {"seq_len", absl::StrCat(options.seq_len)},
       {"num_sequences", absl::StrCat(options.num_sequences)},
       {"seed", absl::StrCat(options.seed)},
       {"streaming", options.streaming ? "true" : "false"},
       {"streaming_cache", absl::StrCat(options.streaming_cache)},
       {"streaming_length", absl::StrCat(options.streaming_length)}});
  if (!inputs->files().empty()) {
    for (const auto& [k, v] : inputs->ConfigEntries()) (*report->mutable_provenance()->mutable_config())[k] = v;
  }
  inputs->Record(report->mutable_provenance());
  // Everything is rendered before the first file is written; each write is atomic.
  std::string bytes;
  if (!report->SerializeToString(&bytes)) {
    undo_dirs();
    return sa::Fail(kTool, absl::InternalError("report serialization failed"));
  }
  absl::StatusOr<std::string> json_text = sa::ReportToJson(*report);
  if (!json_text.ok()) {
    undo_dirs();
    return sa::Fail(kTool, json_text.status());
  }
  const std::string page = sa::RenderHtmlReport(*report);
  const std::pair<const std::string*, const std::string*> files[] = {
      {&pb, &bytes}, {&json, &*json_text}, {&html, &page}};
  for (const auto& [path, contents] : files) {
    if (absl::Status st = sinkscope::model::WriteFileAtomically(*path, *contents); !st.ok()) {
      for (const auto& [p, unused] : files) unlink(p->c_str());
      undo_dirs();
      return sa::Fail(kTool, st);
    }
  }
  std::cout << sa::StudyTable(report->study_report());
  std::cout << "report: " << pb << ", " << json << ", " << html << "\n";
  return 0;
}
