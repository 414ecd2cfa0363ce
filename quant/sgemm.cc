#include "quant/sgemm.h"

#include <cblas.h>

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"

namespace sinkscope::quant {
namespace {

// -1: the rule; otherwise a forced SgemmBackend. Initialised from SINKSCOPE_SGEMM.
std::atomic<int>& Forced() {
  static std::atomic<int> forced{[] {
    const char* e = std::getenv("SINKSCOPE_SGEMM");
    if (e == nullptr || *e == '\0' || std::strcmp(e, "auto") == 0) return -1;
    std::optional<SgemmBackend> b = ParseSgemmBackend(e);
    if (!b.has_value()) {
      std::fprintf(stderr, "SINKSCOPE_SGEMM=%s: expected auto, eigen, onednn or openblas\n", e);
      std::abort();
    }
    return static_cast<int>(*b);
  }()};
  return forced;
}

thread_local SgemmBackend g_last = SgemmBackend::kEigen;
thread_local bool g_ran = false;

using StridedMap = Eigen::Map<FloatMatrix, Eigen::Unaligned, Eigen::OuterStride<>>;

void EigenSgemm(const FloatMatrix& a, const FloatMatrix& b, bool transpose_b, float* c,
                int64_t ldc) {
  StridedMap cm(c, a.rows(), transpose_b ? b.rows() : b.cols(), Eigen::OuterStride<>(ldc));
  if (transpose_b) {
    cm.noalias() = a * b.transpose();
  } else {
    cm.noalias() = a * b;
  }
}

void OpenblasSgemm(const FloatMatrix& a, const FloatMatrix& b, bool transpose_b, float* c,
                   int64_t ldc) {
  const int64_t m = a.rows(), k = a.cols(), n = transpose_b ? b.rows() : b.cols();
  if (m == 1) {
    // One row: y = B^T a (B a for B^T), a matrix-vector product; sgemm would pack B for nothing.
    cblas_sgemv(CblasRowMajor, transpose_b ? CblasNoTrans : CblasTrans,
                static_cast<blasint>(b.rows()), static_cast<blasint>(b.cols()), 1.0f, b.data(),
                static_cast<blasint>(b.cols()), a.data(), 1, 0.0f, c, 1);
    return;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, transpose_b ? CblasTrans : CblasNoTrans,
              static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k), 1.0f,
              a.data(), static_cast<blasint>(k), b.data(), static_cast<blasint>(b.cols()), 0.0f, c,
              static_cast<blasint>(ldc));
}

dnnl::engine& Engine() {
  static dnnl::engine* e = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *e;
}

void OnednnSgemm(const FloatMatrix& a, const FloatMatrix& b, bool transpose_b, float* c,
                 int64_t ldc) {
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  const int64_t m = a.rows(), k = a.cols(), n = transpose_b ? b.rows() : b.cols();
  try {
    // B^T is B read column-major: format `ba` over dims {K, N}.
    const dnnl::memory::desc a_md({m, k}, dt::f32, tag::ab);
    const dnnl::memory::desc b_md({k, n}, dt::f32, transpose_b ? tag::ba : tag::ab);
    const dnnl::memory::desc c_md({m, n}, dt::f32, dnnl::memory::dims{ldc, 1});
    // oneDNN's primitive cache returns the compiled kernel for a shape seen before.
    const dnnl::matmul mm(
        dnnl::matmul::primitive_desc(dnnl::matmul::desc(a_md, b_md, c_md), Engine()));
    thread_local dnnl::stream stream(Engine());
    dnnl::memory am(a_md, Engine(), const_cast<float*>(a.data()));
    dnnl::memory bm(b_md, Engine(), const_cast<float*>(b.data()));
    dnnl::memory cm(c_md, Engine(), c);
    mm.execute(stream, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
    stream.wait();
  } catch (const dnnl::error& e) {
    // Shapes are checked before; oneDNN fails only on resources: the oracle then.
    std::fprintf(stderr, "Sgemm: oneDNN matmul failed (%s); using Eigen\n", e.what());
    EigenSgemm(a, b, transpose_b, c, ldc);
  }
}

// Checks the shapes (abort: a programming error, like Eigen's assertion); returns N.
int64_t CheckedColumns(const FloatMatrix& a, const FloatMatrix& b, bool transpose_b) {
  const int64_t k = a.cols(), n = transpose_b ? b.rows() : b.cols();
  if ((transpose_b ? b.cols() : b.rows()) != k) {
    std::fprintf(stderr, "Sgemm: A is %lldx%lld, B%s is %lldx%lld: inner dimensions differ\n",
                 static_cast<long long>(a.rows()), static_cast<long long>(k),
                 transpose_b ? "^T" : "",
                 static_cast<long long>(transpose_b ? b.cols() : b.rows()),
                 static_cast<long long>(n));
    std::abort();
  }
  return n;
}

void Run(SgemmBackend backend, const FloatMatrix& a, const FloatMatrix& b, bool transpose_b,
         float* c, int64_t ldc) {
  const int64_t m = a.rows(), n = transpose_b ? b.rows() : b.cols();
  g_last = backend;
  g_ran = true;
  if (m == 0 || n == 0) return;
  if (a.cols() == 0) {
    for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    return;
  }
  switch (backend) {
    case SgemmBackend::kEigen:
      EigenSgemm(a, b, transpose_b, c, ldc);
      return;
    case SgemmBackend::kOnednn:
      OnednnSgemm(a, b, transpose_b, c, ldc);
      return;
    case SgemmBackend::kOpenblas:
      OpenblasSgemm(a, b, transpose_b, c, ldc);
      return;
  }
}

}  // namespace

const char* SgemmBackendName(SgemmBackend backend) {
  switch (backend) {
    case SgemmBackend::kEigen:
      return "eigen";
    case SgemmBackend::kOnednn:
      return "onednn";
    case SgemmBackend::kOpenblas:
      return "openblas";
  }
  return "?";
}

std::optional<SgemmBackend> ParseSgemmBackend(const std::string& name) {
  for (SgemmBackend b : {SgemmBackend::kEigen, SgemmBackend::kOnednn, SgemmBackend::kOpenblas}) {
    if (name == SgemmBackendName(b)) return b;
  }
  return std::nullopt;
}

SgemmBackend ChooseSgemmBackend(int64_t m, int64_t n, int64_t k) {
  const int forced = Forced().load(std::memory_order_relaxed);
  if (forced >= 0) return static_cast<SgemmBackend>(forced);
  return RuleSgemmBackend(m, n, k);
}

SgemmBackend RuleSgemmBackend(int64_t m, int64_t n, int64_t k) {
  (void)m;
  (void)n;
  (void)k;
  return SgemmBackend::kOpenblas;
}

void ForceSgemmBackend(std::optional<SgemmBackend> backend) {
  Forced().store(backend.has_value() ? static_cast<int>(*backend) : -1);
}

std::optional<SgemmBackend> ForcedSgemmBackend() {
  const int forced = Forced().load();
  if (forced < 0) return std::nullopt;
  return static_cast<SgemmBackend>(forced);
}

void SgemmWith(SgemmBackend backend, const FloatMatrix& a, const FloatMatrix& b, bool transpose_b,
               FloatMatrix* c) {
  const int64_t n = CheckedColumns(a, b, transpose_b);
  if (c == &a || c == &b) {  // the result would overwrite an operand
    FloatMatrix tmp;
    SgemmWith(backend, a, b, transpose_b, &tmp);
    *c = std::move(tmp);
    return;
  }
  c->resize(a.rows(), n);
  Run(backend, a, b, transpose_b, c->data(), n);
}

void Sgemm(const FloatMatrix& a, const FloatMatrix& b, bool transpose_b, FloatMatrix* c) {
  const int64_t n = CheckedColumns(a, b, transpose_b);
  SgemmWith(ChooseSgemmBackend(a.rows(), n, a.cols()), a, b, transpose_b, c);
}

FloatMatrix Sgemm(const FloatMatrix& a, const FloatMatrix& b, bool transpose_b) {
  FloatMatrix c;
  Sgemm(a, b, transpose_b, &c);
  return c;
}

void SgemmStrided(const FloatMatrix& a, const FloatMatrix& b, bool transpose_b, float* c,
                  int64_t ldc) {
  const int64_t n = CheckedColumns(a, b, transpose_b);
  if (ldc < n) {
    std::fprintf(stderr, "SgemmStrided: ldc %lld < N %lld\n", static_cast<long long>(ldc),
                 static_cast<long long>(n));
    std::abort();
  }
  Run(ChooseSgemmBackend(a.rows(), n, a.cols()), a, b, transpose_b, c, ldc);
}

const char* SgemmBackendName() { return g_ran ? SgemmBackendName(g_last) : ""; }

void SetSgemmThreads(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  openblas_set_num_threads(threads);
}

int SgemmThreads() { return openblas_get_num_threads(); }

std::string SgemmDescription() {
  const std::optional<SgemmBackend> forced = ForcedSgemmBackend();
  return absl::StrCat(forced.has_value() ? absl::StrCat("forced ", SgemmBackendName(*forced))
                                         : std::string("auto"),
                      "; openblas ", openblas_get_corename(), " ", SgemmThreads(), " threads");
}

}  // namespace sinkscope::quant
