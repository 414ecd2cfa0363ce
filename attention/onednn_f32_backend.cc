#include "attention/onednn_f32_backend.h"

#include <oneapi/dnnl/dnnl.hpp>

#include "absl/strings/str_cat.h"

namespace sinkscope::attention {
namespace {

dnnl::engine& Engine() {
  static dnnl::engine* e = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *e;
}

}  // namespace

absl::Status OnednnF32Matmul(const FloatMatrix& a, const FloatMatrix& b, bool transpose_b,
                             FloatMatrix* c) {
  const int64_t M = a.rows(), K = a.cols(), N = transpose_b ? b.rows() : b.cols();
  if ((transpose_b ? b.cols() : b.rows()) != K) {
    return absl::InvalidArgumentError(absl::StrCat("matmul: inner dimensions ", K, " and ",
                                                   transpose_b ? b.cols() : b.rows()));
  }
  c->resize(M, N);
  if (M == 0 || N == 0) return absl::OkStatus();
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  try {
    // B^T is B read column-major: format `ba` over dims {K, N}.
    dnnl::memory::desc a_md({M, K}, dt::f32, tag::ab);
    dnnl::memory::desc b_md({K, N}, dt::f32, transpose_b ? tag::ba : tag::ab);
    dnnl::memory::desc c_md({M, N}, dt::f32, tag::ab);
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, c_md), Engine());
    dnnl::matmul mm(pd);
    thread_local dnnl::stream stream(Engine());
    dnnl::memory am(a_md, Engine(), const_cast<float*>(a.data()));
    dnnl::memory bm(b_md, Engine(), const_cast<float*>(b.data()));
    dnnl::memory cm(c_md, Engine(), c->data());
    mm.execute(stream, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
    stream.wait();
  } catch (const dnnl::error& e) {
    return absl::InternalError(absl::StrCat("oneDNN fp32 matmul: ", e.what()));
  }
  return absl::OkStatus();
}

OnednnF32Backend::OnednnF32Backend(const AttentionWeights& w) {
  wt_[0] = w.wq.transpose();
  wt_[1] = w.wk.transpose();
  wt_[2] = w.wv.transpose();
  wt_[3] = w.wo.transpose();
}

absl::Status OnednnF32Backend::Project(Projection which, const FloatMatrix& x, FloatMatrix* out) {
  return OnednnF32Matmul(x, wt_[static_cast<int>(which)], false, out);
}

absl::Status OnednnF32Backend::SetKeysValues(const FloatMatrix& k, const FloatMatrix& v) {
  k_ = &k;
  v_ = &v;
  return absl::OkStatus();
}

absl::Status OnednnF32Backend::Scores(const FloatMatrix& q, FloatMatrix* out) {
  return OnednnF32Matmul(q, *k_, true, out);
}

absl::Status OnednnF32Backend::Mix(const FloatMatrix& p, FloatMatrix* out) {
  return OnednnF32Matmul(p, *v_, false, out);
}

}  // namespace sinkscope::attention
