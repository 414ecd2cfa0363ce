#include "model/streaming_decoder.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "attention/streaming_kv_cache.h"

namespace sinkscope::model {

std::vector<StreamingConfig> StreamingLlmConfigs(int cache_size, const std::vector<int>& sinks) {
  std::vector<StreamingConfig> out;
  out.push_back({"window", 0, cache_size});
  for (int n : sinks) {
    if (n > 0 && n < cache_size) out.push_back({absl::StrCat(n, "+window"), n, cache_size - n});
  }
  out.push_back({"full", 0, 0});
  return out;
}

absl::StatusOr<StreamingResult> DecodeStreaming(const Transformer& model,
                                                const std::vector<int32_t>& ids,
                                                const StreamingConfig& config,
                                                const std::function<bool()>& cancelled) {
  const ModelConfig& c = model.config();
  if (c.family == ModelFamily::kGpt2) {
    return absl::InvalidArgumentError(
        "streaming: gpt2 has learned absolute positions; StreamingLLM needs RoPE (or no "
        "positional embedding)");
  }
  if (config.n_sink < 0) {
    return absl::InvalidArgumentError(absl::StrCat("streaming: n_sink ", config.n_sink, " < 0"));
  }
  const int64_t T = static_cast<int64_t>(ids.size());
  if (T < 2) return absl::InvalidArgumentError("streaming: needs at least 2 token ids");
  if (T > (int64_t{1} << 30)) return absl::InvalidArgumentError("streaming: stream too long");
  absl::StatusOr<FloatMatrix> embedded = model.Embed(ids);
  if (!embedded.ok()) return embedded.status();
  FloatMatrix h = *std::move(embedded);
  const bool unbounded = config.window <= 0;
  for (int l = 0; l < c.num_layers; ++l) {
    if (cancelled && cancelled()) return absl::CancelledError("streaming: interrupted");
    absl::StatusOr<TransformerLayer> layer = model.Layer(l);
    if (!layer.ok()) return layer.status();
    attention::AttentionSpec spec = layer->attention().spec();
    attention::AttentionWeights weights = layer->attention().weights();
    int n_sink = unbounded ? 0 : config.n_sink;
    int window = unbounded ? static_cast<int>(T) : config.window;
    if (spec.mask == attention::MaskKind::kSliding &&
        (unbounded || spec.window <= config.n_sink + config.window)) {
      n_sink = 0;
      window = spec.window;
    }
    // Learned sink tokens (kSinkTokens) are keys the layer computes from its own embeddings at
    // positions 0..n-1, always visible: in a cache they are the first n_learned sink rows, fed
    // before the stream; the stream's own sinks (n_sink) follow them.
    attention::FloatMatrix learned_sinks;
    if (spec.variant == attention::Variant::kSinkTokens) {
      learned_sinks = std::move(weights.sink_tokens);
      weights.sink_tokens.resize(0, 0);
      n_sink += spec.num_sink_tokens;
      spec.variant = attention::Variant::kVanilla;
      spec.num_sink_tokens = 0;
    }
    absl::StatusOr<attention::StreamingAttention> stream = attention::StreamingAttention::Create(
        spec, std::move(weights), n_sink, window, attention::CachePositions::kWithinCache);
    if (!stream.ok()) {
      return absl::Status(stream.status().code(),
                          absl::StrCat("streaming: layer ", l, ": ", stream.status().message()));
    }
    const FloatMatrix x = layer->AttentionInput(h);
    FloatMatrix a(T, c.hidden_size);
    attention::FloatVector y;
    for (int64_t i = 0; i < learned_sinks.rows(); ++i) {
      if (absl::Status st = stream->Step(learned_sinks.row(i), &y); !st.ok()) {
        return absl::Status(st.code(), absl::StrCat("streaming: layer ", l, " sink token ", i,
                                                    ": ", st.message()));
      }
    }
    for (int64_t t = 0; t < T; ++t) {
      if (absl::Status st = stream->Step(x.row(t), &y); !st.ok()) {
        return absl::Status(st.code(), absl::StrCat("streaming: layer ", l, " token ", t, ": ",
                                                    st.message()));
      }
      a.row(t) = y.transpose();
    }
    h += a;
    h += layer->Mlp(layer->MlpInput(h));
  }
  StreamingResult r;
  r.num_predicted = T - 1;
  r.nll.resize(T - 1);
  // LM head over blocks of rows, so that [T x vocab] logits never exist at once.
  const int64_t rows = std::max<int64_t>(1, (int64_t{1} << 22) / std::max(1, c.vocab_size));
  double total = 0.0;
  for (int64_t r0 = 0; r0 + 1 < T; r0 += rows) {
    const int64_t n = std::min(rows, T - 1 - r0);
    const FloatMatrix logits = model.Logits(h.middleRows(r0, n));
    for (int64_t i = 0; i < n; ++i) {
      r.nll[r0 + i] = NextTokenNll(logits.data() + i * c.vocab_size, c.vocab_size, ids[r0 + i + 1]);
      total += r.nll[r0 + i];
    }
  }
  r.mean_nll = total / static_cast<double>(T - 1);
  return r;
}

}  // namespace sinkscope::model
