// File: train/run_plan.cc
#include "train/run_plan.h"

#include <cstdint>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace sinkscope::train {

using attention::Variant;

std::vector<RunSpec> StandardRuns(bool /*quick*/) {
  // The recipe (measured in train/README.md): 2 heads per layer, so that a head has work (the
  // back-copy at triggers) and is dormant elsewhere instead of idle; a two-successor bigram chain
  // (the next token is nearly determined everywhere but at position 1, which BOS must predict
  // uniformly); with the schedule's high learning rate, no weight decay and a tiny Adam epsilon
  // the copy heads sink onto BOS and BOS's residual grows a massive activation in layer 0.
  TinyModelConfig base;
  base.vocab_size = 64;
  base.hidden_size = 64;  // --quick too: at d 48 the first token's abs-max / median stays < 20
  base.num_layers = 2;
  base.num_heads = 2;
  base.num_kv_heads = 2;
  base.intermediate_size = 2 * base.hidden_size;
  base.num_sink_tokens = 1;
  TaskSpec backcopy;
  backcopy.vocab_size = base.vocab_size;
  backcopy.seq_len = 64;
  backcopy.successors = 2;
  std::vector<RunSpec> runs;
  for (Variant v : {Variant::kVanilla, Variant::kSinkTokens, Variant::kKvBias,
                    Variant::kSinkLogit, Variant::kSoftmax1, Variant::kClippedSoftmax,
                    Variant::kGated, Variant::kSigmoid}) {
    RunSpec r{attention::VariantName(v), base, backcopy};
    r.model.variant = v;
    runs.push_back(r);
  }
  TaskSpec passkey = backcopy;
  passkey.kind = TaskKind::kPasskey;
  passkey.num_values = 16;
  const struct {
    const char* name;
    MaskPattern masks;
    Variant variant;
  } kPasskeyRuns[] = {{"passkey_full", MaskPattern::kFull, Variant::kVanilla},
                      {"passkey_sliding", MaskPattern::kSliding, Variant::kVanilla},
                      {"passkey_alternating", MaskPattern::kAlternating, Variant::kSinkLogit}};
  for (const auto& p : kPasskeyRuns) {
    RunSpec r{p.name, base, passkey};
    r.model.masks = p.masks;
    r.model.window = 8;
    r.model.variant = p.variant;
    runs.push_back(r);
  }
  return runs;
}

absl::StatusOr<std::vector<RunSpec>> SelectRuns(const std::vector<RunSpec>& plan,
                                                absl::string_view names) {
  std::set<std::string> wanted;
  for (absl::string_view n : absl::StrSplit(names, ',', absl::SkipEmpty())) {
    wanted.insert(std::string(n));
  }
  std::set<std::string> matched;
  std::vector<RunSpec> out;
  std::vector<std::string> known = {"all", "passkey"};
  for (const RunSpec& r : plan) {
    known.push_back(r.name);
    const bool is_passkey = r.task.kind == TaskKind::kPasskey;
    const bool keep = wanted.count("all") > 0 || wanted.count(r.name) > 0 ||
                      (is_passkey && wanted.count("passkey") > 0);
    if (keep) out.push_back(r);
  }
  for (const std::string& w : wanted) {
    bool found = w == "all" || w == "passkey";
    for (const RunSpec& r : plan) found = found || r.name == w;
    if (!found) {
      return absl::InvalidArgumentError(absl::StrCat("unknown run '", w, "' (known: ",
                                                     absl::StrJoin(known, ", "), ")"));
    }
  }
  if (out.empty()) return absl::InvalidArgumentError("no runs selected");
  return out;
}

std::string PlanFingerprint(const std::vector<RunSpec>& runs, const TrainSchedule& schedule) {
  uint64_t h = 1469598103934665603ULL;
  const auto mix = [&h](absl::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    h ^= 0xff;
    h *= 1099511628211ULL;
  };
  mix(absl::StrCat("code=", kTrainCodeVersion));
  mix(schedule.ToString());
  for (const RunSpec& r : runs) {
    mix(r.name);
    mix(TinyConfigJson(r.model, ""));
    mix(absl::StrCat("embed_init_std=", r.model.embed_init_std));
    mix(absl::StrCat(TaskKindName(r.task.kind), r.task.vocab_size, "/", r.task.seq_len, "/",
                     r.task.successors, "/", r.task.num_triggers, "/", r.task.trigger_prob, "/",
                     r.task.num_values, "/", r.task.copy_offsets, "/", r.task.start_tokens, "/",
                     r.task.equal_successors ? "equal" : "skewed"));
  }
  return absl::StrFormat("%016x", h);
}

}  // namespace sinkscope::train
