// File: quant/sgemm.h
//
// sgemm.h: the fp32 GEMM of the forward pass, C = A B or C = A B^T (row-major FloatMatrix), on a
// backend chosen at run time: OpenBLAS (Debian's pthread build, which dispatches to the CPU's
// kernels at run time: the project's own code is built for baseline x86-64 only), oneDNN f32
// matmul, or Eigen (SSE2 here: the oracle).
//
// The rule: OpenBLAS for every shape, on every ISA (one row: its sgemv). Measured with
// bench/sgemm_benchmark (GFLOPS, median of 3; a shared 2-core Sapphire Rapids VM, so +-15 %;
// other ISAs through OPENBLAS_CORETYPE and DNNL_MAX_CPU_ISA), the classes of a Qwen2.5-0.5B
// forward pass (d 896, ffn 4864, 14/2 heads) on 512 tokens and on 1:
//
//   1 thread              AVX-512 (SkylakeX / avx512_core_amx)  AVX2 (Haswell / avx2)
//                         eigen  onednn  openblas                eigen  onednn  openblas
//   tiny 8x16x16            9-19     1      14-21                  13-15    1     18-22
//   small 32^3..64^3       14-31  10-79     36-103                 19-25  8-60    30-72
//   1 row x 896..4864        7-15   4-10      9-16                  9-14  9-14    10-14
//   T512 projections/MLP   20-35 105-180     75-166                 15-32 53-108   66-101
//   T512 LM head block     19-29 100-172     75-163                 26-29 93-99    94
//   T512 Q K^T, P V        18-35  97-179     69-134                 21-29 67-100   60-85
//   SSE4.1 only (Nehalem / sse41): all three 20-32 on every class, none ahead by more than ~15 %.
//
//   2 threads (AVX-512)    T512 products: onednn 116-330, openblas 76-322 on an idle machine,
//   but oneDNN's OpenMP team collapses when the cores are shared (small products 0.1, Q K^T 17,
//   K/V projections 17 GFLOPS while OpenBLAS keeps 50-110): its workers spin at barriers for
//   milliseconds, OpenBLAS's yield, and OpenBLAS runs products under ~64^3 on one thread.
//   Whole forward (24 layers, 512 tokens, SINKSCOPE_SGEMM forced): 1 thread 4.6-5.1 s of CPU
//   on either; 2 threads, shared machine: openblas 7.4 / 9.3 s, onednn 14.5 / 11.0 s.
//
// So: oneDNN's ~10-30 % lead on large products at 1 thread on AVX-512 does not survive the whole
// forward pass (per-call primitive creation, 1-row and small products at 1-5 GFLOPS) nor a
// shared machine at 2 threads, and a second thread pool next to it would have to share the
// cores with oneDNN's OpenMP team (quant::Int8Gemm) anyway; Eigen (the SSE2 code of this
// portable build) is 3-6x slower wherever AVX2 exists. OpenBLAS is the fastest or within noise
// of it in every class except oneDNN's large products. libtorch's matmuls run on the same
// library, so model_forward_benchmark compares everything but the GEMMs.
//
// Caveat: OpenBLAS's workers spin (yielding) for a while after each call, and oneDNN's OpenMP
// workers (libgomp: ~300k spins) after each primitive, so the int8 configurations of
// analysis/quant_eval, which alternate the two pools on the same cores, pay for it at 2 threads
// when the products are short. Measured, w8a8 / fp32 time at 2 threads: Qwen2.5-0.5B shapes
// (6 layers, 512 tokens) 1.77 with the defaults and 1.78 with the workers told to sleep; a small
// model (d 256, 128 tokens) 10.2 with the defaults, 2.6 with OPENBLAS_THREAD_TIMEOUT=4 and 1.9
// with OMP_WAIT_POLICY=passive (both read at start-up: set them in the environment).
//
// Threads: OpenBLAS's pool (SetSgemmThreads; default all cores, or OPENBLAS_NUM_THREADS). The
// pool is process-wide and shared with libtorch (train/), which loads the same libopenblas.so.0.
// oneDNN runs on the OpenMP team (OMP_NUM_THREADS / omp_set_num_threads); Eigen on one thread.
//
// SINKSCOPE_SGEMM=eigen|onednn|openblas|auto (read once), or ForceSgemmBackend, puts every call
// on one backend: oracle runs and benchmarks.
//
// Example:
//   FloatMatrix y;
//   Sgemm(x, w, /*transpose_b=*/true, &y);   // y = x W^T, W [out x in]
//   std::printf("%s\n", SgemmBackendName());  // "openblas"
#ifndef SINKSCOPE_QUANT_SGEMM_H_
#define SINKSCOPE_QUANT_SGEMM_H_

#include <cstdint>
#include <optional>
#include <string>

#include "quant/tensor.h"

namespace sinkscope::quant {

enum class SgemmBackend { kEigen, kOnednn, kOpenblas };

// "eigen", "onednn", "openblas"; ParseSgemmBackend is its inverse.
const char* SgemmBackendName(SgemmBackend backend);
std::optional<SgemmBackend> ParseSgemmBackend(const std::string& name);

// The measured rule for C [m x n] = A [m x k] B, ignoring any forcing.
SgemmBackend RuleSgemmBackend(int64_t m, int64_t n, int64_t k);
// The backend Sgemm runs for that shape: the forced one, else the rule.
SgemmBackend ChooseSgemmBackend(int64_t m, int64_t n, int64_t k);

// Puts every Sgemm call of the process on `backend` (nullopt: back to the rule). Overrides
// SINKSCOPE_SGEMM.
void ForceSgemmBackend(std::optional<SgemmBackend> backend);
std::optional<SgemmBackend> ForcedSgemmBackend();

// C = A B (transpose_b: A B^T); *c is resized (an aliased operand goes through a temporary).
// Inner dimensions must agree (else abort, like Eigen's assertion).
void Sgemm(const FloatMatrix& a, const FloatMatrix& b, bool transpose_b, FloatMatrix* c);
FloatMatrix Sgemm(const FloatMatrix& a, const FloatMatrix& b, bool transpose_b);
// C written into rows of a wider row-major buffer: C[i][j] at c[i * ldc + j], ldc >= N (a
// column block of a bigger matrix, e.g. the LM head's vocabulary blocks).
void SgemmStrided(const FloatMatrix& a, const FloatMatrix& b, bool transpose_b, float* c,
                  int64_t ldc);
// Sgemm on a given backend (tests, benchmarks).
void SgemmWith(SgemmBackend backend, const FloatMatrix& a, const FloatMatrix& b, bool transpose_b,
               FloatMatrix* c);

// The backend the last Sgemm / SgemmWith of this thread ran ("" before the first).
const char* SgemmBackendName();
// "auto; openblas SkylakeX 2 threads" (or "forced eigen; ...").
std::string SgemmDescription();

// OpenBLAS threads (openblas_set_num_threads); <= 0: all cores.
void SetSgemmThreads(int threads);
int SgemmThreads();

}  // namespace sinkscope::quant

#endif  // SINKSCOPE_QUANT_SGEMM_H_
