#include "quant/int8_gemm.h"

#include <algorithm>
#include <cstring>
#include <tuple>
#include <unordered_map>

#include <oneapi/dnnl/dnnl.hpp>

#include "absl/strings/str_cat.h"

namespace sinkscope::quant {
namespace {

dnnl::engine& CpuEngine() {
  static dnnl::engine* engine = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *engine;
}

// One in-order stream per calling thread, created on first use.
dnnl::stream& ThreadStream() {
  thread_local dnnl::stream stream(CpuEngine());
  return stream;
}

// Raw u8 x s8 products summed over this depth cannot overflow int32: 255 * 128 * depth.
constexpr int64_t kMaxRawDepth = 65793;

// Codes in [-64, 64] never saturate a vpmaddubsw pair: 255 * 64 * 2 = 32640 <= 32767.
constexpr int32_t kPairSafeMagnitude = 64;

absl::Status FromDnnl(const dnnl::error& e, const char* what) {
  return absl::InternalError(absl::StrCat("oneDNN ", what, ": ", e.what()));
}

}  // namespace

const char* MitigationName(Int8Mitigation m) {
  switch (m) {
    case Int8Mitigation::kAuto:
      return "auto";
    case Int8Mitigation::kNone:
      return "none";
    case Int8Mitigation::kSplitWeights:
      return "split_weights";
  }
  return "?";
}

std::string EffectiveCpuIsaName() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::sse41:
      return "sse41";
    case dnnl::cpu_isa::avx:
      return "avx";
    case dnnl::cpu_isa::avx2:
      return "avx2";
    case dnnl::cpu_isa::avx2_vnni:
      return "avx2_vnni";
    case dnnl::cpu_isa::avx512_mic:
      return "avx512_mic";
    case dnnl::cpu_isa::avx512_mic_4ops:
      return "avx512_mic_4ops";
    case dnnl::cpu_isa::avx512_core:
      return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni:
      return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16:
      return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx:
      return "avx512_core_amx";
    default:
      return "unknown";
  }
}

bool EffectiveIsaHasVnni() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::avx2_vnni:
    case dnnl::cpu_isa::avx512_core_vnni:
    case dnnl::cpu_isa::avx512_core_bf16:
    case dnnl::cpu_isa::avx512_core_amx:
      return true;
    default:
      return false;
  }
}

std::string OnednnVersion() {
  const dnnl_version_t* v = dnnl_version();
  return absl::StrCat(v->major, ".", v->minor, ".", v->patch);
}

struct Int8Gemm::Primitive {
  dnnl::matmul matmul;
  dnnl::memory::desc src_md, wei_md, dst_md;
  std::string impl;
};

namespace {

// The exact int32 correction of one output row (see RunInt32), modulo 2^32.
__attribute__((target_clones("avx512f", "avx2", "default"))) void CorrectRow(
    int32_t* __restrict acc, const int32_t* __restrict colsum, const int32_t* __restrict zb,
    uint32_t za, uint32_t rowdev, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    const uint32_t v = static_cast<uint32_t>(acc[j]) - za * static_cast<uint32_t>(colsum[j]) -
                       static_cast<uint32_t>(zb[j]) * rowdev;
    acc[j] = static_cast<int32_t>(v);
  }
}

// CorrectRow, then C = (float(acc) * sb[n]) * sa, in one pass.
__attribute__((target_clones("avx512f", "avx2", "default"))) void CorrectAndScaleRow(
    const int32_t* __restrict acc, const int32_t* __restrict colsum, const int32_t* __restrict zb,
    uint32_t za, uint32_t rowdev, float sa, const float* __restrict sb, float* __restrict out,
    int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    const uint32_t v = static_cast<uint32_t>(acc[j]) - za * static_cast<uint32_t>(colsum[j]) -
                       static_cast<uint32_t>(zb[j]) * rowdev;
    out[j] = (static_cast<float>(static_cast<int32_t>(v)) * sb[j]) * sa;
  }
}

}  // namespace

Int8Gemm::~Int8Gemm() = default;

absl::StatusOr<std::unique_ptr<Int8Gemm>> Int8Gemm::Create(const GemmOperand& w,
                                                           Int8GemmOptions options) {
  const int64_t K = w.matrix.rows, N = w.matrix.cols;
  // Validate B against a 0 x K placeholder A (only B's fields matter here).
  GemmOperand no_rows;
  no_rows.matrix = Int8MatrixView{nullptr, Int8Type::kU8, 0, K};
  if (absl::Status st = ValidateGemmOperands(no_rows, w); !st.ok()) return st;
  if (K == 0 || N == 0) return absl::InvalidArgumentError("Int8Gemm: weights are empty");

  std::unique_ptr<Int8Gemm> g(new Int8Gemm());
  g->k_ = K;
  g->n_ = N;
  // Signed weights: u8 codes become s8 by subtracting 128 (zero point too): same differences.
  const int32_t shift = w.matrix.type == Int8Type::kU8 ? 128 : 0;
  // Loops below are branch-free per element so that they vectorise (this runs once per weight
  // matrix, on every weight of a model in quant_eval).
  std::vector<int8_t> b(K * N);
  int32_t max_magnitude = 0;
  const uint8_t* src = w.matrix.data;
  if (shift != 0) {
    for (int64_t i = 0; i < K * N; ++i) b[i] = static_cast<int8_t>(static_cast<int32_t>(src[i]) - 128);
  } else {
    std::memcpy(b.data(), src, static_cast<size_t>(K * N));
  }
  {
    int32_t lo = 0, hi = 0;
    for (int64_t i = 0; i < K * N; ++i) {
      lo = std::min<int32_t>(lo, b[i]);
      hi = std::max<int32_t>(hi, b[i]);
    }
    max_magnitude = std::max(-lo, hi);
  }
  Int8Mitigation m = options.mitigation;
  if (m == Int8Mitigation::kAuto) {
    m = (EffectiveIsaHasVnni() || max_magnitude <= kPairSafeMagnitude)
            ? Int8Mitigation::kNone
            : Int8Mitigation::kSplitWeights;
  }
  g->mitigation_ = m;
  g->depth_ = m == Int8Mitigation::kSplitWeights ? 2 * K : K;
  if (g->depth_ > kMaxRawDepth) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Int8Gemm: reduction depth ", g->depth_, " exceeds ", kMaxRawDepth,
        " (int32 accumulator bound); split K"));
  }
  g->colsum_s8_.assign(N, 0);
  for (int64_t k = 0; k < K; ++k) {
    for (int64_t n = 0; n < N; ++n) g->colsum_s8_[n] += b[k * N + n];
  }
  if (m == Int8Mitigation::kSplitWeights) {
    g->packed_.resize(2 * K * N);
    for (int64_t i = 0; i < K * N; ++i) {
      const int32_t v = b[i];
      const int32_t hi = v >> 1;  // floor(v / 2) (arithmetic shift, C++20 and GCC), in [-64, 63]
      g->packed_[i] = static_cast<int8_t>(hi);
      g->packed_[K * N + i] = static_cast<int8_t>(v - hi);  // ceil(v / 2), in [-64, 64]
    }
  } else {
    g->packed_ = std::move(b);
  }
  g->zb_s8_.resize(N);
  g->sb_.resize(N);
  g->weights_zero_ = true;
  for (int64_t n = 0; n < N; ++n) {
    g->zb_s8_[n] = w.quant.zero_point(n) - shift;
    g->weights_zero_ = g->weights_zero_ && g->zb_s8_[n] == 0;
    g->sb_[n] = w.quant.scale(n);
  }
  g->weights_.quant = w.quant;
  g->weights_.quant.zero_points = g->zb_s8_;
  g->weights_.matrix = Int8MatrixView{reinterpret_cast<const uint8_t*>(g->packed_.data()),
                                      Int8Type::kS8, K, N};
  return g;
}

absl::StatusOr<const Int8Gemm::Primitive*> Int8Gemm::PrimitiveFor(int64_t m, bool s8_src,
                                                                  bool fused) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto key = std::make_tuple(m, s8_src, fused);
  auto it = primitives_.find(key);
  if (it != primitives_.end()) {
    last_impl_ = it->second->impl;
    return it->second.get();
  }
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  auto p = std::make_unique<Primitive>();
  try {
    p->src_md = dnnl::memory::desc({m, depth_}, s8_src ? dt::s8 : dt::u8, tag::ab);
    p->wei_md = dnnl::memory::desc({depth_, n_}, dt::s8, tag::ab);
    p->dst_md = dnnl::memory::desc({m, n_}, fused ? dt::f32 : dt::s32, tag::ab);
    dnnl::primitive_attr attr;
    if (fused) {
      // The weights' scales are fixed: compile-time output scales (runtime ones send AMX CPUs
      // to a slower kernel). Per call: the src zero point, and sa as a 1x1 binary multiply.
      attr.set_zero_points(DNNL_ARG_SRC, 0, {DNNL_RUNTIME_S32_VAL});
      attr.set_output_scales(1 << 1, sb_);
      dnnl::post_ops ops;
      ops.append_binary(dnnl::algorithm::binary_mul, dnnl::memory::desc({1, 1}, dt::f32, tag::ab));
      attr.set_post_ops(ops);
    }
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(p->src_md, p->wei_md, p->dst_md), attr,
                                    CpuEngine());
    p->impl = pd.impl_info_str();
    p->matmul = dnnl::matmul(pd);
  } catch (const dnnl::error& e) {
    return FromDnnl(e, "matmul creation");
  }
  last_impl_ = p->impl;
  const Primitive* raw = p.get();
  primitives_.emplace(key, std::move(p));
  return raw;
}

std::string Int8Gemm::impl_name() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_impl_;
}

absl::StatusOr<Int8Gemm::Source> Int8Gemm::PrepareSource(const GemmOperand& a) const {
  if (absl::Status st = ValidateGemmOperands(a, weights_); !st.ok()) return st;
  const int64_t M = a.matrix.rows, K = k_;
  Source src;
  // Without the split, oneDNN takes the codes as they are (u8 or s8). With it, it sees
  // [A | A] as u8: s8 codes + 128, zero point + 128.
  const bool split = depth_ != K;
  const bool is_s8 = a.matrix.type == Int8Type::kS8;
  src.s8 = is_s8 && !split;
  const uint8_t shift = is_s8 && split ? 128 : 0;
  if (split) {
    src.storage.resize(M * depth_);
    for (int64_t m = 0; m < M; ++m) {
      const uint8_t* in = a.matrix.data + m * K;
      uint8_t* out = src.storage.data() + m * depth_;
      for (int64_t k = 0; k < K; ++k) out[k] = static_cast<uint8_t>(in[k] + shift);  // wraps
      std::memcpy(out + K, out, K);
    }
    src.data = src.storage.data();
  } else {
    src.data = a.matrix.data;
  }
  src.za.resize(M);
  src.rowdev.resize(M);
  for (int64_t m = 0; m < M; ++m) {
    src.za[m] = static_cast<uint32_t>(a.quant.zero_point(m) + shift);
    if (weights_zero_) continue;  // rowdev only multiplies weight zero points
    const uint8_t* row = src.data + m * depth_;
    uint32_t sum = 0;
    if (src.s8) {
      for (int64_t k = 0; k < K; ++k) sum += static_cast<uint32_t>(static_cast<int8_t>(row[k]));
    } else {
      for (int64_t k = 0; k < K; ++k) sum += row[k];
    }
    src.rowdev[m] = sum - static_cast<uint32_t>(K) * src.za[m];
  }
  return src;
}

absl::Status Int8Gemm::Execute(const Source& src, int64_t m, bool fused, void* dst,
                               int32_t zero_point, float row_scale) const {
  absl::StatusOr<const Primitive*> prim = PrimitiveFor(m, src.s8, fused);
  if (!prim.ok()) return prim.status();
  try {
    dnnl::stream& stream = ThreadStream();
    dnnl::memory src_mem((*prim)->src_md, CpuEngine(), const_cast<uint8_t*>(src.data));
    dnnl::memory wei_mem((*prim)->wei_md, CpuEngine(), const_cast<int8_t*>(packed_.data()));
    dnnl::memory dst_mem((*prim)->dst_md, CpuEngine(), dst);
    std::unordered_map<int, dnnl::memory> args = {
        {DNNL_ARG_SRC, src_mem}, {DNNL_ARG_WEIGHTS, wei_mem}, {DNNL_ARG_DST, dst_mem}};
    if (fused) {
      using dt = dnnl::memory::data_type;
      using tag = dnnl::memory::format_tag;
      dnnl::memory zp_mem({{1}, dt::s32, tag::x}, CpuEngine(), &zero_point);
      dnnl::memory sa_mem({{1, 1}, dt::f32, tag::ab}, CpuEngine(), &row_scale);
      args.insert({DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_SRC, zp_mem});
      args.insert({DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, sa_mem});
    }
    (*prim)->matmul.execute(stream, args);
    stream.wait();
  } catch (const dnnl::error& e) {
    return FromDnnl(e, "matmul execution");
  }
  return absl::OkStatus();
}

absl::Status Int8Gemm::RunInt32(const GemmOperand& a, Int32Matrix* acc) const {
  absl::StatusOr<Source> src = PrepareSource(a);
  if (!src.ok()) return src.status();
  const int64_t M = a.matrix.rows, N = n_;
  acc->resize(M, N);
  if (M == 0) return absl::OkStatus();
  if (absl::Status st = Execute(*src, M, /*fused=*/false, acc->data(), 0, 1.0f); !st.ok()) {
    return st;
  }
  // raw = sum_k a' b. Exact: raw - za' colsum(b) - zb rowdev(a'), computed modulo 2^32: the
  // true value fits in int32 (checked by ValidateGemmOperands), so wrapping is exact.
  for (int64_t m = 0; m < M; ++m) {
    CorrectRow(acc->data() + m * N, colsum_s8_.data(), zb_s8_.data(), src->za[m], src->rowdev[m],
               N);
  }
  return absl::OkStatus();
}

absl::Status Int8Gemm::Run(const GemmOperand& a, FloatMatrix* c) const {
  absl::StatusOr<Source> src = PrepareSource(a);
  if (!src.ok()) return src.status();
  const int64_t M = a.matrix.rows, N = n_;
  c->resize(M, N);
  if (M == 0) return absl::OkStatus();
  const bool per_tensor_a = a.quant.scales.size() == 1 && a.quant.zero_points.size() == 1;
  if (per_tensor_a && weights_zero_) {
    // All of the epilogue fits oneDNN's attributes: the zero point is compensated in int32,
    // then float(acc) * sb[n] (output scales), then * sa (binary post-op), as the contract.
    return Execute(*src, M, /*fused=*/true, c->data(), static_cast<int32_t>(src->za[0]),
                   a.quant.scales[0]);
  }
  thread_local std::vector<int32_t> acc;
  acc.resize(M * N);
  if (absl::Status st = Execute(*src, M, /*fused=*/false, acc.data(), 0, 1.0f); !st.ok()) {
    return st;
  }
  for (int64_t m = 0; m < M; ++m) {
    CorrectAndScaleRow(acc.data() + m * N, colsum_s8_.data(), zb_s8_.data(), src->za[m],
                       src->rowdev[m], a.quant.scale(m), sb_.data(), c->data() + m * N, N);
  }
  return absl::OkStatus();
}

}  // namespace sinkscope::quant
