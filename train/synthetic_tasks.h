// File: train/synthetic_tasks.h
//
// synthetic_tasks.h: seeded, deterministic token streams for training tiny transformers on tasks
// where attention sinks and their limits show. No libtorch here: the generators are plain C++ so
// that the analysis side can regenerate held-out sequences without training code.
//
// Bigram-Backcopy (Guo et al. 2024, "Active-Dormant Attention Heads"): the sequence starts with
// BOS; ordinary tokens follow a fixed random bigram Markov chain; at any position after the first
// ordinary token a trigger token appears with probability `trigger_prob` instead, and the token
// after a trigger copies the token before it (the back-copy; with copy_offsets = n, trigger j
// copies the token 1 + (j - 1) % n before it). Token ids: 0 = BOS, 1..num_triggers
// = triggers, the rest ordinary. A model that learns only bigrams predicts the copy with the
// marginal distribution of the copied token; one that learned the task predicts it exactly.
//
// Passkey retrieval (long range): BOS, filler tokens from the bigram chain, a MARK token followed
// by a value token v at a position in the first quarter, more filler, and at the end QUERY then v.
// Predicting v after QUERY needs attention back across most of the sequence, which a sliding
// window of size W < distance cannot reach in one layer (and reaches at most L (W - 1) back in L
// layers). Token ids: 0 = BOS, 1 = MARK, 2 = QUERY, 3..3 + num_values - 1 = values, the rest filler.
//
// Every sampled position carries a role: kOrdinary (the next token is a bigram draw), kCopy (the
// next token is determined by the task: the back-copy or the passkey answer), so that training and
// tests can score the copy positions separately.
//
// Example:
//   TaskSpec spec;  // Bigram-Backcopy, vocab 64, 3 triggers, seq_len 64
//   TaskGenerator gen(spec, /*seed=*/1);
//   TokenBatch b = gen.Sample(/*batch=*/32);
//   // b.tokens[i * b.seq_len + t]; b.role[i * b.seq_len + t] says what predicts tokens[.. t + 1]
#ifndef SINKSCOPE_TRAIN_SYNTHETIC_TASKS_H_
#define SINKSCOPE_TRAIN_SYNTHETIC_TASKS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sinkscope::train {

enum class TaskKind { kBigramBackcopy, kPasskey };
const char* TaskKindName(TaskKind k);
absl::StatusOr<TaskKind> ParseTaskKind(absl::string_view name);

struct TaskSpec {
  TaskKind kind = TaskKind::kBigramBackcopy;
  int vocab_size = 64;
  int seq_len = 64;
  // Bigram chain: each ordinary token has `successors` possible next tokens with random weights.
  int successors = 6;
  // The first token after BOS: 0 draws it uniformly from all ordinary tokens (position 0 must
  // predict a uniform distribution); k > 0 draws it from the first k ordinary tokens only, so that
  // position 0's target is as predictable as any other position's.
  int start_tokens = 0;
  // false: successor weights u^2 + 0.05 (skewed: some transitions nearly deterministic, up to
  // ~0.95); true: every successor equally likely (every ordinary position equally uncertain).
  bool equal_successors = false;
  // Bigram-Backcopy.
  int num_triggers = 3;
  double trigger_prob = 0.1;
  // 1: every trigger copies the token right before it (Guo et al.'s task). n > 1: trigger j
  // (1-based) copies the token o_j = 1 + (j - 1) % n positions before it, so that n copy rules
  // (n heads' worth of work, each needed at a few positions only) share the sequence. A trigger
  // is drawn only where the token o_j back is an ordinary token (never BOS, a trigger).
  int copy_offsets = 1;
  // Passkey.
  int num_values = 16;

  int first_ordinary() const;  // smallest id the bigram chain emits
};

absl::Status ValidateTaskSpec(const TaskSpec& spec);

enum class Role : uint8_t { kOrdinary = 0, kCopy = 1, kNone = 2 };  // kNone: last position

struct TokenBatch {
  int batch = 0, seq_len = 0;
  std::vector<int32_t> tokens;  // [batch * seq_len]
  std::vector<Role> role;       // role[i, t]: what determines tokens[i, t + 1]
};

// SplitMix64: a tiny, portable, seeded generator (std distributions are implementation-defined).
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next();
  double Uniform();            // [0, 1)
  int Below(int n);            // [0, n)

 private:
  uint64_t state_;
};

class TaskGenerator {
 public:
  // The bigram chain is a function of (spec, chain_seed); sequences of `seed`. Train and held-out
  // data share the chain (same task) and differ in the sequence seed.
  TaskGenerator(const TaskSpec& spec, uint64_t seed, uint64_t chain_seed = 0x5eed);

  TokenBatch Sample(int batch);
  std::vector<int32_t> SampleSequence();

  const TaskSpec& spec() const { return spec_; }
  // Transition probabilities of the chain: row a (an ordinary token), column b.
  double Transition(int a, int b) const;

 private:
  int NextBigram(int a);

  TaskSpec spec_;
  SplitMix64 rng_;
  int num_ordinary_ = 0;
  // succ_[a * successors + j], cum_[..]: successor ids and cumulative probabilities.
  std::vector<int> succ_;
  std::vector<double> cum_;
};

// Cross-entropy (nats) of the best predictor of the copy targets that sees only the previous
// token: the entropy of the copy target's marginal distribution, estimated from `batch`.
double CopyBaselineNll(const TokenBatch& batch);

}  // namespace sinkscope::train

#endif  // SINKSCOPE_TRAIN_SYNTHETIC_TASKS_H_
