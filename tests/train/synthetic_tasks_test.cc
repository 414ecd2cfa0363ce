// The data generators against their specification: BOS first, the back-copy rule at every
// trigger, the trigger rate p / (1 + p) of the renewal process (a trigger is never followed by a
// trigger), bigram transitions with the chain's probabilities, the passkey layout, determinism.
#include "train/synthetic_tasks.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace sinkscope::train {
namespace {

// copy_offsets = n: trigger j is followed by the token 1 + (j - 1) % n before it, which is always
// an ordinary token; every rule occurs; no two triggers in a row; BOS only first.
TEST(BigramBackcopy, CopyOffsetsCopyFromTheirOwnDistance) {
  TaskSpec s;
  s.vocab_size = 64;
  s.seq_len = 64;
  s.num_triggers = 4;
  s.copy_offsets = 4;
  s.trigger_prob = 0.15;
  ASSERT_TRUE(ValidateTaskSpec(s).ok());
  TaskGenerator gen(s, 11);
  const TokenBatch b = gen.Sample(300);
  std::map<int, int64_t> per_trigger;
  for (int i = 0; i < b.batch; ++i) {
    const int32_t* t = b.tokens.data() + static_cast<size_t>(i) * s.seq_len;
    ASSERT_EQ(t[0], 0);
    for (int p = 1; p < s.seq_len; ++p) {
      ASSERT_GT(t[p], 0);
      if (t[p] > s.num_triggers) continue;
      const int offset = t[p];  // triggers 1..4 copy 1..4 back
      ASSERT_GE(p - offset, 1) << "a trigger never copies BOS";
      ASSERT_GT(t[p - offset], s.num_triggers) << "the copied token is ordinary";
      ASSERT_GT(t[p - 1], s.num_triggers) << "no two triggers in a row";
      if (p + 1 < s.seq_len) {
        ASSERT_EQ(t[p + 1], t[p - offset]) << "trigger " << t[p] << " at " << p;
        ++per_trigger[t[p]];
      }
    }
  }
  ASSERT_EQ(per_trigger.size(), 4u);
  for (const auto& [trigger, n] : per_trigger) EXPECT_GT(n, 300) << "trigger " << trigger;
  // Two rules over four triggers: triggers 1 and 3 copy 1 back, 2 and 4 copy 2 back.
  s.copy_offsets = 2;
  TaskGenerator two(s, 12);
  for (int i = 0; i < 50; ++i) {
    const std::vector<int32_t> t = two.SampleSequence();
    for (int p = 1; p + 1 < s.seq_len; ++p) {
      if (t[p] > s.num_triggers) continue;
      ASSERT_EQ(t[p + 1], t[p - (t[p] % 2 == 1 ? 1 : 2)]);
    }
  }
  s.copy_offsets = 5;  // more rules than triggers
  EXPECT_FALSE(ValidateTaskSpec(s).ok());
  s.copy_offsets = 0;
  EXPECT_FALSE(ValidateTaskSpec(s).ok());
}

TEST(BigramBackcopy, SpecificationHolds) {
  TaskSpec s;
  s.vocab_size = 48;
  s.seq_len = 96;
  s.num_triggers = 3;
  s.trigger_prob = 0.12;
  ASSERT_TRUE(ValidateTaskSpec(s).ok());
  TaskGenerator gen(s, 7);
  const TokenBatch b = gen.Sample(400);
  int64_t triggers = 0, eligible = 0, copies = 0;
  std::map<std::pair<int, int>, int64_t> pair_count;
  std::map<int, int64_t> from_count;
  for (int i = 0; i < b.batch; ++i) {
    const int32_t* t = b.tokens.data() + static_cast<size_t>(i) * s.seq_len;
    const Role* r = b.role.data() + static_cast<size_t>(i) * s.seq_len;
    ASSERT_EQ(t[0], 0);
    ASSERT_GE(t[1], s.first_ordinary());
    for (int p = 1; p < s.seq_len; ++p) {
      ASSERT_GT(t[p], 0) << "BOS only at position 0";
      ASSERT_LT(t[p], s.vocab_size);
      const bool trig = t[p] <= s.num_triggers;
      if (p >= 3) {
        ++eligible;
        triggers += trig;
      }
      if (trig) {
        ASSERT_GE(p, 2);
        ASSERT_GT(t[p - 1], s.num_triggers) << "no two triggers in a row";
        EXPECT_EQ(r[p], p + 1 < s.seq_len ? Role::kCopy : Role::kNone);
        if (p + 1 < s.seq_len) {
          ASSERT_EQ(t[p + 1], t[p - 1]) << "the back-copy rule";
          ++copies;
        }
      } else if (p + 1 < s.seq_len) {
        EXPECT_EQ(r[p], Role::kOrdinary);
        if (t[p + 1] > s.num_triggers && t[p - 1] > s.num_triggers) {
          // An ordinary step of the chain (not a copy): count the transition.
          ++pair_count[{t[p], t[p + 1]}];
          ++from_count[t[p]];
        }
      } else {
        EXPECT_EQ(r[p], Role::kNone);
      }
    }
  }
  const double p = s.trigger_prob, f = p / (1 + p);
  const double rate = static_cast<double>(triggers) / eligible;
  EXPECT_NEAR(rate, f, 4 * std::sqrt(f * (1 - f) / eligible) + 0.002);
  EXPECT_GT(copies, 1000);
  // Transitions: only the chain's successors, with its probabilities.
  for (const auto& [ab, n] : pair_count) {
    const double q = gen.Transition(ab.first, ab.second);
    ASSERT_GT(q, 0.0) << ab.first << " -> " << ab.second << " is not an edge of the chain";
    const double m = from_count[ab.first];
    if (m >= 400) {
      EXPECT_NEAR(n / m, q, 4 * std::sqrt(q * (1 - q) / m) + 0.01);
    }
  }
  // The best previous-token-only predictor of the copies is near the chain's marginal entropy:
  // positive and below log(#ordinary).
  const double base = CopyBaselineNll(b);
  EXPECT_GT(base, 1.0);
  EXPECT_LT(base, std::log(s.vocab_size - s.first_ordinary()) + 1e-9);
}

TEST(BigramBackcopy, DeterministicPerSeed) {
  TaskSpec s;
  TaskGenerator a(s, 1), b(s, 1), c(s, 2);
  const TokenBatch x = a.Sample(8), y = b.Sample(8), z = c.Sample(8);
  EXPECT_EQ(x.tokens, y.tokens);
  EXPECT_NE(x.tokens, z.tokens);
  // Same chain for both seeds (the task), different sequences.
  for (int v = s.first_ordinary(); v < s.vocab_size; ++v) {
    EXPECT_EQ(a.Transition(v, s.first_ordinary()), c.Transition(v, s.first_ordinary()));
  }
}

TEST(Passkey, LayoutAndAnswer) {
  TaskSpec s;
  s.kind = TaskKind::kPasskey;
  s.vocab_size = 64;
  s.seq_len = 80;
  s.num_values = 10;
  ASSERT_TRUE(ValidateTaskSpec(s).ok());
  TaskGenerator gen(s, 3);
  const TokenBatch b = gen.Sample(500);
  std::map<int, int64_t> answers;
  for (int i = 0; i < b.batch; ++i) {
    const int32_t* t = b.tokens.data() + static_cast<size_t>(i) * s.seq_len;
    const Role* r = b.role.data() + static_cast<size_t>(i) * s.seq_len;
    int marks = 0, mark_at = -1;
    for (int p = 0; p < s.seq_len; ++p) {
      if (t[p] == 1) {
        ++marks;
        mark_at = p;
      }
      if (p != s.seq_len - 2) {
        EXPECT_NE(t[p], 2) << "QUERY only at L-2";
      }
      if (p + 1 < s.seq_len) {
        EXPECT_EQ(r[p], p == s.seq_len - 2 ? Role::kCopy : Role::kOrdinary);
      }
    }
    ASSERT_EQ(marks, 1);
    ASSERT_LT(mark_at, s.seq_len / 4);
    EXPECT_EQ(t[s.seq_len - 2], 2);
    EXPECT_EQ(t[s.seq_len - 1], t[mark_at + 1]) << "the answer is the value after MARK";
    ASSERT_GE(t[mark_at + 1], 3);
    ASSERT_LT(t[mark_at + 1], 3 + s.num_values);
    // The distance to retrieve over is at least 3/4 of the sequence.
    EXPECT_GE(s.seq_len - 2 - (mark_at + 1), s.seq_len * 3 / 4 - 2);
    ++answers[t[s.seq_len - 1]];
  }
  EXPECT_EQ(static_cast<int>(answers.size()), s.num_values);
  // Uniform answers: the baseline is log(num_values) up to sampling error.
  EXPECT_NEAR(CopyBaselineNll(b), std::log(s.num_values), 0.05);
}

// start_tokens = k: the token after BOS is one of the first k ordinary tokens, each about equally
// often; 0 keeps all ordinary tokens possible there.
TEST(BigramBackcopy, StartTokensLimitTheFirstToken) {
  for (const int k : {1, 3, 0}) {
    TaskSpec s;
    s.successors = 2;
    s.start_tokens = k;
    ASSERT_TRUE(ValidateTaskSpec(s).ok());
    TaskGenerator gen(s, 5);
    const TokenBatch b = gen.Sample(3000);
    std::map<int32_t, int64_t> first;
    for (int i = 0; i < b.batch; ++i) ++first[b.tokens[static_cast<size_t>(i) * s.seq_len + 1]];
    const int ordinary = s.vocab_size - s.first_ordinary();
    const int expect = k > 0 ? k : ordinary;
    EXPECT_EQ(static_cast<int>(first.size()), expect) << "k=" << k;
    for (const auto& [token, count] : first) {
      EXPECT_GE(token, s.first_ordinary());
      EXPECT_LT(token, s.first_ordinary() + expect);
      // Binomial(3000, 1/expect): within 5 standard deviations.
      const double mean = 3000.0 / expect, sd = std::sqrt(mean * (1.0 - 1.0 / expect));
      EXPECT_NEAR(static_cast<double>(count), mean, 5 * sd + 1) << "token " << token;
    }
  }
}

// equal_successors: every ordinary token's k successors are equally likely (1/k, the closed
// form), and the sampled chain steps follow it; the default chain is skewed (some edge > 1/k + 0.1).
TEST(BigramBackcopy, EqualSuccessorsAreUniform) {
  TaskSpec s;
  s.successors = 3;
  s.equal_successors = true;
  ASSERT_TRUE(ValidateTaskSpec(s).ok());
  TaskGenerator gen(s, 3);
  const int first = s.first_ordinary();
  for (int a = first; a < s.vocab_size; ++a) {
    int edges = 0;
    for (int b = first; b < s.vocab_size; ++b) {
      const double q = gen.Transition(a, b);
      if (q == 0.0) continue;
      ++edges;
      EXPECT_NEAR(q, 1.0 / 3.0, 1e-12) << a << " -> " << b;
    }
    EXPECT_EQ(edges, 3) << a;
  }
  const TokenBatch b = gen.Sample(400);
  std::map<std::pair<int, int>, int64_t> pair_count;
  std::map<int, int64_t> from_count;
  for (int i = 0; i < b.batch; ++i) {
    const int32_t* t = b.tokens.data() + static_cast<size_t>(i) * s.seq_len;
    for (int p = 1; p + 1 < s.seq_len; ++p) {
      if (t[p] < first || t[p + 1] < first || t[p - 1] < first) continue;  // copies, triggers
      ++pair_count[{t[p], t[p + 1]}];
      ++from_count[t[p]];
    }
  }
  for (const auto& [ab, n] : pair_count) {
    const double m = from_count[ab.first];
    if (m >= 300) {
      EXPECT_NEAR(n / m, 1.0 / 3.0, 4 * std::sqrt(2.0 / 9.0 / m) + 0.01);
    }
  }
  TaskSpec skewed = s;
  skewed.equal_successors = false;
  TaskGenerator gen2(skewed, 3);
  double widest = 0.0;
  for (int a = first; a < s.vocab_size; ++a) {
    for (int c = first; c < s.vocab_size; ++c) widest = std::max(widest, gen2.Transition(a, c));
  }
  EXPECT_GT(widest, 1.0 / 3.0 + 0.1);
}

TEST(TaskSpec, RejectsBadSpecs) {
  TaskSpec s;
  s.trigger_prob = 0.7;
  EXPECT_FALSE(ValidateTaskSpec(s).ok());
  s = TaskSpec();
  s.vocab_size = 6;
  EXPECT_FALSE(ValidateTaskSpec(s).ok());
  EXPECT_FALSE(ParseTaskKind("copy").ok());
  s = TaskSpec();
  s.start_tokens = -1;
  EXPECT_FALSE(ValidateTaskSpec(s).ok());
  s.start_tokens = s.vocab_size - s.first_ordinary() + 1;
  EXPECT_FALSE(ValidateTaskSpec(s).ok());
  s.start_tokens = s.vocab_size - s.first_ordinary();
  EXPECT_TRUE(ValidateTaskSpec(s).ok());
}

}  // namespace
}  // namespace sinkscope::train
