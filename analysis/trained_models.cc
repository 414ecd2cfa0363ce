// File: analysis/trained_models.cc
#include "analysis/trained_models.h"

#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>

#include "absl/strings/str_cat.h"
#include "base/atomic_file.h"
#include "train/run_plan.h"
#include "train/train_schedule.h"

extern char** environ;

namespace sinkscope::analysis {
namespace {

bool IsFile(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool IsExecutable(const std::string& p) { return IsFile(p) && access(p.c_str(), X_OK) == 0; }

std::string DirName(const std::string& p) {
  const size_t slash = p.rfind('/');
  return slash == std::string::npos ? "." : p.substr(0, slash);
}


absl::StatusOr<std::string> FindTrainVariants(const TrainedModelsOptions& o) {
  if (!o.train_variants.empty()) {
    if (IsExecutable(o.train_variants)) return o.train_variants;
    return absl::NotFoundError(
        absl::StrCat("train_variants binary '", o.train_variants, "' is not an executable file"));
  }
  std::vector<std::string> candidates = {"train/train_variants"};  // bazel run / test runfiles
  if (const char* r = std::getenv("RUNFILES_DIR"); r != nullptr) {
    candidates.push_back(absl::StrCat(r, "/sinkscope/train/train_variants"));
  }
  if (!o.argv0.empty()) {
    candidates.push_back(absl::StrCat(o.argv0, ".runfiles/sinkscope/train/train_variants"));
    candidates.push_back(absl::StrCat(DirName(o.argv0), "/../train/train_variants"));
  }
  for (const std::string& c : candidates) {
    if (IsExecutable(c)) return c;
  }
  return absl::NotFoundError(
      "cannot find the train_variants binary (build //train:train_variants, or pass "
      "--train_variants=PATH)");
}

// The cached entry is complete when its report and every run's checkpoint are there.
absl::StatusOr<TrainedModels> ReadEntry(const std::string& dir) {
  // The binary report train_variants wrote (read here directly: analysis/ sits below report/).
  const std::string path = absl::StrCat(dir, "/training.pb");
  std::string bytes;
  if (absl::Status st = model::ReadFileToString(path, &bytes); !st.ok()) return st;
  sinkscope::v1::Report r;
  if (!r.ParseFromString(bytes)) {
    return absl::DataLossError(absl::StrCat(path, ": not a sinkscope binary report"));
  }
  if (!r.has_training_report() || r.training_report().runs_size() == 0) {
    return absl::DataLossError(absl::StrCat(dir, "/training.pb has no training runs"));
  }
  TrainedModels m;
  m.cache_dir = dir;
  m.training = r.training_report();
  for (sinkscope::v1::TrainingRun& run : *m.training.mutable_runs()) {
    // Paths as they are now (training wrote into a temporary directory, then moved it).
    const std::string run_dir = absl::StrCat(dir, "/", run.name());
    for (sinkscope::v1::EmergencePoint& e : *run.mutable_emergence()) {
      const std::string& old = e.checkpoint();
      const std::string marker = absl::StrCat("/", run.name());
      const size_t at = old.rfind(marker + "/checkpoints/");
      e.set_checkpoint(at != std::string::npos ? run_dir + old.substr(at + marker.size())
                                               : run_dir);
    }
    run.set_checkpoint_dir(run_dir);
    TrainedRun t;
    t.name = run.name();
    t.checkpoint_dir = absl::StrCat(dir, "/", run.name());
    t.variant = run.variant();
    t.task = run.task();
    t.mask_pattern = run.mask_pattern();
    t.window = run.window();
    if (!IsFile(t.checkpoint_dir + "/config.json") ||
        !IsFile(t.checkpoint_dir + "/model.safetensors")) {
      return absl::DataLossError(absl::StrCat("cached run '", t.checkpoint_dir, "' is incomplete"));
    }
    m.runs.push_back(std::move(t));
  }
  return m;
}

absl::Status RunChild(const std::vector<std::string>& args,
                      const std::function<bool()>& cancelled) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  // The child's stdout (its summary table) goes to our stderr with its progress: our stdout is
  // the study's own table.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
  pid_t pid;
  const int e = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (e != 0) {
    return absl::InternalError(absl::StrCat("cannot start '", args[0], "': ", std::strerror(e)));
  }
  int status = 0;
  bool forwarded = false;
  for (;;) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return absl::InternalError("waitpid failed");
    if (!forwarded && cancelled && cancelled()) {
      kill(pid, SIGINT);  // a Ctrl-C in a terminal reaches both; a signal to us alone, too
      forwarded = true;
    }
    usleep(50 * 1000);
  }
  if (forwarded || (WIFSIGNALED(status) && WTERMSIG(status) == SIGINT)) {
    return absl::CancelledError("training interrupted");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat(
        "'", args[0], "' failed (", WIFEXITED(status) ? "exit code " : "signal ",
        WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), ")"));
  }
  return absl::OkStatus();
}

void RemoveTree(const std::string& dir) {
  // Only our own temporary directory: its layout is train_variants' (run dirs, checkpoints).
  const std::string cmd = absl::StrCat("rm -rf '", dir, "'");
  if (dir.find('\'') == std::string::npos && dir.find("/.tmp-") != std::string::npos) {
    if (std::system(cmd.c_str()) != 0) {
      // Best effort: a stale temporary directory does not affect the cache.
    }
  }
}

}  // namespace

std::string DefaultCacheRoot() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x != nullptr && x[0] == '/') {
    return absl::StrCat(x, "/sinkscope");
  }
  if (const char* h = std::getenv("HOME"); h != nullptr && h[0] != '\0') {
    return absl::StrCat(h, "/.cache/sinkscope");
  }
  return "/tmp/sinkscope-cache";
}

absl::StatusOr<TrainedModels> EnsureTrainedModels(const TrainedModelsOptions& o) {
  const train::TrainSchedule schedule =
      o.quick ? train::TrainSchedule::Quick() : train::TrainSchedule::Default();
  const std::string key = train::PlanFingerprint(train::StandardRuns(o.quick), schedule);
  const std::string root = o.cache_root.empty() ? DefaultCacheRoot() : o.cache_root;
  const std::string dir = absl::StrCat(root, "/trained-", o.quick ? "quick-" : "", key);
  if (IsFile(dir + "/training.pb")) {
    absl::StatusOr<TrainedModels> m = ReadEntry(dir);
    if (m.ok()) {
      m->from_cache = true;
      if (o.progress) o.progress(absl::StrCat("trained models from the cache: ", dir));
      return m;
    }
    if (o.progress) o.progress(absl::StrCat("ignoring the cache entry: ", m.status().message()));
  }
  absl::StatusOr<std::string> binary = FindTrainVariants(o);
  if (!binary.ok()) return binary.status();
  if (absl::Status st = model::MakeDirectories(root); !st.ok()) return st;
  const std::string tmp = absl::StrCat(root, "/.tmp-", key, "-", getpid());
  if (o.progress) {
    o.progress(absl::StrCat("training the tiny models (", o.quick ? "--quick, ~1-2" : "~11",
                            " minutes on 2 cores) into ", dir));
  }
  std::vector<std::string> args = {*binary, absl::StrCat("--out_dir=", tmp), "--runs=all"};
  if (o.quick) args.push_back("--quick");
  if (absl::Status st = RunChild(args, o.cancelled); !st.ok()) {
    RemoveTree(tmp);
    return st;
  }
  // Another process may have filled the entry meanwhile: keep theirs.
  if (rename(tmp.c_str(), dir.c_str()) != 0) {
    RemoveTree(tmp);
    if (!IsFile(dir + "/training.pb")) {
      return absl::InternalError(
          absl::StrCat("cannot move the trained models to '", dir, "': ", std::strerror(errno)));
    }
  }
  // The report's checkpoint paths point into the temporary directory; ReadEntry rebuilds them.
  return ReadEntry(dir);
}

}  // namespace sinkscope::analysis
