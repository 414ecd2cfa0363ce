// attention_replay on layer and input files written here: the replay's outputs equal
// ReferenceAttention run directly on the same (dtype-rounded) weights, sink_mass is the
// reference's slot mass, the int8 output is close, the report carries the per-stage int8 errors
// and per-head sink metrics; broken files fail with errors naming the key or tensor.
#include "analysis/attention_replay.h"

#include <cmath>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "analysis/sink_metrics.h"
#include "attention/reference_attention.h"
#include "gtest/gtest.h"
#include "model/safetensors.h"
#include "tests/analysis/attention_replay_fixture.h"

namespace sinkscope::analysis {
namespace {

using attention::AttentionSpec;
using attention::AttentionWeights;
using attention::FloatMatrix;
using attention::MaskKind;
using attention::RopeLayout;
using attention::Variant;
using model::DType;
using sinkscope::testing::InputContents;
using sinkscope::testing::LayerContents;
using sinkscope::testing::RandomHidden;
using sinkscope::testing::RoundWeights;
using sinkscope::testing::SafetensorsContents;
using sinkscope::testing::SmallSpec;

std::string Tmp(const std::string& name) { return std::string(getenv("TEST_TMPDIR")) + "/" + name; }

double RelFro(const FloatMatrix& approx, const FloatMatrix& ref) {
  return (approx - ref).norm() / ref.norm();
}

struct ReplayCase {
  std::string name;
  AttentionSpec spec;
  DType weight_dtype = DType::kF32;
  DType input_dtype = DType::kF32;
  int keep_sink_kv_fp32 = 0;
};

std::vector<ReplayCase> Cases() {
  std::vector<ReplayCase> cases;
  {
    ReplayCase c{"vanilla_gqa_rope_rotate_half", SmallSpec(Variant::kVanilla)};
    c.spec.q_bias = c.spec.k_bias = c.spec.v_bias = c.spec.o_bias = true;
    cases.push_back(c);
  }
  {
    ReplayCase c{"sink_logit_sliding_interleaved", SmallSpec(Variant::kSinkLogit)};
    c.spec.mask = MaskKind::kSliding;
    c.spec.window = 4;
    c.spec.rope_layout = RopeLayout::kInterleaved;
    c.weight_dtype = DType::kF16;
    c.input_dtype = DType::kBF16;
    cases.push_back(c);
  }
  {
    ReplayCase c{"kv_bias_mha_no_mask_no_rope", SmallSpec(Variant::kKvBias)};
    c.spec.num_kv_heads = c.spec.num_heads;
    c.spec.mask = MaskKind::kNone;
    c.spec.rope_theta = 0.0f;
    c.spec.k_bias = true;
    c.keep_sink_kv_fp32 = 1;
    cases.push_back(c);
  }
  {
    ReplayCase c{"gated_bf16_weights_f16_input", SmallSpec(Variant::kGated)};
    c.spec.v_bias = true;
    c.weight_dtype = DType::kBF16;
    c.input_dtype = DType::kF16;
    cases.push_back(c);
  }
  {
    ReplayCase c{"sink_tokens_keep_fp32", SmallSpec(Variant::kSinkTokens)};
    c.keep_sink_kv_fp32 = 2;
    cases.push_back(c);
  }
  {
    ReplayCase c{"clipped_softmax_scale", SmallSpec(Variant::kClippedSoftmax)};
    c.spec.clip_zeta = 1.03f;
    c.spec.clip_gamma = -0.03f;
    c.spec.softmax_scale = 0.3f;
    cases.push_back(c);
  }
  {
    // YaRN as the released gpt-oss configs (a short original context so that every band of
    // frequencies occurs at T = 12): the replay must apply the scaling from the metadata.
    ReplayCase c{"sink_logit_yarn", SmallSpec(Variant::kSinkLogit)};
    c.spec.rope_scaling.type = attention::RopeScalingType::kYarn;
    c.spec.rope_scaling.factor = 32.0;
    c.spec.rope_scaling.truncate = false;
    c.spec.rope_scaling.original_max_position_embeddings = 4;
    cases.push_back(c);
  }
  {
    ReplayCase c{"vanilla_llama3", SmallSpec(Variant::kVanilla)};
    c.spec.rope_scaling.type = attention::RopeScalingType::kLlama3;
    c.spec.rope_scaling.factor = 8.0;
    c.spec.rope_scaling.original_max_position_embeddings = 6;
    cases.push_back(c);
  }
  {
    ReplayCase c{"softmax1_mqa", SmallSpec(Variant::kSoftmax1)};
    c.spec.num_kv_heads = 1;
    cases.push_back(c);
  }
  return cases;
}

TEST(AttentionReplayTest, OutputsEqualTheReferenceOnTheSameWeights) {
  constexpr int64_t kTokens = 12;
  for (const ReplayCase& c : Cases()) {
    SCOPED_TRACE(c.name);
    AttentionWeights w = attention::RandomAttentionWeights(c.spec, 17);
    RoundWeights(&w, c.weight_dtype);
    const FloatMatrix x = RandomHidden(kTokens, c.spec.d_model, c.input_dtype, 23);
    const std::string layer_path = Tmp(c.name + "_layer.safetensors");
    const std::string input_path = Tmp(c.name + "_input.safetensors");
    ASSERT_TRUE(LayerContents(c.spec, w, c.weight_dtype).Write(layer_path).ok());
    ASSERT_TRUE(InputContents(x, c.input_dtype).Write(input_path).ok());

    // The loaded spec is the one written.
    absl::StatusOr<AttentionLayerFile> layer = LoadAttentionLayer(layer_path);
    ASSERT_TRUE(layer.ok()) << layer.status();
    EXPECT_EQ(layer->spec.ToString(), c.spec.ToString());
    EXPECT_EQ(layer->spec.num_sink_tokens, c.spec.num_sink_tokens);
    EXPECT_EQ(layer->spec.q_bias, c.spec.q_bias);
    EXPECT_EQ(layer->spec.k_bias, c.spec.k_bias);
    EXPECT_EQ(layer->spec.v_bias, c.spec.v_bias);
    EXPECT_EQ(layer->spec.o_bias, c.spec.o_bias);
    EXPECT_EQ(layer->spec.scale(), c.spec.scale());
    EXPECT_EQ(layer->spec.clip_zeta, c.spec.clip_zeta);
    EXPECT_EQ(layer->spec.clip_gamma, c.spec.clip_gamma);

    ReplayOptions options;
    options.int8 = true;
    options.keep_sink_kv_fp32 = c.keep_sink_kv_fp32;
    absl::StatusOr<ReplayResult> r = ReplayAttentionFiles(layer_path, input_path, options);
    ASSERT_TRUE(r.ok()) << r.status();

    // The oracle: ReferenceAttention on the same float weights and input, computed here.
    absl::StatusOr<attention::ReferenceAttention> ref =
        attention::ReferenceAttention::Create(c.spec, w);
    ASSERT_TRUE(ref.ok()) << ref.status();
    attention::AttentionIntermediates inter;
    absl::StatusOr<FloatMatrix> y = ref->Forward(x, &inter);
    ASSERT_TRUE(y.ok()) << y.status();
    ASSERT_EQ(r->output.rows(), kTokens);
    ASSERT_EQ(r->output.cols(), c.spec.d_model);
    EXPECT_LE(RelFro(r->output, *y), 1e-5);
    for (int64_t i = 0; i < y->size(); ++i) {
      ASSERT_NEAR(r->output.data()[i], y->data()[i], 1e-5 * (1.0 + std::abs(y->data()[i])));
    }
    ASSERT_EQ(r->sink_mass.rows(), c.spec.num_heads);
    ASSERT_EQ(r->sink_mass.cols(), kTokens);
    for (int h = 0; h < c.spec.num_heads; ++h) {
      for (int64_t t = 0; t < kTokens; ++t) {
        ASSERT_NEAR(r->sink_mass(h, t), inter.slot_mass(h, t), 1e-6) << "head " << h << " t " << t;
      }
    }
    const bool absorbs =
        c.spec.variant == Variant::kSinkLogit || c.spec.variant == Variant::kSoftmax1 ||
        c.spec.variant == Variant::kKvBias || c.spec.variant == Variant::kSinkTokens;
    if (absorbs) {
      EXPECT_GT(r->sink_mass.minCoeff(), 0.0f);
      EXPECT_LT(r->sink_mass.maxCoeff(), 1.0f);
    } else {
      EXPECT_EQ(r->sink_mass.cwiseAbs().maxCoeff(), 0.0f);
    }

    // int8: close to the reference.
    ASSERT_EQ(r->output_int8.rows(), kTokens);
    ASSERT_EQ(r->output_int8.cols(), c.spec.d_model);
    EXPECT_LT(RelFro(r->output_int8, *y), 5e-2);
    EXPECT_FALSE(r->int8_gemm_impl.empty());
    EXPECT_FALSE(r->int8_mitigation.empty());

    // The report.
    const sinkscope::v1::ActivationReport& rep = r->report;
    EXPECT_EQ(rep.model(), layer_path);
    EXPECT_EQ(rep.num_layers(), 1);
    EXPECT_EQ(rep.num_tokens(), kTokens);
    ASSERT_EQ(rep.layers_size(), 1);
    const sinkscope::v1::LayerReport& lr = rep.layers(0);
    EXPECT_EQ(lr.layer(), 0);
    EXPECT_EQ(lr.hidden().count(), kTokens * c.spec.d_model);
    EXPECT_FLOAT_EQ(lr.hidden().abs_max(), y->cwiseAbs().maxCoeff());
    const std::vector<std::string> stages = {"q_proj", "k_proj", "v_proj", "logits",
                                             "probs",  "heads",  "output"};
    ASSERT_EQ(lr.quant_errors_size(), 7);
    for (int i = 0; i < 7; ++i) EXPECT_EQ(lr.quant_errors(i).name(), stages[i]);
    EXPECT_NEAR(lr.quant_errors(6).rel_fro_error(), RelFro(r->output_int8, *y), 1e-4);
    ASSERT_EQ(lr.heads_size(), c.spec.num_heads);
    std::vector<sinkscope::v1::HeadSink> heads;
    const int prefix = c.spec.prefix_keys();
    for (int h = 0; h < c.spec.num_heads; ++h) {
      const sinkscope::v1::HeadSink& hs = lr.heads(h);
      EXPECT_EQ(hs.head(), h);
      EXPECT_NEAR(hs.sink_slot_mass(), inter.slot_mass.row(h).cast<double>().mean(), 1e-6);
      // alpha_1: the first sequence token's mass, averaged over every query (all see it, except
      // beyond a sliding window).
      double sum = 0.0;
      int seen = 0;
      for (int64_t t = 0; t < kTokens; ++t) {
        if (!attention::KeyVisible(c.spec, t, 0)) continue;
        sum += inter.probs[h](t, prefix);
        ++seen;
      }
      if (c.spec.mask != MaskKind::kSliding) {
        EXPECT_NEAR(hs.first_token_mass(), sum / seen, 1e-6);
      }
      heads.push_back(hs);
    }
    EXPECT_DOUBLE_EQ(rep.sink_rate(), SinkRate(heads));

    // The output file holds the same numbers.
    const std::string out_path = Tmp(c.name + "_out.safetensors");
    ASSERT_TRUE(WriteReplayOutputs(out_path, *r).ok());
    absl::StatusOr<std::unique_ptr<model::SafetensorsFile>> f =
        model::SafetensorsFile::Open(out_path);
    ASSERT_TRUE(f.ok()) << f.status();
    ASSERT_EQ((*f)->tensors().size(), 3u);
    for (const auto& [name, m] : {std::pair<const char*, const FloatMatrix*>{"output", &r->output},
                                  {"output_int8", &r->output_int8},
                                  {"sink_mass", &r->sink_mass}}) {
      const model::TensorInfo* t = (*f)->Find(name);
      ASSERT_NE(t, nullptr) << name;
      EXPECT_EQ(t->dtype, DType::kF32);
      EXPECT_EQ(t->shape, (std::vector<int64_t>{m->rows(), m->cols()}));
      const model::TypedTensorView v = (*f)->View(*t);
      for (int64_t i = 0; i < m->size(); ++i) {
        ASSERT_EQ(static_cast<float>(model::LoadAsDouble(v.data, v.dtype, i)), m->data()[i]);
      }
    }
  }
}

TEST(AttentionReplayTest, WithoutInt8ThereIsNoInt8OutputOrError) {
  const AttentionSpec spec = SmallSpec(Variant::kVanilla);
  const AttentionWeights w = attention::RandomAttentionWeights(spec, 2);
  const FloatMatrix x = RandomHidden(5, spec.d_model, DType::kF32, 3);
  ASSERT_TRUE(LayerContents(spec, w, DType::kF32).Write(Tmp("plain_layer.safetensors")).ok());
  absl::StatusOr<AttentionLayerFile> layer = LoadAttentionLayer(Tmp("plain_layer.safetensors"));
  ASSERT_TRUE(layer.ok()) << layer.status();
  absl::StatusOr<ReplayResult> r = RunAttentionReplay(*layer, x, ReplayOptions{}, "plain");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->output_int8.size(), 0);
  EXPECT_EQ(r->report.layers(0).quant_errors_size(), 0);
  EXPECT_EQ(r->report.model(), "plain");
  ASSERT_TRUE(WriteReplayOutputs(Tmp("plain_out.safetensors"), *r).ok());
  absl::StatusOr<std::unique_ptr<model::SafetensorsFile>> f =
      model::SafetensorsFile::Open(Tmp("plain_out.safetensors"));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)->Find("output_int8"), nullptr);
  EXPECT_NE((*f)->Find("sink_mass"), nullptr);
}

// --- errors -----------------------------------------------------------------------------------

class AttentionReplayErrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spec_ = SmallSpec(Variant::kSinkLogit);
    spec_.mask = MaskKind::kSliding;
    spec_.window = 4;
    weights_ = attention::RandomAttentionWeights(spec_, 9);
    layer_ = LayerContents(spec_, weights_, DType::kF32);
  }

  // LoadAttentionLayer's error on `c`; also checks that it names the file.
  std::string LayerError(const SafetensorsContents& c) {
    const std::string path = Tmp("broken_layer.safetensors");
    EXPECT_TRUE(c.Write(path).ok());
    absl::StatusOr<AttentionLayerFile> r = LoadAttentionLayer(path);
    EXPECT_FALSE(r.ok());
    if (r.ok()) return "";
    const std::string message(r.status().message());
    EXPECT_NE(message.find(path), std::string::npos) << message;
    return message;
  }

  AttentionSpec spec_;
  AttentionWeights weights_;
  SafetensorsContents layer_;
};

void ExpectMentions(const std::string& message, std::initializer_list<std::string> words) {
  for (const std::string& word : words) {
    EXPECT_NE(message.find(word), std::string::npos) << "'" << word << "' not in: " << message;
  }
}

TEST_F(AttentionReplayErrorTest, TheFixtureLoads) {
  const std::string path = Tmp("good_layer.safetensors");
  ASSERT_TRUE(layer_.Write(path).ok());
  absl::StatusOr<AttentionLayerFile> r = LoadAttentionLayer(path);
  ASSERT_TRUE(r.ok()) << r.status();
}

TEST_F(AttentionReplayErrorTest, MissingMetadataKey) {
  for (const char* key : {"num_heads", "num_kv_heads", "head_dim", "variant", "window", "causal",
                          "rope_theta", "rope_layout"}) {
    SafetensorsContents c = layer_;
    c.metadata.erase(key);
    const std::string m = LayerError(c);
    ExpectMentions(m, {key, "missing"});
  }
}

TEST_F(AttentionReplayErrorTest, ContradictoryMetadata) {
  layer_.metadata["causal"] = "false";
  const std::string m = LayerError(layer_);
  ExpectMentions(m, {"'window'", "'causal'", "contradicts"});
}

TEST_F(AttentionReplayErrorTest, UnparsableMetadata) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"num_heads", "four"},  {"head_dim", "8.5"},   {"window", "-1"},
      {"causal", "yes"},      {"rope_theta", "nan"}, {"rope_layout", "sideways"},
      {"softmax_scale", "0"}, {"num_kv_heads", "3"}};
  for (const auto& [key, value] : bad) {
    SafetensorsContents c = layer_;
    c.metadata[key] = value;
    const std::string m = LayerError(c);
    ExpectMentions(m, {key, value});
  }
}

TEST_F(AttentionReplayErrorTest, ClipParametersBelongToClippedSoftmax) {
  SafetensorsContents c = layer_;
  c.metadata["clip_zeta"] = "1.1";
  ExpectMentions(LayerError(c), {"clip_zeta", "clipped_softmax"});
  AttentionSpec clipped = SmallSpec(Variant::kClippedSoftmax);
  SafetensorsContents d =
      LayerContents(clipped, attention::RandomAttentionWeights(clipped, 1), DType::kF32);
  d.metadata.erase("clip_gamma");
  ExpectMentions(LayerError(d), {"clip_gamma", "missing"});
}

TEST_F(AttentionReplayErrorTest, ShapeMismatch) {
  // k_proj.weight with one head too many: rows are not num_kv_heads * head_dim.
  FloatMatrix wk(weights_.wk.rows() + spec_.head_dim, spec_.d_model);
  wk.setConstant(0.1f);
  layer_.Erase("k_proj.weight");
  layer_.AddMatrix("k_proj.weight", DType::kF32, wk);
  const std::string m = LayerError(layer_);
  ExpectMentions(m, {"k_proj.weight", "[24, 32]", "[16, 32]", "num_kv_heads"});
}

TEST_F(AttentionReplayErrorTest, OProjWithTheWrongDModel) {
  FloatMatrix wo(spec_.d_model - 1, spec_.num_heads * spec_.head_dim);
  wo.setConstant(0.1f);
  layer_.Erase("o_proj.weight");
  layer_.AddMatrix("o_proj.weight", DType::kF32, wo);
  ExpectMentions(LayerError(layer_), {"o_proj.weight", "[31, 32]"});
}

TEST_F(AttentionReplayErrorTest, UnknownVariant) {
  layer_.metadata["variant"] = "sinkhorn";
  ExpectMentions(LayerError(layer_), {"'variant'", "sinkhorn"});
}

TEST_F(AttentionReplayErrorTest, MissingSinksForSinkLogit) {
  layer_.Erase("sinks");
  ExpectMentions(LayerError(layer_), {"'sinks'", "missing", "sink_logit"});
}

TEST_F(AttentionReplayErrorTest, AVariantTensorUnderAnotherVariant) {
  layer_.metadata["variant"] = "vanilla";
  ExpectMentions(LayerError(layer_), {"'sinks'", "sink_logit", "vanilla"});
}

TEST_F(AttentionReplayErrorTest, UnknownTensor) {
  layer_.AddVector("q_norm.weight", DType::kF32, attention::FloatVector::Ones(8));
  ExpectMentions(LayerError(layer_), {"unknown tensor", "q_norm.weight"});
}

TEST_F(AttentionReplayErrorTest, IntegerWeightsAndNonFiniteWeights) {
  SafetensorsContents c = layer_;
  model::TensorToWrite* sinks = c.Find("sinks");
  sinks->dtype = DType::kI32;  // same byte size as F32
  ExpectMentions(LayerError(c), {"'sinks'", "I32"});
  SafetensorsContents d = layer_;
  FloatMatrix wv = weights_.wv;
  wv(1, 2) = std::nanf("");
  d.Erase("v_proj.weight");
  d.AddMatrix("v_proj.weight", DType::kF32, wv);
  ExpectMentions(LayerError(d), {"v_proj.weight", "NaN"});
}

TEST_F(AttentionReplayErrorTest, InputWithTheWrongDModel) {
  const std::string path = Tmp("wrong_input.safetensors");
  ASSERT_TRUE(InputContents(RandomHidden(6, spec_.d_model + 1, DType::kF32, 1), DType::kF32)
                  .Write(path)
                  .ok());
  absl::StatusOr<FloatMatrix> x = LoadReplayInput(path, spec_.d_model);
  ASSERT_FALSE(x.ok());
  const std::string m(x.status().message());
  ExpectMentions(m, {path, "'hidden'", "[6, 33]", "32"});
}

TEST_F(AttentionReplayErrorTest, InputWithoutHiddenOrWithAnIntegerHidden) {
  const std::string path = Tmp("odd_input.safetensors");
  SafetensorsContents c =
      InputContents(RandomHidden(6, spec_.d_model, DType::kF32, 1), DType::kF32);
  c.tensors[0].name = "hidden_states";
  ASSERT_TRUE(c.Write(path).ok());
  absl::StatusOr<FloatMatrix> x = LoadReplayInput(path, spec_.d_model);
  ASSERT_FALSE(x.ok());
  ExpectMentions(std::string(x.status().message()), {path, "hidden_states"});
  c.tensors[0].name = "hidden";
  c.tensors[0].dtype = DType::kI32;
  ASSERT_TRUE(c.Write(path).ok());
  x = LoadReplayInput(path, spec_.d_model);
  ASSERT_FALSE(x.ok());
  ExpectMentions(std::string(x.status().message()), {"'hidden'", "I32"});
}

TEST_F(AttentionReplayErrorTest, ReplayFilesNamesTheBrokenFile) {
  const std::string layer_path = Tmp("replay_layer.safetensors");
  const std::string input_path = Tmp("replay_input.safetensors");
  ASSERT_TRUE(layer_.Write(layer_path).ok());
  ASSERT_TRUE(
      InputContents(RandomHidden(6, 16, DType::kF32, 1), DType::kF32).Write(input_path).ok());
  absl::StatusOr<ReplayResult> r = ReplayAttentionFiles(layer_path, input_path, ReplayOptions{});
  ASSERT_FALSE(r.ok());
  ExpectMentions(std::string(r.status().message()), {input_path, "'hidden'"});
  r = ReplayAttentionFiles(Tmp("no_such_layer.safetensors"), input_path, ReplayOptions{});
  ASSERT_FALSE(r.ok());
  ExpectMentions(std::string(r.status().message()), {"no_such_layer.safetensors"});
}

}  // namespace
}  // namespace sinkscope::analysis
