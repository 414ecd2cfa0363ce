// File: report/svg_scale.h
//
// svg_scale.h: `Scale`, a data domain mapped onto a pixel range, linear ("nice" 1/2/5 steps) or
// log10 (whole decades), with its tick positions. Non-finite values never leave the pixel range.
//
// Example:
//   Scale y = Scale::Linear(values, /*include_zero=*/true);
//   y.Pixels(frame.bottom(), frame.y);                      // y axis: lo at the bottom
//   for (double t : y.Ticks()) svg.Text(frame.x - 6, y(t), Num(t), "end");
#ifndef SINKSCOPE_REPORT_SVG_SCALE_H_
#define SINKSCOPE_REPORT_SVG_SCALE_H_

#include <vector>

namespace sinkscope::analysis::svg {

class Scale {
 public:
  // Linear: "nice" bounds (multiples of a 1/2/5 step) enclosing the finite values, and 0 when
  // `include_zero`; `tight`: the bounds are the data's own (ticks stay at multiples of the step).
  static Scale Linear(const std::vector<double>& values, bool include_zero, bool tight = false);

  // Log10: whole decades enclosing the positive finite values ([1, 10] when there are none).
  static Scale Log(const std::vector<double>& values);

  // Where lo_ and hi_ land (for a y axis: px_lo is the bottom).
  Scale& Pixels(double px_lo, double px_hi) {
    px_lo_ = px_lo;
    px_hi_ = px_hi;
    return *this;
  }

  // Pixel position of v, clamped into the range; NaN maps to lo, +-inf to the ends.
  double operator()(double v) const;

  std::vector<double> Ticks() const;

  bool log() const { return log_; }
  double lo() const { return lo_; }
  double hi() const { return hi_; }

 private:
  static double NiceStep(double raw);

  bool log_ = false;
  double lo_ = 0.0;
  double hi_ = 1.0;
  double step_ = 1.0;
  int lo_exp_ = 0;
  int hi_exp_ = 1;
  double px_lo_ = 0.0;
  double px_hi_ = 1.0;
};

}  // namespace sinkscope::analysis::svg

#endif  // SINKSCOPE_REPORT_SVG_SCALE_H_
