#include "report/provenance.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "quant/int8_gemm.h"

namespace sinkscope::analysis {
namespace {

std::string GitCommit() {
  if (const char* c = std::getenv("SINKSCOPE_GIT_COMMIT"); c != nullptr && *c != '\0') return c;
  const char* dir = std::getenv("BUILD_WORKSPACE_DIRECTORY");  // set by `bazel run`
  if (dir == nullptr || *dir == '\0') return "";
  const std::string cmd = std::string("git -C '") + dir + "' rev-parse HEAD 2>/dev/null";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return "";
  char buf[128] = {0};
  std::string out;
  if (fgets(buf, sizeof(buf), pipe) != nullptr) out = buf;
  pclose(pipe);
  out = std::string(absl::StripAsciiWhitespace(out));
  return out.size() == 40 ? out : "";
}

}  // namespace

sinkscope::v1::Provenance MakeProvenance(const std::string& tool, int argc, char** argv,
                                         const std::map<std::string, std::string>& config) {
  sinkscope::v1::Provenance p;
  p.set_tool(tool);
  p.set_version(kSinkscopeVersion);
  p.set_git_commit(GitCommit());
  p.set_time(absl::FormatTime(absl::RFC3339_sec, absl::Now(), absl::UTCTimeZone()));
  p.set_cpu_isa(quant::EffectiveCpuIsaName());
  p.set_onednn_version(quant::OnednnVersion());
  for (int i = 0; i < argc; ++i) p.add_command_line(argv[i]);
  for (const auto& [k, v] : config) (*p.mutable_config())[k] = v;
  return p;
}

sinkscope::v1::ShardRun* AddShardRun(sinkscope::v1::Provenance* provenance, int index, int count,
                                     double seconds) {
  sinkscope::v1::ShardRun* run = provenance->add_shards();
  run->set_index(index);
  run->set_count(count);
  run->set_seconds(seconds);
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) == 0) run->set_host(host);
  run->set_time(provenance->time());
  return run;
}

}  // namespace sinkscope::analysis
