// sink_study: the project's question in one report: for each sink mechanism (or a given
// checkpoint), how big are the sinks and massive activations, what does int8 attention cost under
// each quantization configuration, which fix removes the cost, and what a bounded StreamingLLM
// cache costs with and without sink tokens. See analysis/sink_study.h and the README.
//
// Usage: sink_study [--checkpoint=DIR [--name=NAME] [--tokens=FILE[,FILE...]]] [--quick]
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
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "analysis/activation_scan.h"
#include "analysis/cli.h"
#include "analysis/html_report.h"
#include "analysis/provenance.h"
#include "analysis/report_io.h"
#include "analysis/sink_study.h"
#include "model/atomic_file.h"
#include "model/safetensors.h"

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
ABSL_FLAG(double, abs_threshold, 100.0, "massive activation: |x| above this");
ABSL_FLAG(double, ratio_threshold, 1000.0, "massive activation: |x| at least this times median |h|");
ABSL_FLAG(double, sink_epsilon, 0.3, "Sink_1^eps threshold on first-token mass");

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

// --- The placeholder subjects -------------------------------------------------------------
// Without --checkpoint the study needs models. Until the trained tiny models (one per sink
// mechanism, train/) are wired in, two tiny random Llama-family checkpoints stand in for them:
// one with full causal layers and one with sliding-window layers (a Mistral config), written to
// `scratch`. THIS IS THE ONE FUNCTION TO REPLACE with the trained variants: return one
// StudySubject {variant name, checkpoint dir, held-out ids} per trained model.
absl::StatusOr<std::vector<sa::StudySubject>> PlaceholderSubjects(const std::string& scratch) {
  struct Shape {
    const char* name;
    const char* model_type;
    const char* extra;
  };
  const Shape shapes[] = {{"placeholder-llama", "llama", ""},
                          {"placeholder-mistral-swa", "mistral", ", \"sliding_window\": 32"}};
  const int hidden = 64, layers = 4, heads = 4, kv_heads = 2, head_dim = 16, ffn = 128, vocab = 256;
  std::vector<sa::StudySubject> out;
  uint32_t seed = 11;
  for (const Shape& s : shapes) {
    const std::string dir = absl::StrCat(scratch, "/", s.name);
    if (mkdir(dir.c_str(), 0755) != 0) {
      return absl::InternalError(absl::StrCat(dir, ": ", std::strerror(errno)));
    }
    std::mt19937 rng(seed++);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<sinkscope::model::TensorToWrite> ts;
    const auto add = [&](const std::string& name, std::vector<int64_t> shape, float scale,
                         float center) {
      int64_t count = 1;
      for (int64_t d : shape) count *= d;
      std::string bytes(count * 4, '\0');
      for (int64_t i = 0; i < count; ++i) {
        const float v = center + scale * normal(rng);
        std::memcpy(&bytes[i * 4], &v, 4);
      }
      ts.push_back({name, sinkscope::model::DType::kF32, shape, bytes});
    };
    const float w = 1.0f / std::sqrt(static_cast<float>(hidden));
    add("model.embed_tokens.weight", {vocab, hidden}, 1.0f, 0.0f);
    for (int l = 0; l < layers; ++l) {
      const std::string p = absl::StrCat("model.layers.", l, ".");
      add(p + "input_layernorm.weight", {hidden}, 0.1f, 1.0f);
      add(p + "self_attn.q_proj.weight", {heads * head_dim, hidden}, 2 * w, 0.0f);
      add(p + "self_attn.k_proj.weight", {kv_heads * head_dim, hidden}, 2 * w, 0.0f);
      add(p + "self_attn.v_proj.weight", {kv_heads * head_dim, hidden}, w, 0.0f);
      add(p + "self_attn.o_proj.weight", {hidden, heads * head_dim}, w, 0.0f);
      add(p + "post_attention_layernorm.weight", {hidden}, 0.1f, 1.0f);
      add(p + "mlp.gate_proj.weight", {ffn, hidden}, w, 0.0f);
      add(p + "mlp.up_proj.weight", {ffn, hidden}, w, 0.0f);
      add(p + "mlp.down_proj.weight", {hidden, ffn}, 1.0f / std::sqrt(static_cast<float>(ffn)), 0.0f);
    }
    add("model.norm.weight", {hidden}, 0.1f, 1.0f);
    add("lm_head.weight", {vocab, hidden}, w, 0.0f);
    if (absl::Status st = sinkscope::model::WriteSafetensors(dir + "/model.safetensors", ts); !st.ok()) {
      return st;
    }
    const std::string config = absl::StrCat(
        "{\"model_type\": \"", s.model_type, "\", \"hidden_size\": ", hidden,
        ", \"num_hidden_layers\": ", layers, ", \"num_attention_heads\": ", heads,
        ", \"num_key_value_heads\": ", kv_heads, ", \"head_dim\": ", head_dim,
        ", \"intermediate_size\": ", ffn, ", \"rms_norm_eps\": 1e-5, \"rope_theta\": 10000.0",
        ", \"vocab_size\": ", vocab, s.extra, "}");
    if (absl::Status st = sinkscope::model::WriteFileAtomically(dir + "/config.json", config); !st.ok()) {
      return st;
    }
    out.push_back({s.name, dir, {}});
  }
  return out;
}

// Removes the placeholder checkpoints (files one level below `dir`, then the directories).
void RemoveScratch(const std::string& dir) {
  if (dir.empty()) return;
  for (const char* sub : {"placeholder-llama", "placeholder-mistral-swa"}) {
    const std::string d = absl::StrCat(dir, "/", sub);
    for (const char* f : {"model.safetensors", "config.json"}) unlink(absl::StrCat(d, "/", f).c_str());
    rmdir(d.c_str());
  }
  rmdir(dir.c_str());
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
  if (!absl::GetFlag(FLAGS_tokens).empty() && checkpoint.empty()) {
    return sa::UsageError(kTool, "--tokens needs --checkpoint (the built-in subjects bring their own)");
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
  if (absl::GetFlag(FLAGS_quick)) sa::MakeQuick(&options);

  // Held-out token files (read before any work: a bad file fails fast).
  for (absl::string_view f : absl::StrSplit(absl::GetFlag(FLAGS_tokens), ',', absl::SkipEmpty())) {
    absl::StatusOr<std::vector<int32_t>> ids = sa::ReadTokenIds(UserPath(std::string(f)));
    if (!ids.ok()) return sa::Fail(kTool, ids.status());
    if (ids->size() < 2) {
      return sa::Fail(kTool, absl::InvalidArgumentError(absl::StrCat(f, ": needs at least 2 token ids")));
    }
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
  std::string scratch;
  std::vector<sa::StudySubject> subjects;
  if (!checkpoint.empty()) {
    const std::string name = absl::GetFlag(FLAGS_name).empty() ? BaseName(checkpoint)
                                                                : absl::GetFlag(FLAGS_name);
    subjects.push_back({name, checkpoint, {}});
  } else {
    char tmpl[] = "/tmp/sink_study.XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      undo_dirs();
      return sa::Fail(kTool, absl::InternalError(absl::StrCat("mkdtemp: ", std::strerror(errno))));
    }
    scratch = tmpl;
    absl::StatusOr<std::vector<sa::StudySubject>> placeholders = PlaceholderSubjects(scratch);
    if (!placeholders.ok()) {
      RemoveScratch(scratch);
      undo_dirs();
      return sa::Fail(kTool, placeholders.status());
    }
    subjects = *std::move(placeholders);
    options.note =
        "placeholder subjects: tiny random Llama / Mistral-SWA models generated on the fly; the "
        "trained per-variant models replace them";
  }

  const auto start = std::chrono::steady_clock::now();
  options.cancelled = [] { return g_interrupted != 0; };
  options.progress = [start](const std::string& line) {
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cerr << kTool << absl::StrFormat(" [%6.1fs] ", s) << line << "\n";
  };
  absl::StatusOr<sinkscope::v1::Report> report = sa::RunStudy(subjects, options);
  RemoveScratch(scratch);
  if (g_interrupted || (!report.ok() && absl::IsCancelled(report.status()))) {
    undo_dirs();
    std::cerr << kTool << ": interrupted; no report written\n";
    return kExitInterrupted;
  }
  if (!report.ok()) {
    undo_dirs();
    return sa::Fail(kTool, report.status());
  }
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
