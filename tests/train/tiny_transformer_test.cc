// Two independent implementations of every attention variant: train::TinyTransformer (libtorch)
// and model::Transformer (attention/ReferenceAttention, read back from the checkpoint the
// former writes) give the same logits to 1e-4 relative, for every variant and mask pattern.
#include "train/tiny_transformer.h"

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "analysis/activation_scan.h"
#include "model/streaming_decoder.h"
#include "gtest/gtest.h"
#include "train/synthetic_tasks.h"

namespace sinkscope::train {
namespace {

using attention::Variant;

std::string TempDir(const std::string& name) {
  const char* base = std::getenv("TEST_TMPDIR");
  return std::string(base != nullptr ? base : "/tmp") + "/" + name;
}

struct Case {
  Variant variant;
  MaskPattern masks;
  int kv_heads;
};

class ParityTest : public ::testing::TestWithParam<Case> {};

TEST_P(ParityTest, LibtorchForwardEqualsModelForward) {
  const Case& k = GetParam();
  TinyModelConfig c;
  c.vocab_size = 40;
  c.hidden_size = 32;
  c.num_layers = 3;
  c.num_heads = 4;
  c.num_kv_heads = k.kv_heads;
  c.intermediate_size = 48;
  c.variant = k.variant;
  c.num_sink_tokens = 2;
  c.masks = k.masks;
  c.window = 5;
  TinyTransformer m(c, /*seed=*/3);
  {
    // Give every parameter (norm weights, sinks, biases included) a non-trivial value.
    torch::NoGradGuard no_grad;
    torch::manual_seed(11);
    for (const auto& [name, t] : m.named()) t.add_(torch::randn(t.sizes()) * 0.3);
  }
  const std::string dir = TempDir(std::string("parity_") + attention::VariantName(k.variant) +
                                  "_" + MaskPatternName(k.masks) + std::to_string(k.kv_heads));
  ASSERT_TRUE(m.SaveCheckpoint(dir, "").ok());

  TaskSpec spec;
  spec.vocab_size = c.vocab_size;
  spec.seq_len = 19;
  TaskGenerator gen(spec, 5);
  const std::vector<int32_t> ids = gen.SampleSequence();
  torch::Tensor t_ids = torch::tensor(std::vector<int64_t>(ids.begin(), ids.end())).view({1, -1});
  torch::Tensor ref;
  {
    torch::NoGradGuard no_grad;
    ref = m.Forward(t_ids).squeeze(0).contiguous();
  }
  absl::StatusOr<analysis::ActivationScanInput> in = analysis::OpenModel(dir);
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_EQ(in->transformer->config().attention_variant, k.variant);
  absl::StatusOr<model::ForwardResult> r = in->transformer->Forward(ids);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->logits.rows(), static_cast<int64_t>(ids.size()));
  ASSERT_EQ(r->logits.cols(), c.vocab_size);
  double max_err = 0.0, max_ref = 0.0;
  const float* p = ref.data_ptr<float>();
  for (int64_t t = 0; t < r->logits.rows(); ++t) {
    for (int64_t v = 0; v < r->logits.cols(); ++v) {
      const double a = p[t * c.vocab_size + v], b = r->logits(t, v);
      max_err = std::max(max_err, std::abs(a - b));
      max_ref = std::max(max_ref, std::abs(a));
    }
  }
  EXPECT_GT(max_ref, 0.1);
  EXPECT_LT(max_err, 1e-4 * max_ref) << "max |logit| " << max_ref;

  // Reading the checkpoint back into libtorch restores the same function.
  TinyTransformer m2(c, /*seed=*/99);
  ASSERT_TRUE(m2.LoadCheckpoint(dir).ok());
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(m2.Forward(t_ids).squeeze(0), ref));
}

std::vector<Case> AllCases() {
  std::vector<Case> cases;
  for (Variant v : {Variant::kVanilla, Variant::kSinkTokens, Variant::kKvBias,
                    Variant::kSinkLogit, Variant::kSoftmax1, Variant::kClippedSoftmax,
                    Variant::kGated, Variant::kSigmoid}) {
    cases.push_back({v, MaskPattern::kFull, 4});
    cases.push_back({v, MaskPattern::kAlternating, 2});
  }
  cases.push_back({Variant::kVanilla, MaskPattern::kSliding, 1});
  cases.push_back({Variant::kSinkTokens, MaskPattern::kSliding, 2});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(AllVariants, ParityTest, ::testing::ValuesIn(AllCases()),
                         [](const ::testing::TestParamInfo<Case>& i) {
                           return std::string(attention::VariantName(i.param.variant)) + "_" +
                                  MaskPatternName(i.param.masks) + "_kv" +
                                  std::to_string(i.param.kv_heads);
                         });

}  // namespace
}  // namespace sinkscope::train

namespace sinkscope::train {
namespace {

// StreamingLLM over a model with learned sink tokens: with a cache that holds the whole stream
// the decoder equals the ordinary forward pass (and so libtorch); with a bounded cache the
// learned sinks stay in it, so even the window-only run differs from dropping them.
TEST(SinkTokenStreaming, FullCacheEqualsForwardAndSinksStayInTheCache) {
  TinyModelConfig c;
  c.vocab_size = 40;
  c.hidden_size = 32;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.intermediate_size = 48;
  c.variant = attention::Variant::kSinkTokens;
  c.num_sink_tokens = 2;
  TinyTransformer m(c, /*seed=*/5);
  {
    torch::NoGradGuard no_grad;
    torch::manual_seed(13);
    for (const auto& [name, t] : m.named()) t.add_(torch::randn(t.sizes()) * 0.3);
  }
  const std::string dir = TempDir("stream_sink_tokens");
  ASSERT_TRUE(m.SaveCheckpoint(dir, "").ok());
  absl::StatusOr<analysis::ActivationScanInput> in = analysis::OpenModel(dir);
  ASSERT_TRUE(in.ok()) << in.status();
  TaskSpec spec;
  spec.vocab_size = c.vocab_size;
  spec.seq_len = 30;
  TaskGenerator gen(spec, 8);
  const std::vector<int32_t> ids = gen.SampleSequence();
  absl::StatusOr<model::ForwardResult> f = in->transformer->Forward(ids);
  ASSERT_TRUE(f.ok()) << f.status();
  absl::StatusOr<model::StreamingResult> full =
      model::DecodeStreaming(*in->transformer, ids, {"full", 0, 0});
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_NEAR(full->mean_nll, f->mean_nll, 1e-4 * f->mean_nll);
  // A bounded cache: the first queries (that fit) agree with the forward pass token by token.
  absl::StatusOr<model::StreamingResult> window =
      model::DecodeStreaming(*in->transformer, ids, {"window", 0, 8});
  ASSERT_TRUE(window.ok()) << window.status();
  ASSERT_EQ(window->nll.size(), ids.size() - 1);
  double first_tokens_err = 0.0, later_diff = 0.0;
  for (size_t t = 0; t < ids.size() - 1; ++t) {
    if (t < 8) first_tokens_err = std::max(first_tokens_err, std::abs(window->nll[t] - full->nll[t]));
    else later_diff = std::max(later_diff, std::abs(window->nll[t] - full->nll[t]));
  }
  EXPECT_LT(first_tokens_err, 1e-4) << "inside the window the bounded cache is exact";
  EXPECT_GT(later_diff, 1e-3) << "eviction changed nothing: the window is not bounded";
}

}  // namespace
}  // namespace sinkscope::train
