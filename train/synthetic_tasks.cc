// File: train/synthetic_tasks.cc
#include "train/synthetic_tasks.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"

namespace sinkscope::train {

const char* TaskKindName(TaskKind k) {
  switch (k) {
    case TaskKind::kBigramBackcopy:
      return "bigram_backcopy";
    case TaskKind::kPasskey:
      return "passkey";
  }
  return "?";
}

absl::StatusOr<TaskKind> ParseTaskKind(absl::string_view name) {
  if (name == "bigram_backcopy") return TaskKind::kBigramBackcopy;
  if (name == "passkey") return TaskKind::kPasskey;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown task '", name, "' (bigram_backcopy, passkey)"));
}

int TaskSpec::first_ordinary() const {
  return kind == TaskKind::kBigramBackcopy ? 1 + num_triggers : 3 + num_values;
}

absl::Status ValidateTaskSpec(const TaskSpec& s) {
  const int ordinary = s.vocab_size - s.first_ordinary();
  if (s.seq_len < 8) return absl::InvalidArgumentError("task: seq_len must be >= 8");
  if (s.successors < 1) return absl::InvalidArgumentError("task: successors must be >= 1");
  if (s.kind == TaskKind::kBigramBackcopy) {
    if (s.num_triggers < 1) return absl::InvalidArgumentError("task: num_triggers must be >= 1");
    if (s.copy_offsets < 1 || s.copy_offsets > s.num_triggers) {
      return absl::InvalidArgumentError("task: copy_offsets must be in [1, num_triggers]");
    }
    if (!(s.trigger_prob > 0.0 && s.trigger_prob < 0.5)) {
      return absl::InvalidArgumentError("task: trigger_prob must be in (0, 0.5)");
    }
  } else if (s.num_values < 2) {
    return absl::InvalidArgumentError("task: num_values must be >= 2");
  }
  if (s.start_tokens < 0 || s.start_tokens > ordinary) {
    return absl::InvalidArgumentError(absl::StrCat("task: start_tokens must be in [0, ", ordinary, "]"));
  }
  if (ordinary < s.successors || ordinary < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "task: vocab_size ", s.vocab_size, " leaves ", ordinary,
        " ordinary tokens, fewer than successors (", s.successors, ") or 2"));
  }
  return absl::OkStatus();
}

uint64_t SplitMix64::Next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double SplitMix64::Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

int SplitMix64::Below(int n) {
  return static_cast<int>(Uniform() * n);  // n is small: the bias is far below 2^-40
}

TaskGenerator::TaskGenerator(const TaskSpec& spec, uint64_t seed, uint64_t chain_seed)
    : spec_(spec), rng_(seed ^ 0xa5a5a5a5a5a5a5a5ULL) {
  num_ordinary_ = spec.vocab_size - spec.first_ordinary();
  const int k = spec.successors;
  succ_.resize(static_cast<size_t>(num_ordinary_) * k);
  cum_.resize(succ_.size());
  SplitMix64 chain(chain_seed);
  std::vector<int> ids(num_ordinary_);
  for (int a = 0; a < num_ordinary_; ++a) {
    // k distinct successors (partial Fisher-Yates), weights u^2 + 0.05 (skewed, none tiny).
    for (int i = 0; i < num_ordinary_; ++i) ids[i] = i;
    double total = 0.0;
    std::vector<double> w(k);
    for (int j = 0; j < k; ++j) {
      const int pick = j + chain.Below(num_ordinary_ - j);
      std::swap(ids[j], ids[pick]);
      const double u = chain.Uniform();
      w[j] = spec.equal_successors ? 1.0 : u * u + 0.05;
      total += w[j];
    }
    double c = 0.0;
    for (int j = 0; j < k; ++j) {
      succ_[static_cast<size_t>(a) * k + j] = spec.first_ordinary() + ids[j];
      c += w[j] / total;
      cum_[static_cast<size_t>(a) * k + j] = c;
    }
    cum_[static_cast<size_t>(a) * k + k - 1] = 1.0;
  }
}

double TaskGenerator::Transition(int a, int b) const {
  const int k = spec_.successors;
  const int row = a - spec_.first_ordinary();
  if (row < 0 || row >= num_ordinary_) return 0.0;
  double prev = 0.0;
  for (int j = 0; j < k; ++j) {
    const double c = cum_[static_cast<size_t>(row) * k + j];
    if (succ_[static_cast<size_t>(row) * k + j] == b) return c - prev;
    prev = c;
  }
  return 0.0;
}

int TaskGenerator::NextBigram(int a) {
  const int k = spec_.successors;
  const int row = a - spec_.first_ordinary();
  const double u = rng_.Uniform();
  for (int j = 0; j < k; ++j) {
    if (u < cum_[static_cast<size_t>(row) * k + j]) return succ_[static_cast<size_t>(row) * k + j];
  }
  return succ_[static_cast<size_t>(row) * k + k - 1];
}

std::vector<int32_t> TaskGenerator::SampleSequence() {
  const TaskSpec& s = spec_;
  std::vector<int32_t> t(s.seq_len);
  t[0] = 0;  // BOS
  t[1] = s.first_ordinary() + rng_.Below(s.start_tokens > 0 ? s.start_tokens : num_ordinary_);
  if (s.kind == TaskKind::kBigramBackcopy) {
    const auto offset = [&s](int trigger) { return 1 + (trigger - 1) % s.copy_offsets; };
    const auto is_trigger = [&s](int token) { return token >= 1 && token <= s.num_triggers; };
    for (int i = 2; i < s.seq_len; ++i) {
      if (is_trigger(t[i - 1])) {
        t[i] = t[i - 1 - offset(t[i - 1])];  // the back-copy
        continue;
      }
      if (rng_.Uniform() < s.trigger_prob) {
        const int trigger = 1 + rng_.Below(s.num_triggers);
        const int from = i - offset(trigger);  // the token the copy after it repeats
        if (s.copy_offsets == 1 || (from >= 1 && !is_trigger(t[from]))) {
          t[i] = trigger;
          continue;
        }
      }
      t[i] = NextBigram(t[i - 1]);
    }
    return t;
  }
  // Passkey: MARK at [1, L/4), value after it, filler, QUERY at L-2, the value at L-1.
  const int mark = 1 + rng_.Below(std::max(1, s.seq_len / 4 - 1));
  const int value = 3 + rng_.Below(s.num_values);
  int prev_ordinary = t[1];
  for (int i = 1; i < s.seq_len - 2; ++i) {
    if (i == mark) {
      t[i] = 1;
    } else if (i == mark + 1) {
      t[i] = value;
    } else {
      t[i] = i == 1 ? t[1] : NextBigram(prev_ordinary);
      prev_ordinary = t[i];
    }
  }
  t[s.seq_len - 2] = 2;
  t[s.seq_len - 1] = value;
  return t;
}

TokenBatch TaskGenerator::Sample(int batch) {
  TokenBatch b;
  b.batch = batch;
  b.seq_len = spec_.seq_len;
  b.tokens.reserve(static_cast<size_t>(batch) * spec_.seq_len);
  b.role.reserve(b.tokens.capacity());
  for (int i = 0; i < batch; ++i) {
    const std::vector<int32_t> seq = SampleSequence();
    for (int t = 0; t < spec_.seq_len; ++t) {
      b.tokens.push_back(seq[t]);
      Role r = Role::kNone;
      if (t + 1 < spec_.seq_len) {
        const bool copy = spec_.kind == TaskKind::kBigramBackcopy
                              ? seq[t] >= 1 && seq[t] <= spec_.num_triggers
                              : seq[t] == 2;  // the answer after QUERY
        r = copy ? Role::kCopy : Role::kOrdinary;
      }
      b.role.push_back(r);
    }
  }
  return b;
}

double CopyBaselineNll(const TokenBatch& b) {
  std::map<int32_t, int64_t> counts;
  int64_t n = 0;
  for (int i = 0; i < b.batch; ++i) {
    for (int t = 0; t + 1 < b.seq_len; ++t) {
      const size_t at = static_cast<size_t>(i) * b.seq_len + t;
      if (b.role[at] != Role::kCopy) continue;
      ++counts[b.tokens[at + 1]];
      ++n;
    }
  }
  double h = 0.0;
  for (const auto& [token, c] : counts) {
    const double p = static_cast<double>(c) / n;
    h -= p * std::log(p);
  }
  return n > 0 ? h : 0.0;
}

}  // namespace sinkscope::train
