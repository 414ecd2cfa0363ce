// File: quant/tensor.h
//
// tensor.h: the float tensor types quant/ works on: Eigen row-major matrices, and a shaped
// read-only view over row-major data for tensors of any rank.
//
// Example:
//   FloatMatrix w = FloatMatrix::Random(64, 128);
//   ConstTensorView view = ViewOf(w);   // shape {64, 128}
#ifndef SINKSCOPE_QUANT_TENSOR_H_
#define SINKSCOPE_QUANT_TENSOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>

namespace sinkscope::quant {

// Row-major float matrix: [rows x cols], row r contiguous.
using FloatMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using DoubleMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Int32Matrix = Eigen::Matrix<int32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

using Shape = std::vector<int64_t>;

// Number of elements of `shape` (1 for rank 0).
int64_t NumElements(const Shape& shape);

// "[2, 3, 4]".
std::string ShapeToString(const Shape& shape);

// A read-only view of row-major (C order) float data with a shape. Does not own the data.
struct ConstTensorView {
  const float* data = nullptr;
  Shape shape;

  int64_t size() const { return NumElements(shape); }
  int rank() const { return static_cast<int>(shape.size()); }
};

inline ConstTensorView ViewOf(const FloatMatrix& m) {
  return ConstTensorView{m.data(), Shape{m.rows(), m.cols()}};
}

}  // namespace sinkscope::quant

#endif  // SINKSCOPE_QUANT_TENSOR_H_
