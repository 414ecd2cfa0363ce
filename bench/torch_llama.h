// File: bench/torch_llama.h
//
// torch_llama.h: the baseline of model_forward_benchmark: the fp32 forward pass of a Llama-family
// checkpoint written with libtorch ops (RMSNorm, RoPE rotate-half, GQA causal attention, SwiGLU,
// LM head, the mean next-token NLL), as a PyTorch user would write it, with every weight widened
// to an fp32 tensor once at Load. No libtorch header here: its headers cost ~35 s per
// translation unit (DESIGN.md section 5).
//
// Example:
//   absl::StatusOr<std::unique_ptr<TorchLlama>> m = TorchLlama::Load(config, source);
//   SetTorchThreads(2);
//   TorchForward f = (*m)->Forward(ids);   // logits [T x vocab], mean NLL
#ifndef SINKSCOPE_BENCH_TORCH_LLAMA_H_
#define SINKSCOPE_BENCH_TORCH_LLAMA_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "model/model_config.h"
#include "model/transformer.h"

namespace sinkscope::bench {

struct TorchForward {
  std::vector<float> logits;  // [T x vocab], row-major
  double mean_nll = 0.0;
};

class TorchLlama {
 public:
  // Llama family only (RMSNorm, SwiGLU, no biases, the standard attention variant).
  static absl::StatusOr<std::unique_ptr<TorchLlama>> Load(const model::ModelConfig& config,
                                                          const model::TensorSource& source);
  virtual ~TorchLlama() = default;
  // keep_logits false: the logits are computed but not copied out (timing).
  virtual TorchForward Forward(const std::vector<int32_t>& ids, bool keep_logits) = 0;
};

// torch::set_num_threads (intra-op OpenMP pool) and OpenBLAS's pool, which libtorch's matmuls run
// on.
void SetTorchThreads(int threads);

}  // namespace sinkscope::bench

#endif  // SINKSCOPE_BENCH_TORCH_LLAMA_H_
