#include "bench/torch_llama.h"

#include <dlfcn.h>

#include <cmath>
#include <cstring>
#include <string>

#include <torch/torch.h>

#include "absl/strings/str_cat.h"

namespace sinkscope::bench {
namespace {

absl::StatusOr<torch::Tensor> Fp32(const model::TensorSource& source, const std::string& name) {
  absl::StatusOr<model::TypedTensorView> v = source(name);
  if (!v.ok()) return v.status();
  std::vector<int64_t> shape(v->shape.begin(), v->shape.end());
  torch::Tensor out = torch::empty(shape, torch::kFloat32);
  float* dst = out.data_ptr<float>();
  const int64_t n = v->size();
  for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<float>(model::LoadAsDouble(v->data, v->dtype, i));
  return out;
}

class TorchLlamaImpl : public TorchLlama {
 public:
  struct Layer {
    torch::Tensor norm1, wq, wk, wv, wo, norm2, gate, up, down;
  };

  TorchForward Forward(const std::vector<int32_t>& ids, bool keep_logits) override {
    torch::InferenceMode guard;
    const int64_t T = static_cast<int64_t>(ids.size());
    const int64_t H = c_.num_heads, KVH = c_.num_kv_heads, D = c_.head_dim;
    torch::Tensor idx = torch::empty({T}, torch::kInt64);
    for (int64_t t = 0; t < T; ++t) idx[t] = static_cast<int64_t>(ids[t]);
    torch::Tensor x = embed_.index_select(0, idx);  // [T, d]

    // RoPE tables (rotate-half): angle[t, i] = t * theta^(-2i / D), duplicated over the halves.
    torch::Tensor inv = torch::pow(
        static_cast<double>(c_.rope_theta),
        -torch::arange(0, D, 2, torch::kFloat64) / static_cast<double>(D));
    torch::Tensor ang = torch::outer(torch::arange(T, torch::kFloat64), inv);
    ang = torch::cat({ang, ang}, -1);
    const torch::Tensor cos = ang.cos().to(torch::kFloat32), sin = ang.sin().to(torch::kFloat32);
    const auto rope = [&](const torch::Tensor& q) {  // [heads, T, D]
      torch::Tensor rot = torch::cat({-q.slice(-1, D / 2), q.slice(-1, 0, D / 2)}, -1);
      return q * cos + rot * sin;
    };
    const torch::Tensor mask =
        torch::full({T, T}, -std::numeric_limits<float>::infinity()).triu(1);
    const double scale = 1.0 / std::sqrt(static_cast<double>(D));
    const double eps = c_.norm_eps;
    const auto rms = [&](const torch::Tensor& h, const torch::Tensor& w) {
      return h * torch::rsqrt(h.pow(2).mean(-1, true) + eps) * w;
    };
    for (const Layer& L : layers_) {
      torch::Tensor h = rms(x, L.norm1);
      torch::Tensor q = torch::linear(h, L.wq).view({T, H, D}).transpose(0, 1);
      torch::Tensor k = torch::linear(h, L.wk).view({T, KVH, D}).transpose(0, 1);
      torch::Tensor v = torch::linear(h, L.wv).view({T, KVH, D}).transpose(0, 1);
      q = rope(q);
      k = rope(k);
      k = k.repeat_interleave(H / KVH, 0);
      v = v.repeat_interleave(H / KVH, 0);
      torch::Tensor s = torch::matmul(q, k.transpose(1, 2)) * scale + mask;
      torch::Tensor o = torch::matmul(torch::softmax(s, -1), v);  // [H, T, D]
      x = x + torch::linear(o.transpose(0, 1).reshape({T, H * D}), L.wo);
      h = rms(x, L.norm2);
      x = x + torch::linear(torch::silu(torch::linear(h, L.gate)) * torch::linear(h, L.up),
                            L.down);
    }
    torch::Tensor logits = torch::linear(rms(x, final_norm_), lm_head_);  // [T, vocab]
    TorchForward out;
    if (T > 1) {
      out.mean_nll = torch::nn::functional::cross_entropy(logits.slice(0, 0, T - 1),
                                                          idx.slice(0, 1))
                         .item<double>();
    }
    if (keep_logits) {
      logits = logits.contiguous();
      out.logits.assign(logits.data_ptr<float>(), logits.data_ptr<float>() + logits.numel());
    }
    return out;
  }

  model::ModelConfig c_;
  torch::Tensor embed_, final_norm_, lm_head_;
  std::vector<Layer> layers_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<TorchLlama>> TorchLlama::Load(const model::ModelConfig& config,
                                                             const model::TensorSource& source) {
  if (config.family != model::ModelFamily::kLlama || config.qkv_bias ||
      config.mlp != model::MlpKind::kSwiGlu) {
    return absl::InvalidArgumentError("TorchLlama: a Llama checkpoint without biases is needed");
  }
  auto m = std::make_unique<TorchLlamaImpl>();
  m->c_ = config;
  absl::Status status;
  const auto get = [&](const std::string& name) {
    if (!status.ok()) return torch::Tensor();
    absl::StatusOr<torch::Tensor> t = Fp32(source, name);
    if (!t.ok()) {
      status = t.status();
      return torch::Tensor();
    }
    return *std::move(t);
  };
  m->embed_ = get("model.embed_tokens.weight");
  for (int l = 0; l < config.num_layers; ++l) {
    const std::string p = absl::StrCat("model.layers.", l, ".");
    TorchLlamaImpl::Layer L;
    L.norm1 = get(p + "input_layernorm.weight");
    L.wq = get(p + "self_attn.q_proj.weight");
    L.wk = get(p + "self_attn.k_proj.weight");
    L.wv = get(p + "self_attn.v_proj.weight");
    L.wo = get(p + "self_attn.o_proj.weight");
    L.norm2 = get(p + "post_attention_layernorm.weight");
    L.gate = get(p + "mlp.gate_proj.weight");
    L.up = get(p + "mlp.up_proj.weight");
    L.down = get(p + "mlp.down_proj.weight");
    m->layers_.push_back(std::move(L));
  }
  m->final_norm_ = get("model.norm.weight");
  m->lm_head_ = config.tie_word_embeddings ? m->embed_ : get("lm_head.weight");
  if (!status.ok()) return status;
  return std::unique_ptr<TorchLlama>(std::move(m));
}

void SetTorchThreads(int threads) {
  torch::set_num_threads(threads);
  using SetThreads = void (*)(int);
  if (void* f = dlsym(RTLD_DEFAULT, "openblas_set_num_threads"); f != nullptr) {
    reinterpret_cast<SetThreads>(f)(threads);
  }
}

}  // namespace sinkscope::bench
