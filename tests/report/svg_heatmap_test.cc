// Tests of the SVG toolkit's value heatmap (report/svg_heatmap.h): the colour scale maps the
// smallest finite value to its light end and the largest to its dark end, monotonically; every
// cell carries its value (one decimal by default) in a colour readable on its fill; +inf is
// "exact" with the top colour, NaN a grey cell; labels are escaped and long column labels
// rotated.
#include "report/svg_heatmap.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "report/svg_color.h"

namespace sinkscope::analysis::svg {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

int Count(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

// The value of attribute `name` of the element that holds the <title>tooltip</title>.
std::string AttributeOfTitled(const std::string& svg, const std::string& tooltip,
                              const std::string& name) {
  const size_t title = svg.find(absl::StrCat("><title>", tooltip, "</title>"));
  if (title == std::string::npos) return "";
  const size_t open = svg.rfind('<', title);
  const std::string element = svg.substr(open, title - open);
  const size_t at = element.find(absl::StrCat(" ", name, "=\""));
  if (at == std::string::npos) return "";
  const size_t begin = at + name.size() + 3;
  return element.substr(begin, element.find('"', begin) - begin);
}

// Perceived brightness of "#rrggbb" in [0, 1].
double Brightness(const std::string& hex) {
  unsigned r = 0, g = 0, b = 0;
  EXPECT_EQ(std::sscanf(hex.c_str(), "#%02x%02x%02x", &r, &g, &b), 3) << hex;
  return (0.299 * r + 0.587 * g + 0.114 * b) / 255.0;
}

ValueHeatmapSpec OneRow(const std::vector<double>& values) {
  ValueHeatmapSpec spec;
  spec.title = "SQNR by configuration";
  spec.row_labels = {"vanilla"};
  for (size_t c = 0; c < values.size(); ++c) spec.col_labels.push_back(absl::StrCat("c", c));
  spec.values = values;
  spec.value_label = "SQNR dB";
  return spec;
}

TEST(ValueColorScaleTest, FiniteRangeFromLightToDark) {
  const ValueColorScale s = ValueColorScale::Over({12.5, kInf, 3.0, kNaN, 9.0, -kInf});
  EXPECT_EQ(s.lo, 3.0);
  EXPECT_EQ(s.hi, 12.5);
  EXPECT_EQ(s.T(3.0), ValueColorScale::kLowT);
  EXPECT_EQ(s.T(12.5), 1.0);
  EXPECT_EQ(s.T(kInf), 1.0);
  EXPECT_TRUE(std::isnan(s.T(kNaN)));
  EXPECT_TRUE(std::isnan(s.T(-kInf)));
  EXPECT_EQ(s.Color(3.0), SequentialColor(ValueColorScale::kLowT));
  EXPECT_EQ(s.Color(kInf), SequentialColor(1.0));
  EXPECT_EQ(s.Color(kNaN), kMissingColor);
  double previous = -1.0;
  for (double v = 3.0; v <= 12.5; v += 0.5) {
    EXPECT_GT(s.T(v), previous) << v;
    previous = s.T(v);
  }
  // No finite value: [0, 1]; all equal: one colour, the top one.
  EXPECT_EQ(ValueColorScale::Over({kInf, kNaN}).hi, 1.0);
  EXPECT_EQ(ValueColorScale::Over({4.0, 4.0}).T(4.0), 1.0);
}

TEST(ValueHeatmapTest, CellsCarryValuesAndColourGrowsWithValue) {
  const std::vector<double> values = {21.25, 3.0, 40.0, 12.0, 33.3};
  const std::string svg = ValueHeatmap(OneRow(values));
  EXPECT_EQ(svg.rfind("<svg class=\"chart\" data-chart=\"value-heatmap\"", 0), 0u);
  EXPECT_NE(svg.find("><title>SQNR by configuration</title>"), std::string::npos);
  for (const char* text : {">21.2<", ">3.0<", ">40.0<", ">12.0<", ">33.3<"}) {
    EXPECT_NE(svg.find(text), std::string::npos) << text;
  }
  const ValueColorScale scale = ValueColorScale::Over(values);
  // The smallest value takes the scale's light end, the largest its dark end.
  const std::string min_fill = AttributeOfTitled(svg, "vanilla / c1: 3.0", "fill");
  const std::string max_fill = AttributeOfTitled(svg, "vanilla / c2: 40.0", "fill");
  EXPECT_EQ(min_fill, SequentialColor(ValueColorScale::kLowT));
  EXPECT_EQ(min_fill, scale.Color(3.0));
  EXPECT_EQ(max_fill, SequentialColor(1.0));
  EXPECT_NE(min_fill, max_fill);
  // Monotonic: darker as the value grows.
  const std::vector<std::string> by_value = {"vanilla / c1: 3.0", "vanilla / c3: 12.0",
                                             "vanilla / c0: 21.2", "vanilla / c4: 33.3",
                                             "vanilla / c2: 40.0"};
  double previous = 2.0;
  for (const std::string& tooltip : by_value) {
    const std::string fill = AttributeOfTitled(svg, tooltip, "fill");
    ASSERT_FALSE(fill.empty()) << tooltip;
    EXPECT_LT(Brightness(fill), previous) << tooltip << " " << fill;
    previous = Brightness(fill);
  }
  // Readable text: dark on the lightest cell, light on the darkest.
  EXPECT_NE(svg.find("style=\"fill:#111111;font-size:10.5px\">3.0<"), std::string::npos);
  EXPECT_NE(svg.find("style=\"fill:#ffffff;font-size:10.5px\">40.0<"), std::string::npos);
  // The legend gives the range.
  EXPECT_NE(svg.find(">SQNR dB:<"), std::string::npos);
  EXPECT_NE(svg.find(">3.0</text><rect"), std::string::npos);
}

TEST(ValueHeatmapTest, InfiniteIsExactAtTheTopColourAndNaNIsMissing) {
  const std::string svg = ValueHeatmap(OneRow({10.0, kInf, kNaN, 20.0}));
  EXPECT_NE(svg.find(">exact<"), std::string::npos);
  EXPECT_EQ(AttributeOfTitled(svg, "vanilla / c1: exact", "fill"), SequentialColor(1.0));
  EXPECT_EQ(AttributeOfTitled(svg, "vanilla / c2: no value", "fill"), kMissingColor);
  EXPECT_NE(svg.find(">exact (+∞)<"), std::string::npos);  // legend swatch
  EXPECT_NE(svg.find(">no value<"), std::string::npos);
  for (const char* bad : {"nan", "inf\"", "=\"inf"}) {
    EXPECT_EQ(svg.find(bad), std::string::npos) << bad;
  }
}

TEST(ValueHeatmapTest, FormatterSharedScaleLabels) {
  ValueHeatmapSpec spec = OneRow({9.0, 1.5});
  spec.row_labels = {"<&>"};
  spec.col_labels = {"per-channel/token kv8 keep4", "per-tensor kv8 keep0"};
  spec.format = [](double v) { return absl::StrFormat("%.2f dB", v); };
  spec.colors = ValueColorScale{0.0, 18.0};
  const std::string svg = ValueHeatmap(spec);
  EXPECT_NE(svg.find(">9.00 dB<"), std::string::npos);
  EXPECT_NE(svg.find("&lt;&amp;&gt;"), std::string::npos);
  EXPECT_EQ(svg.find("<&>"), std::string::npos);
  EXPECT_EQ(Count(svg, "rotate(-40"), 2);  // column labels wider than a cell
  EXPECT_EQ(AttributeOfTitled(svg, "<&> / per-channel/token kv8 keep4: 9.00 dB", "fill"), "");
  EXPECT_EQ(AttributeOfTitled(svg, "&lt;&amp;&gt; / per-channel/token kv8 keep4: 9.00 dB", "fill"),
            SequentialColor(ValueColorScale::kLowT + (1.0 - ValueColorScale::kLowT) * 0.5));
}

TEST(ValueHeatmapTest, RowsTimesColumnsCellsAndNothingWhenEmpty) {
  ValueHeatmapSpec spec;
  spec.row_labels = {"layer 0", "layer 1", "layer 2"};
  spec.col_labels = {"a", "b"};
  spec.values = {1, 2, 3, 4};  // short: the rest is missing
  const std::string svg = ValueHeatmap(spec);
  EXPECT_EQ(Count(svg, " stroke=\"#fff\" stroke-width=\"1\""), 6);
  EXPECT_EQ(Count(svg, ": no value</title>"), 2);
  EXPECT_EQ(Count(svg, "rotate("), 0);  // short column labels stay horizontal
  spec.row_labels.clear();
  EXPECT_EQ(ValueHeatmap(spec), "");
}

}  // namespace
}  // namespace sinkscope::analysis::svg
