#include "analysis/weight_scan.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "analysis/scan_kernels.h"
#include "model/checkpoint.h"
#include "quant/calibration.h"
#include "quant/error_metrics.h"
#include "quant/quant_scheme.h"

namespace sinkscope::analysis {

absl::Status ParseShard(absl::string_view text, int* index, int* count) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, '/');
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], index) ||
      !absl::SimpleAtoi(parts[1], count) || *count < 1 || *index < 0 || *index >= *count) {
    return absl::InvalidArgumentError(
        absl::StrCat("--shard must be i/n with 0 <= i < n, got '", text, "'"));
  }
  return absl::OkStatus();
}

std::vector<std::vector<size_t>> AssignShardsBySize(const std::vector<uint64_t>& sizes,
                                                    int count) {
  std::vector<std::vector<size_t>> shards(static_cast<size_t>(std::max(count, 1)));
  std::vector<size_t> order(sizes.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return sizes[a] > sizes[b]; });
  std::vector<uint64_t> load(shards.size(), 0);
  for (size_t item : order) {
    const size_t s = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    load[s] += sizes[item];
    shards[s].push_back(item);
  }
  for (std::vector<size_t>& s : shards) std::sort(s.begin(), s.end());
  return shards;
}

int LayerIndexFromName(absl::string_view name) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '.');
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (parts[i] == "layers" || parts[i] == "h" || parts[i] == "blocks" || parts[i] == "layer") {
      int layer = 0;
      if (absl::SimpleAtoi(parts[i + 1], &layer) && layer >= 0) return layer;
    }
  }
  return -1;
}

sinkscope::v1::QuantError StreamingQuantError(const model::TypedTensorView& view, bool per_row,
                                              int bits) {
  const int64_t cols = view.shape.empty() ? 1 : std::max<int64_t>(view.shape.back(), 1);
  const int64_t rows = view.size() / cols;
  quant::QuantScheme scheme = per_row ? quant::QuantScheme::PerChannel(0) : quant::QuantScheme{};
  scheme.bits = bits;
  // Pass 1: the ranges (per row or overall).
  std::vector<float> lo(per_row ? rows : 1, 0.0f), hi(per_row ? rows : 1, 0.0f);
  std::vector<bool> seen(lo.size(), false);
  model::ForEachFloatChunk(view, [&](const float* x, int64_t n, int64_t off) {
    for (int64_t i = 0; i < n; ++i) {
      if (!std::isfinite(x[i])) continue;
      const size_t g = per_row ? static_cast<size_t>((off + i) / cols) : 0;
      if (!seen[g]) {
        lo[g] = hi[g] = x[i];
        seen[g] = true;
      }
      lo[g] = std::min(lo[g], x[i]);
      hi[g] = std::max(hi[g], x[i]);
    }
  });
  std::vector<quant::ScaleAndZeroPoint> params(lo.size());
  for (size_t g = 0; g < lo.size(); ++g) params[g] = quant::CalibrateMinMax(lo[g], hi[g], scheme);
  // Pass 2: quantize, dequantize, accumulate the error.
  quant::ErrorAccumulator acc;
  const int32_t qmin = scheme.qmin(), qmax = scheme.qmax();
  std::vector<float> ref(model::kFloatChunk), approx(model::kFloatChunk);
  model::ForEachFloatChunk(view, [&](const float* x, int64_t n, int64_t off) {
    int64_t m = 0;  // finite elements of the chunk, compacted
    for (int64_t i = 0; i < n; ++i) {
      if (!std::isfinite(x[i])) continue;
      const quant::ScaleAndZeroPoint p = params[per_row ? (off + i) / cols : 0];
      ref[m] = x[i];
      approx[m++] = quant::DequantizeValue(quant::QuantizeValue(x[i], p, qmin, qmax), p);
    }
    acc.Add(ref.data(), approx.data(), m);
  });
  sinkscope::v1::QuantError out = quant::ToProto(
      acc.Finish(), absl::StrCat("int", bits, per_row ? " per-channel" : " per-tensor"));
  *out.mutable_scheme() = quant::ToProto(scheme);
  out.set_path("oracle");
  return out;
}

namespace {

struct SchemeSpec {
  const char* flag;
  bool per_row;
  int bits;
};

SchemeSpec SpecOf(WeightQuantScheme s) {
  switch (s) {
    case WeightQuantScheme::kTensor8:
      return {"tensor", false, 8};
    case WeightQuantScheme::kChannel8:
      return {"channel", true, 8};
    case WeightQuantScheme::kTensor4:
      return {"tensor4", false, 4};
    case WeightQuantScheme::kChannel4:
      return {"channel4", true, 4};
  }
  return {"tensor", false, 8};
}

bool GlobMatchOne(absl::string_view p, absl::string_view s) {
  // Iterative matcher with backtracking to the last '*': O(|p| |s|) worst case.
  size_t pi = 0, si = 0, star = absl::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == s[si])) {
      ++pi;
      ++si;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = si;
    } else if (star != absl::string_view::npos) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

// One scanned tensor: its report and its summary accumulator (merged into the total in order).
struct ScannedTensor {
  sinkscope::v1::TensorReport report;
  std::unique_ptr<SummaryBuilder> summary;
};

sinkscope::v1::QuantError QuantErrorProto(const quant::ErrorAccumulator& acc,
                                          const SchemeSpec& spec) {
  quant::QuantScheme scheme =
      spec.per_row ? quant::QuantScheme::PerChannel(0) : quant::QuantScheme{};
  scheme.bits = spec.bits;
  sinkscope::v1::QuantError out = quant::ToProto(
      acc.Finish(), absl::StrCat("int", spec.bits, spec.per_row ? " per-channel" : " per-tensor"));
  *out.mutable_scheme() = quant::ToProto(scheme);
  out.set_path("oracle");
  return out;
}

// The fused scan of a BF16 / F16 tensor of rank >= 2, one pass over its data, row by row:
//   - a histogram of the 65536 bit patterns, from which the Summary (moments, sketch, counts)
//     and the per-tensor quantization errors are computed exactly per distinct value
//     (quantizing a value depends only on the value and the tensor's range);
//   - the row, converted once into a buffer that stays in cache (the next row prefetched): one
//     profile pass (OutlierProfiler::AddExactSquareRow: channel and row statistics, its range
//     and sum of squares) and one error pass per per-row scheme (the row is its own group);
//     rows with Inf / NaN or extreme bf16 magnitudes take the element-wise profile instead.
// Same definitions as SummaryBuilder::Add, ProfileOutliers and StreamingQuantError; the order
// of the double sums differs (rounding), and the shortcuts of scan_kernels.h and
// analysis/README.md (float channel blocks, dot product by identity) are documented there.
class Fused16BitScan {
 public:
  static constexpr int64_t kMinElements = int64_t{1} << 16;  // below: the histogram costs more
  static constexpr int64_t kMaxCols = int64_t{1} << 20;

  static bool Applies(const model::TypedTensorView& v) {
    if (v.dtype != model::DType::kBF16 && v.dtype != model::DType::kF16) return false;
    if (v.shape.size() < 2 || v.shape.back() <= 0 || v.shape.back() > kMaxCols) return false;
    const int64_t n = v.size();
    return n >= kMinElements && n < (int64_t{1} << 32);  // uint32 histogram counts
  }

  Fused16BitScan(const model::TypedTensorView& view, const WeightScanOptions& options,
                 const internal::ScanKernels& kernels)
      : view_(view),
        options_(options),
        kernels_(kernels),
        cols_(view.shape.back()),
        rows_(view.size() / cols_),
        profiler_(rows_, cols_, options.top_k) {
    bf16_ = view.dtype == model::DType::kBF16;
    values_ = bf16_ ? Bf16Values() : HalfValues();
    if (options.quant_errors) {
      for (WeightQuantScheme s : options.schemes) specs_.push_back(SpecOf(s));
    }
    errors_.resize(specs_.size());
  }

  void Run(ScannedTensor* out) {
    std::vector<uint32_t> hist(1 << 16, 0);
    std::vector<float> row(cols_), finite(cols_);
    const uint8_t* data = view_.data;
    const bool per_row = HasPerRowScheme();
    const int64_t row_bytes = cols_ * 2;
    for (int64_t r = 0; r < rows_; ++r) {
      const uint8_t* src = data + r * row_bytes;
      if (r + 1 < rows_) {  // the next row, while this one computes (the mapping is cold)
        for (int64_t b = 0; b < row_bytes; b += 64) __builtin_prefetch(src + row_bytes + b);
      }
      const uint32_t flags =
          bf16_ ? kernels_.convert_count_bf16(src, cols_, row.data(), hist.data())
                : kernels_.convert_count_f16(src, cols_, values_, row.data(), hist.data());
      if (flags == 0) {  // the common row: one kernel pass gives the profile, range and sum x^2
        const OutlierProfiler::RowStats s =
            profiler_.AddExactSquareRow(r, row.data(), kernels_);
        if (per_row) AddRowErrors(row.data(), cols_, s.lo, s.hi, s.abs_max, s.sum_sq);
        continue;
      }
      profiler_.Add(r, 0, row.data(), cols_);
      if (!per_row) continue;
      const float* x = row.data();
      int64_t n = cols_;
      if (flags & internal::kRowNonFinite) {  // quantize the row's finite values only
        n = 0;
        for (int64_t c = 0; c < cols_; ++c) {
          if (std::isfinite(row[c])) finite[n++] = row[c];
        }
        x = finite.data();
      }
      if (n == 0) continue;
      float lo = x[0], hi = x[0];
      kernels_.row_range(x, n, &lo, &hi);
      double sum_sq = 0.0;
      for (int64_t c = 0; c < n; ++c) sum_sq += static_cast<double>(x[c]) * x[c];
      AddRowErrors(x, n, lo, hi, std::max(-lo, hi), sum_sq);
    }
    // Everything per distinct value.
    std::vector<uint64_t> counts(hist.begin(), hist.end());
    out->summary = std::make_unique<SummaryBuilder>(options_.summary);
    out->summary->AddCounts(values_, counts.data(), static_cast<int64_t>(counts.size()));
    std::vector<float> distinct;
    std::vector<uint64_t> distinct_counts;
    for (size_t h = 0; h < counts.size(); ++h) {
      if (counts[h] != 0 && std::isfinite(values_[h])) {
        distinct.push_back(values_[h]);
        distinct_counts.push_back(counts[h]);
      }
    }
    float lo = 0.0f, hi = 0.0f;
    if (!distinct.empty()) {
      lo = hi = distinct[0];
      for (float v : distinct) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    }
    for (size_t k = 0; k < specs_.size(); ++k) {
      if (!specs_[k].per_row) {
        AddQuantErrorCounts(distinct, distinct_counts, lo, hi, specs_[k], &errors_[k]);
      }
    }
    sinkscope::v1::TensorReport* t = &out->report;
    *t->mutable_summary() = out->summary->ToProto();
    *t->mutable_outliers() = profiler_.Finish();
    for (size_t k = 0; k < specs_.size(); ++k) {
      *t->add_quant_errors() = QuantErrorProto(errors_[k], specs_[k]);
    }
  }

 private:
  bool HasPerRowScheme() const {
    for (const SchemeSpec& s : specs_) {
      if (s.per_row) return true;
    }
    return false;
  }

  static const float* Bf16Values() {
    static const std::vector<float>* table = [] {
      auto* t = new std::vector<float>(1 << 16);
      for (uint32_t h = 0; h < (1u << 16); ++h) (*t)[h] = model::Bf16ToFloat(static_cast<uint16_t>(h));
      return t;
    }();
    return table->data();
  }
  static const float* HalfValues() {
    static const std::vector<float>* table = [] {
      auto* t = new std::vector<float>(1 << 16);
      for (uint32_t h = 0; h < (1u << 16); ++h) (*t)[h] = model::HalfToFloat(static_cast<uint16_t>(h));
      return t;
    }();
    return table->data();
  }

  static quant::QuantScheme SchemeOf(const SchemeSpec& spec) {
    quant::QuantScheme scheme =
        spec.per_row ? quant::QuantScheme::PerChannel(0) : quant::QuantScheme{};
    scheme.bits = spec.bits;
    return scheme;
  }

  // One group (a row) of n finite values with range [lo, hi], max |x| and sum x^2: its error
  // under every per-row scheme. The kernel gives sum a^2, sum (x - a)^2 and max |x - a|; the dot
  // product follows from 2 x a = x^2 + a^2 - (x - a)^2, summed: its absolute error is a few ulps
  // of sum x^2 + sum a^2, as for a direct sum (the cosine is good to ~1e-15).
  void AddRowErrors(const float* x, int64_t n, float lo, float hi, float abs_max,
                    double sum_sq) {
    for (size_t k = 0; k < specs_.size(); ++k) {
      if (!specs_[k].per_row) continue;
      const quant::QuantScheme scheme = SchemeOf(specs_[k]);
      const quant::ScaleAndZeroPoint p = quant::CalibrateMinMax(lo, hi, scheme);
      const internal::ErrorSums e =
          kernels_.group_error_sums(x, n, abs_max, p, scheme.qmin(), scheme.qmax());
      const double dot = 0.5 * (sum_sq + e.approx_sq - e.err_sq);
      errors_[k].AddSums(n, sum_sq, e.approx_sq, dot, e.err_sq, e.max_abs);
    }
  }

  // The whole tensor as one group, from its distinct finite values and their counts.
  static void AddQuantErrorCounts(const std::vector<float>& values,
                                  const std::vector<uint64_t>& counts, float lo, float hi,
                                  const SchemeSpec& spec, quant::ErrorAccumulator* acc) {
    const quant::QuantScheme scheme = SchemeOf(spec);
    const quant::ScaleAndZeroPoint p = quant::CalibrateMinMax(lo, hi, scheme);
    const int32_t qmin = scheme.qmin(), qmax = scheme.qmax();
    double ref_sq = 0.0, approx_sq = 0.0, dot = 0.0, err_sq = 0.0, max_abs = 0.0;
    int64_t n = 0;
    for (size_t j = 0; j < values.size(); ++j) {
      const double c = static_cast<double>(counts[j]);
      const double r = values[j];
      const double a = quant::DequantizeValue(quant::QuantizeValue(values[j], p, qmin, qmax), p);
      const double d = r - a;
      n += static_cast<int64_t>(counts[j]);
      ref_sq += c * (r * r);
      approx_sq += c * (a * a);
      dot += c * (r * a);
      err_sq += c * (d * d);
      max_abs = std::max(max_abs, std::fabs(d));
    }
    acc->AddSums(n, ref_sq, approx_sq, dot, err_sq, max_abs);
  }

  const model::TypedTensorView& view_;
  const WeightScanOptions& options_;
  const internal::ScanKernels& kernels_;
  const int64_t cols_, rows_;
  OutlierProfiler profiler_;
  bool bf16_ = true;
  const float* values_ = nullptr;
  std::vector<SchemeSpec> specs_;
  std::vector<quant::ErrorAccumulator> errors_;
};

void ScanTensor(const model::Checkpoint& checkpoint, const model::TensorInfo& info,
                const WeightScanOptions& options, const internal::ScanKernels& kernels,
                ScannedTensor* out) {
  const model::TypedTensorView view = checkpoint.View(info);
  sinkscope::v1::TensorReport* t = &out->report;
  t->set_name(info.name);
  for (int64_t d : info.shape) t->add_shape(d);
  t->set_dtype(model::DTypeName(info.dtype));
  t->set_layer(LayerIndexFromName(info.name));
  if (Fused16BitScan::Applies(view)) {
    Fused16BitScan(view, options, kernels).Run(out);
    return;
  }
  out->summary = std::make_unique<SummaryBuilder>(options.summary);
  out->summary->Add(view);
  *t->mutable_summary() = out->summary->ToProto();
  if (info.shape.size() >= 2) *t->mutable_outliers() = ProfileOutliers(view, options.top_k);
  if (options.quant_errors && view.size() > 0) {
    for (WeightQuantScheme s : options.schemes) {
      const SchemeSpec spec = SpecOf(s);
      if (spec.per_row && info.shape.size() < 2) continue;
      *t->add_quant_errors() = StreamingQuantError(view, spec.per_row, spec.bits);
    }
  }
}

}  // namespace

absl::Status ParseWeightQuantSchemes(absl::string_view text,
                                     std::vector<WeightQuantScheme>* schemes) {
  schemes->clear();
  for (absl::string_view name : absl::StrSplit(text, ',')) {
    bool found = false;
    for (WeightQuantScheme s : {WeightQuantScheme::kTensor8, WeightQuantScheme::kChannel8,
                                WeightQuantScheme::kTensor4, WeightQuantScheme::kChannel4}) {
      if (name != SpecOf(s).flag) continue;
      if (std::find(schemes->begin(), schemes->end(), s) != schemes->end()) {
        return absl::InvalidArgumentError(absl::StrCat("--schemes: '", name, "' given twice"));
      }
      schemes->push_back(s);
      found = true;
    }
    if (!found) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--schemes: unknown scheme '", name, "' (known: tensor, channel, tensor4, channel4)"));
    }
  }
  return absl::OkStatus();
}

bool GlobMatch(absl::string_view pattern, absl::string_view name) {
  if (pattern.empty()) return true;
  for (absl::string_view p : absl::StrSplit(pattern, ',')) {
    if (GlobMatchOne(p, name)) return true;
  }
  return false;
}

absl::StatusOr<sinkscope::v1::WeightReport> ScanWeights(const std::string& checkpoint,
                                                        const WeightScanOptions& options) {
  absl::StatusOr<std::unique_ptr<model::Checkpoint>> c = model::Checkpoint::Open(checkpoint);
  if (!c.ok()) return c.status();
  return ScanWeights(**c, options);
}

absl::StatusOr<sinkscope::v1::WeightReport> ScanWeights(const model::Checkpoint& checkpoint,
                                                        const WeightScanOptions& options) {
  if (options.shard_count < 1 || options.shard_index < 0 ||
      options.shard_index >= options.shard_count) {
    return absl::InvalidArgumentError("weight scan: shard index out of range");
  }
  if (options.threads < 1) return absl::InvalidArgumentError("weight scan: threads must be >= 1");
  const internal::ScanKernels* kernels = &internal::ScanKernelsForCpu();
  if (!options.kernels.empty()) {
    kernels = nullptr;
    std::string known;
    for (const internal::ScanKernels* k : internal::SupportedScanKernels()) {
      if (options.kernels == k->name) kernels = k;
      absl::StrAppend(&known, known.empty() ? "" : ", ", k->name);
    }
    if (kernels == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("weight scan: kernels '", options.kernels,
                                                     "' do not run on this CPU (it runs: ",
                                                     known, ")"));
    }
  }
  sinkscope::v1::WeightReport report;
  report.set_checkpoint(checkpoint.path());
  if (options.shard_count > 1) {
    report.set_shard(absl::StrCat(options.shard_index, "/", options.shard_count));
  }
  std::vector<const model::TensorInfo*> selected;
  for (const model::TensorInfo& t : checkpoint.tensors()) {
    if (GlobMatch(options.filter, t.name)) selected.push_back(&t);
  }
  report.set_tensors_in_checkpoint(static_cast<int64_t>(selected.size()));
  std::vector<uint64_t> sizes;
  for (const model::TensorInfo* t : selected) sizes.push_back(t->end - t->begin);
  const std::vector<size_t> mine_index =
      AssignShardsBySize(sizes, options.shard_count)[static_cast<size_t>(options.shard_index)];
  std::vector<const model::TensorInfo*> mine;
  uint64_t bytes_total = 0;
  for (size_t i : mine_index) {
    mine.push_back(selected[i]);
    bytes_total += sizes[i];
  }
  report.set_scanned_bytes(static_cast<int64_t>(bytes_total));
  // Workers take the largest tensors first (the report stays in checkpoint order).
  std::vector<size_t> queue(mine.size());
  for (size_t i = 0; i < queue.size(); ++i) queue[i] = i;
  std::stable_sort(queue.begin(), queue.end(),
                   [&](size_t a, size_t b) { return sizes[mine_index[a]] > sizes[mine_index[b]]; });

  std::vector<ScannedTensor> scanned(mine.size());
  std::atomic<size_t> next{0};
  std::mutex progress_mu;
  WeightScanProgress progress;
  progress.tensors_total = static_cast<int>(mine.size());
  progress.bytes_total = bytes_total;
  const auto worker = [&] {
    for (size_t q = next++; q < queue.size(); q = next++) {
      const size_t i = queue[q];
      ScanTensor(checkpoint, *mine[i], options, *kernels, &scanned[i]);
      scanned[i].report.set_index(static_cast<int64_t>(mine_index[i]));
      if (options.progress) {
        std::lock_guard<std::mutex> lock(progress_mu);
        ++progress.tensors_done;
        progress.bytes_done += mine[i]->end - mine[i]->begin;
        progress.last_tensor = mine[i]->name;
        options.progress(progress);
      }
    }
  };
  const int workers =
      static_cast<int>(std::min<size_t>(static_cast<size_t>(options.threads), mine.size()));
  if (workers <= 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    for (int w = 0; w < workers; ++w) pool.emplace_back(worker);
    for (std::thread& t : pool) t.join();
  }

  for (const model::TensorInfo* info : mine) {
    if (!IsAttentionSinkTensor(info->name, info->shape)) continue;
    const model::TypedTensorView v = checkpoint.View(*info);
    const int layer = LayerIndexFromName(info->name);
    for (int64_t h = 0; h < v.size(); ++h) {
      sinkscope::v1::HeadSinkLogit* s = report.add_sink_logits();
      s->set_layer(layer);
      s->set_head(static_cast<int>(h));
      s->set_value(model::LoadAsDouble(v.data, v.dtype, h));
      s->set_tensor(info->name);
    }
  }
  SummaryBuilder total(options.summary);
  for (ScannedTensor& s : scanned) {
    if (absl::Status st = total.Merge(*s.summary); !st.ok()) return st;
    *report.add_tensors() = std::move(s.report);
    s.summary.reset();
  }
  *report.mutable_total() = total.ToProto();
  return report;
}

bool IsAttentionSinkTensor(absl::string_view name, const std::vector<int64_t>& shape) {
  return shape.size() == 1 && absl::EndsWith(name, "self_attn.sinks");
}

std::vector<AttentionSinkValues> AttentionSinks(const model::Checkpoint& checkpoint,
                                                const sinkscope::v1::WeightReport& report) {
  std::vector<AttentionSinkValues> out;
  for (const sinkscope::v1::TensorReport& t : report.tensors()) {
    const model::TensorInfo* info = checkpoint.Find(t.name());
    if (info == nullptr || !IsAttentionSinkTensor(info->name, info->shape)) continue;
    const model::TypedTensorView v = checkpoint.View(*info);
    AttentionSinkValues s;
    s.name = info->name;
    s.layer = LayerIndexFromName(info->name);
    for (int64_t h = 0; h < v.size(); ++h) s.values.push_back(model::LoadAsDouble(v.data, v.dtype, h));
    out.push_back(std::move(s));
  }
  return out;
}

std::string FormatAttentionSinks(const std::vector<AttentionSinkValues>& sinks) {
  if (sinks.empty()) return "";
  constexpr int kPerLine = 8;
  std::string out = absl::StrCat("attention sink logits (", sinks.size(),
                                 " self_attn.sinks tensors), per layer and head:\n");
  absl::StrAppend(&out, "  layer  heads       min      mean       max  values (h0, h1, ...)\n");
  for (const AttentionSinkValues& s : sinks) {
    double lo = 0, hi = 0, sum = 0;
    for (size_t h = 0; h < s.values.size(); ++h) {
      lo = h == 0 ? s.values[h] : std::min(lo, s.values[h]);
      hi = h == 0 ? s.values[h] : std::max(hi, s.values[h]);
      sum += s.values[h];
    }
    const double mean = s.values.empty() ? 0.0 : sum / static_cast<double>(s.values.size());
    absl::StrAppend(&out, absl::StrFormat("  %5d  %5d  %8.3f  %8.3f  %8.3f ", s.layer,
                                          s.values.size(), lo, mean, hi));
    for (size_t h = 0; h < s.values.size(); ++h) {
      if (h > 0 && h % kPerLine == 0) absl::StrAppend(&out, "\n", std::string(44, ' '));
      absl::StrAppend(&out, absl::StrFormat(" %7.3f", s.values[h]));
    }
    absl::StrAppend(&out, "\n");
  }
  return out;
}

}  // namespace sinkscope::analysis
