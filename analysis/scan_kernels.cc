#include "analysis/scan_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SINKSCOPE_SCAN_KERNELS_X86 1
#include <immintrin.h>
#endif

namespace sinkscope::analysis::internal {

// One table per instruction set from the same source (see scan_kernels_impl.inc). The target
// pragmas apply to the functions defined between push and pop only.
namespace baseline {
#define SCAN_KERNELS_ISA 0
#define SCAN_KERNELS_NAME "baseline"
#include "analysis/scan_kernels_impl.inc"
#undef SCAN_KERNELS_NAME
#undef SCAN_KERNELS_ISA
}  // namespace baseline

#ifdef SINKSCOPE_SCAN_KERNELS_X86
#pragma GCC push_options
#pragma GCC target("avx2,f16c")
namespace avx2 {
#define SCAN_KERNELS_ISA 256
#define SCAN_KERNELS_NAME "avx2"
#include "analysis/scan_kernels_impl.inc"
#undef SCAN_KERNELS_NAME
#undef SCAN_KERNELS_ISA
}  // namespace avx2
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,f16c")
namespace avx512 {
#define SCAN_KERNELS_ISA 512
#define SCAN_KERNELS_NAME "avx512"
#include "analysis/scan_kernels_impl.inc"
#undef SCAN_KERNELS_NAME
#undef SCAN_KERNELS_ISA
}  // namespace avx512
#pragma GCC pop_options
#endif

std::vector<const ScanKernels*> SupportedScanKernels() {
  std::vector<const ScanKernels*> out;
#ifdef SINKSCOPE_SCAN_KERNELS_X86
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
  if (avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")) {
    out.push_back(&avx512::kTable);
  }
  if (avx2) out.push_back(&avx2::kTable);
#endif
  out.push_back(&baseline::kTable);
  return out;
}

const ScanKernels& ScanKernelsForCpu() {
  static const ScanKernels* const best = SupportedScanKernels().front();
  return *best;
}

}  // namespace sinkscope::analysis::internal
