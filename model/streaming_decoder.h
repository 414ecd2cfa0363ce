// File: model/streaming_decoder.h
//
// streaming_decoder.h: a whole model decoded over bounded KV caches, StreamingLLM style (Xiao et
// al. 2024, Table 1): every attention layer keeps one attention::StreamingKvCache of the first
// n_sink tokens plus a rolling window, positions are assigned within the cache
// (CachePositions::kWithinCache), and the mean next-token NLL of the stream is measured.
//
// The stream is decoded exactly as token-by-token decoding would, but layer by layer: layer l's
// output at token t depends only on layer l-1's outputs at tokens <= t, so each layer streams all
// T tokens through its own StreamingAttention (Step per token, O(cache) each) and then runs its
// MLP on all of them at once. Only one layer is widened to float at a time.
//
// Cache per layer: full-causal layers get (n_sink, window). A sliding-window layer of window W
// keeps its own window exactly, (0, W), when W <= n_sink + window (it never saw more in training);
// otherwise it gets (n_sink, window) too. `window <= 0` means unbounded: the cache holds the whole
// stream (full attention; equals Transformer::Forward up to float rounding, tested).
//
// Learned sink tokens (kSinkTokens, train/'s sink_tokens models): each layer's sink embeddings
// are fed into its cache first (positions 0..n-1) and stay there, ahead of the stream's own
// n_sink tokens: "window" for such a model is its learned sinks + the window.
// Not supported (errors): gpt2's learned absolute positions (a stream longer than n_positions
// has no position embedding; StreamingLLM is defined for RoPE models).
//
// Example:
//   StreamingConfig window_only{"window", /*n_sink=*/0, /*window=*/64};
//   StreamingConfig sinks{"4+window", 4, 60};
//   absl::StatusOr<StreamingResult> r = DecodeStreaming(transformer, ids, sinks);
//   std::cout << r->mean_nll;
#ifndef SINKSCOPE_MODEL_STREAMING_DECODER_H_
#define SINKSCOPE_MODEL_STREAMING_DECODER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/transformer.h"

namespace sinkscope::model {

struct StreamingConfig {
  std::string name;  // e.g. "window", "4+window", "full"
  int n_sink = 0;
  int window = 0;    // <= 0: unbounded (full attention over the stream)
};

struct StreamingResult {
  double mean_nll = 0.0;      // over the T - 1 predicted tokens
  int64_t num_predicted = 0;
  std::vector<double> nll;    // per predicted token t = 0..T-2 (predicting ids[t + 1])
};

// The StreamingLLM Table 1 set for a cache of `cache_size` tokens: "window" (0 + cache_size),
// "n+window" (n + cache_size - n) for each n in `sinks` (n < cache_size), and "full".
std::vector<StreamingConfig> StreamingLlmConfigs(int cache_size, const std::vector<int>& sinks);

// Errors: ids as Transformer::Forward (fewer than 2 ids, out of vocabulary), n_sink < 0, gpt2,
// unsupported variants. `cancelled`, when set, is polled between layers; it returning true ends
// the decode with absl::CancelledError.
absl::StatusOr<StreamingResult> DecodeStreaming(const Transformer& model,
                                                const std::vector<int32_t>& token_ids,
                                                const StreamingConfig& config,
                                                const std::function<bool()>& cancelled = {});

}  // namespace sinkscope::model

#endif  // SINKSCOPE_MODEL_STREAMING_DECODER_H_
