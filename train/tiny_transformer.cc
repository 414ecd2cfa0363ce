// File: train/tiny_transformer.cc
#include "train/tiny_transformer.h"

#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "base/atomic_file.h"
#include "model/safetensors.h"

namespace sinkscope::train {
namespace {

using attention::Variant;
namespace F = torch::nn::functional;

torch::Tensor Normal(std::vector<int64_t> shape, double std, at::Generator& gen) {
  return torch::randn(shape, gen, torch::kFloat32) * std;
}


}  // namespace

TinyTransformer::TinyTransformer(const TinyModelConfig& c, uint64_t seed) : config_(c) {
  // A generator of our own: runs in parallel threads stay deterministic.
  at::Generator gen = at::detail::createCPUGenerator(seed);
  const auto Normal = [&gen](std::vector<int64_t> shape, double std) {
    return ::sinkscope::train::Normal(std::move(shape), std, gen);
  };
  const int64_t d = c.hidden_size, V = c.vocab_size, H = c.num_heads, KVH = c.num_kv_heads;
  const int64_t D = c.head_dim(), F = c.intermediate_size;
  const double in_std = 1.0 / std::sqrt(static_cast<double>(d));
  // Residual-branch outputs are scaled down with depth (GPT-2's 1/sqrt(2L)).
  const double out_std = in_std / std::sqrt(2.0 * c.num_layers);
  embed_ = Param("model.embed_tokens.weight", Normal({V, d}, c.embed_init_std), false);
  layers_.resize(c.num_layers);
  for (int l = 0; l < c.num_layers; ++l) {
    const std::string p = absl::StrCat("model.layers.", l, ".");
    Layer& L = layers_[l];
    L.norm_in = Param(p + "input_layernorm.weight", torch::ones({d}), false);
    L.q = Param(p + "self_attn.q_proj.weight", Normal({H * D, d}, in_std), true);
    L.k = Param(p + "self_attn.k_proj.weight", Normal({KVH * D, d}, in_std), true);
    L.v = Param(p + "self_attn.v_proj.weight", Normal({KVH * D, d}, in_std), true);
    L.o = Param(p + "self_attn.o_proj.weight", Normal({d, H * D}, out_std), true);
    switch (c.variant) {
      case Variant::kSinkLogit:
        L.sinks = Param(p + "self_attn.sinks", torch::zeros({H}), false);
        break;
      case Variant::kKvBias:
        L.k_bias = Param(p + "self_attn.k_bias", Normal({KVH, D}, 0.02), false);
        L.v_bias = Param(p + "self_attn.v_bias", Normal({KVH, D}, 0.02), false);
        break;
      case Variant::kSinkTokens:
        L.sink_tokens = Param(p + "self_attn.sink_tokens", Normal({c.num_sink_tokens, d}, 1.0),
                              false);
        break;
      case Variant::kGated:
        L.gate_w = Param(p + "self_attn.gate_proj.weight", Normal({H, d}, in_std), true);
        L.gate_b = Param(p + "self_attn.gate_proj.bias", torch::zeros({H}), false);
        break;
      default:
        break;
    }
    L.norm_post = Param(p + "post_attention_layernorm.weight", torch::ones({d}), false);
    L.gate = Param(p + "mlp.gate_proj.weight", Normal({F, d}, in_std), true);
    L.up = Param(p + "mlp.up_proj.weight", Normal({F, d}, in_std), true);
    L.down = Param(p + "mlp.down_proj.weight",
                   Normal({d, F}, 1.0 / std::sqrt(static_cast<double>(F) * 2 * c.num_layers)),
                   true);
  }
  norm_final_ = Param("model.norm.weight", torch::ones({d}), false);
  lm_head_ = Param("lm_head.weight", Normal({V, d}, in_std), true);
  std::vector<double> inv(D / 2);
  for (int64_t i = 0; i < D / 2; ++i) {
    inv[i] = std::pow(static_cast<double>(c.rope_theta), -2.0 * i / D);
  }
  inv_freq_ = torch::tensor(inv, torch::kFloat64);
}

torch::Tensor TinyTransformer::Param(const std::string& name, torch::Tensor init, bool decay) {
  std::string key = name;
  for (char& ch : key) {
    if (ch == '.') ch = '_';
  }
  torch::Tensor t = register_parameter(key, init);
  named_.emplace_back(name, t);
  decay_.push_back(decay);
  return t;
}

std::vector<torch::Tensor> TinyTransformer::DecayedParameters() const {
  std::vector<torch::Tensor> out;
  for (size_t i = 0; i < named_.size(); ++i) {
    if (decay_[i]) out.push_back(named_[i].second);
  }
  return out;
}

std::vector<torch::Tensor> TinyTransformer::UndecayedParameters() const {
  std::vector<torch::Tensor> out;
  for (size_t i = 0; i < named_.size(); ++i) {
    if (!decay_[i]) out.push_back(named_[i].second);
  }
  return out;
}

torch::Tensor TinyTransformer::RmsNorm(const torch::Tensor& x, const torch::Tensor& w) const {
  return x * torch::rsqrt(x.pow(2).mean(-1, /*keepdim=*/true) + config_.rms_norm_eps) * w;
}

torch::Tensor TinyTransformer::Rope(const torch::Tensor& x, int64_t first_position) const {
  const int64_t T = x.size(2), D = x.size(3);
  torch::Tensor pos = torch::arange(first_position, first_position + T, torch::kFloat64);
  torch::Tensor ang = torch::outer(pos, inv_freq_);  // [T, D/2], double as attention/rope.cc
  torch::Tensor cos = torch::cos(ang).to(torch::kFloat32), sin = torch::sin(ang).to(torch::kFloat32);
  cos = torch::cat({cos, cos}, -1);
  sin = torch::cat({sin, sin}, -1);
  torch::Tensor x1 = x.narrow(-1, 0, D / 2), x2 = x.narrow(-1, D / 2, D / 2);
  torch::Tensor rotated = torch::cat({-x2, x1}, -1);
  return x * cos + rotated * sin;
}

torch::Tensor TinyTransformer::Attention(int l, const torch::Tensor& a) {
  const TinyModelConfig& c = config_;
  const Layer& L = layers_[l];
  const int64_t B = a.size(0), T = a.size(1), H = c.num_heads, KVH = c.num_kv_heads;
  const int64_t D = c.head_dim(), G = H / KVH;
  const int64_t n_sink = c.variant == Variant::kSinkTokens ? c.num_sink_tokens : 0;
  const int64_t prefix = c.variant == Variant::kKvBias ? 1 : n_sink;

  torch::Tensor kv_in = a;
  if (n_sink > 0) kv_in = torch::cat({L.sink_tokens.unsqueeze(0).expand({B, n_sink, -1}), a}, 1);
  const int64_t S = kv_in.size(1);
  torch::Tensor q = torch::matmul(a, L.q.t()).view({B, T, H, D}).transpose(1, 2);
  torch::Tensor k = torch::matmul(kv_in, L.k.t()).view({B, S, KVH, D}).transpose(1, 2);
  torch::Tensor v = torch::matmul(kv_in, L.v.t()).view({B, S, KVH, D}).transpose(1, 2);
  if (c.rope_theta > 0.0f) {
    q = Rope(q, n_sink);
    k = Rope(k, 0);
  }
  if (c.variant == Variant::kKvBias) {
    k = torch::cat({L.k_bias.view({1, KVH, 1, D}).expand({B, KVH, 1, D}), k}, 2);
    v = torch::cat({L.v_bias.view({1, KVH, 1, D}).expand({B, KVH, 1, D}), v}, 2);
  }
  if (G > 1) {
    k = k.repeat_interleave(G, 1);
    v = v.repeat_interleave(G, 1);
  }
  const int64_t keys = k.size(2);  // prefix + T
  torch::Tensor scores = torch::matmul(q, k.transpose(2, 3)) / std::sqrt(static_cast<double>(D));

  // Mask over [T, keys]: the prefix always visible; key prefix + j visible iff j <= t, t - W < j.
  const int W = c.LayerWindow(l);
  torch::Tensor t_idx = torch::arange(T, torch::kInt64).unsqueeze(1);
  torch::Tensor j_idx = torch::arange(keys, torch::kInt64).unsqueeze(0) - prefix;
  torch::Tensor hidden = j_idx.gt(t_idx);
  if (W > 0) hidden = hidden.logical_or(j_idx.le(t_idx - W));
  hidden = hidden.logical_and(j_idx.ge(0));
  scores = scores.masked_fill(hidden, -std::numeric_limits<float>::infinity());

  torch::Tensor probs;
  switch (c.variant) {
    case Variant::kSinkLogit:
    case Variant::kSoftmax1: {
      torch::Tensor extra = c.variant == Variant::kSinkLogit
                                ? L.sinks.view({1, H, 1, 1}).expand({B, H, T, 1})
                                : torch::zeros({B, H, T, 1}, scores.options());
      probs = torch::softmax(torch::cat({scores, extra}, -1), -1).narrow(-1, 0, keys);
      break;
    }
    case Variant::kClippedSoftmax:
      probs = torch::clamp((c.clip_zeta - c.clip_gamma) * torch::softmax(scores, -1) +
                               c.clip_gamma,
                           0.0, 1.0);
      break;
    case Variant::kSigmoid: {
      // sigmoid(z - ln n), n the keys the query sees; masked keys: sigmoid(-inf) = 0.
      torch::Tensor seen = hidden.logical_not().sum(-1, /*keepdim=*/true).to(torch::kFloat32);
      probs = torch::sigmoid(scores - torch::log(seen));
      break;
    }
    default:
      probs = torch::softmax(scores, -1);
  }
  torch::Tensor heads = torch::matmul(probs, v);  // [B, H, T, D]
  if (c.variant == Variant::kGated) {
    torch::Tensor g = torch::sigmoid(torch::matmul(a, L.gate_w.t()) + L.gate_b);  // [B, T, H]
    heads = heads * g.transpose(1, 2).unsqueeze(-1);
  }
  heads = heads.transpose(1, 2).reshape({B, T, H * D});
  return torch::matmul(heads, L.o.t());
}

torch::Tensor TinyTransformer::Forward(const torch::Tensor& ids) {
  torch::Tensor h = embed_.index_select(0, ids.reshape({-1})).view({ids.size(0), ids.size(1), -1});
  for (int l = 0; l < config_.num_layers; ++l) {
    const Layer& L = layers_[l];
    h = h + Attention(l, RmsNorm(h, L.norm_in));
    torch::Tensor m = RmsNorm(h, L.norm_post);
    h = h + torch::matmul(torch::silu(torch::matmul(m, L.gate.t())) * torch::matmul(m, L.up.t()),
                          L.down.t());
  }
  return torch::matmul(RmsNorm(h, norm_final_), lm_head_.t());
}

absl::Status TinyTransformer::SaveCheckpoint(const std::string& dir,
                                             absl::string_view extra_json) const {
  if (absl::Status st = model::MakeDirectories(dir); !st.ok()) return st;
  std::vector<model::TensorToWrite> tensors;
  for (const auto& [name, t] : named_) {
    torch::Tensor c = t.detach().to(torch::kFloat32).contiguous();
    model::TensorToWrite w;
    w.name = name;
    w.dtype = model::DType::kF32;
    w.shape = c.sizes().vec();
    w.bytes.assign(static_cast<const char*>(c.data_ptr()), c.numel() * sizeof(float));
    tensors.push_back(std::move(w));
  }
  if (absl::Status st = model::WriteSafetensors(dir + "/model.safetensors", tensors,
                                                {{"format", "pt"}, {"producer", "sinkscope"}});
      !st.ok()) {
    return st;
  }
  return model::WriteFileAtomically(dir + "/config.json", TinyConfigJson(config_, extra_json));
}

absl::Status TinyTransformer::LoadCheckpoint(const std::string& dir) {
  const std::string path = dir + "/model.safetensors";
  absl::StatusOr<std::unique_ptr<model::SafetensorsFile>> f =
      model::SafetensorsFile::Open(path);
  if (!f.ok()) return f.status();
  torch::NoGradGuard no_grad;
  for (auto& [name, t] : named_) {
    const model::TensorInfo* info = (*f)->Find(name);
    if (info == nullptr) {
      return absl::NotFoundError(absl::StrCat(path, ": tensor '", name, "' is missing"));
    }
    if (info->dtype != model::DType::kF32 || info->shape != t.sizes().vec()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": tensor '", name, "' does not match the model (F32 ",
                       t.sizes().size(), "-d expected)"));
    }
    std::memcpy(t.data_ptr(), (*f)->View(*info).data, t.numel() * sizeof(float));
  }
  return absl::OkStatus();
}

}  // namespace sinkscope::train
