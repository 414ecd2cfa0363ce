// html_weights.cc: the weight section: SQNR of the worst tensors, channel profiles of the most
// outlier-heavy ones, the tensor table and the merged summary.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "report/html_common.h"
#include "report/html_sections.h"
#include "report/svg_text.h"

namespace sinkscope::analysis::html_internal {
namespace {

namespace v1 = ::sinkscope::v1;
using svg::DbText;
using svg::Num;
using svg::Shorten;

constexpr double kInf = std::numeric_limits<double>::infinity();

// Display limits: they keep the page small for checkpoints with thousands of tensors.
constexpr int kMaxQuantErrorTensors = 24;  // worst tensors in the weight SQNR chart
constexpr int kMaxChannelProfiles = 12;    // weight tensors with a channel profile chart
constexpr int kMaxTableRows = 2000;

std::string ShapeText(const v1::TensorReport& t) {
  if (t.shape_size() == 0) return "";
  return absl::StrJoin(t.shape(), "×");
}

void AppendSummaryTable(const v1::Summary& s, std::string* out) {
  AppendFields(
      {{"count", absl::StrCat(s.count())},
       {"mean", Num(s.mean())},
       {"std", Num(s.std())},
       {"min / max", absl::StrCat(Num(s.min()), " / ", Num(s.max()))},
       {"abs-max", Num(s.abs_max())},
       {"median |x|", Num(s.median_abs())},
       {"p99 / p99.9 / p99.99 |x|",
        absl::StrCat(Num(s.p99_abs()), " / ", Num(s.p999_abs()), " / ", Num(s.p9999_abs()))},
       {"abs-max / median", Num(s.abs_max_over_median())},
       {"skewness", Num(s.skewness())},
       {"kurtosis (normal: 3)", Num(s.kurtosis())},
       {absl::StrCat("|x - mean| > ", Num(s.k_sigma()), " std"),
        absl::StrCat(s.count_above_k_sigma())},
       {absl::StrCat("|x| >= ", Num(s.llm_int8_threshold()), " (LLM.int8)"),
        absl::StrCat(s.llm_int8_count())},
       {"non-finite", absl::StrCat(s.nonfinite_count())}},
      out);
}

}  // namespace

void AppendWeightReport(const v1::WeightReport& w, std::string* out) {
  *out += "<section><h2>Weights</h2>\n";
  AppendFields({{"checkpoint", w.checkpoint()},
                {"shard", w.shard()},
                {"tensors scanned", absl::StrCat(w.tensors_size())},
                {"tensors in checkpoint",
                 w.tensors_in_checkpoint() > 0 ? absl::StrCat(w.tensors_in_checkpoint()) : ""}},
               out);

  // SQNR of the worst tensors (lowest SQNR first; NaN counts as worst).
  std::vector<int> with_errors;
  for (int i = 0; i < w.tensors_size(); ++i) {
    if (w.tensors(i).quant_errors_size() > 0) with_errors.push_back(i);
  }
  auto worst = [&](int i) {
    double m = kInf;
    for (const v1::QuantError& e : w.tensors(i).quant_errors()) {
      m = std::min(m, std::isnan(e.sqnr_db()) ? -kInf : e.sqnr_db());
    }
    return m;
  };
  std::stable_sort(with_errors.begin(), with_errors.end(),
                   [&](int a, int b) { return worst(a) < worst(b); });
  if (!with_errors.empty()) {
    *out += "<h3>Quantization error</h3>\n";
    if (with_errors.size() > static_cast<size_t>(kMaxQuantErrorTensors)) {
      AppendNote(absl::StrCat("The ", kMaxQuantErrorTensors, " tensors with the lowest SQNR of ",
                              with_errors.size(), "."),
                 out);
      with_errors.resize(kMaxQuantErrorTensors);
    }
    std::vector<LabelledValue> values;
    for (int i : with_errors) {
      for (const v1::QuantError& e : w.tensors(i).quant_errors()) {
        values.push_back({w.tensors(i).name(), ErrorSeriesName(e), e.sqnr_db()});
      }
    }
    AppendCharts({QuantErrorChart("Weight quantization SQNR per tensor", "tensor", values)}, out);
  }

  // Channel profiles of the most outlier-heavy tensors.
  std::vector<int> profiled;
  for (int i = 0; i < w.tensors_size(); ++i) {
    if (w.tensors(i).outliers().channel_abs_max_size() > 0) profiled.push_back(i);
  }
  auto ratio = [&](int i) {
    const double r = w.tensors(i).summary().abs_max_over_median();
    return std::isfinite(r) ? r : -1.0;
  };
  std::stable_sort(profiled.begin(), profiled.end(),
                   [&](int a, int b) { return ratio(a) > ratio(b); });
  if (!profiled.empty()) {
    *out += "<h3>Per-channel magnitude</h3>\n";
    if (profiled.size() > static_cast<size_t>(kMaxChannelProfiles)) {
      AppendNote(absl::StrCat("The ", kMaxChannelProfiles,
                              " tensors with the largest abs-max / median of ", profiled.size(),
                              "."),
                 out);
      profiled.resize(kMaxChannelProfiles);
    }
    std::vector<std::string> charts;
    for (int i : profiled) {
      charts.push_back(ChannelProfileChart(Shorten(w.tensors(i).name(), 60), w.tensors(i).outliers()));
    }
    AppendCharts(charts, out);
  }

  // Tensor table: one SQNR column per error name.
  std::vector<std::string> error_names;
  for (const v1::TensorReport& t : w.tensors()) {
    for (const v1::QuantError& e : t.quant_errors()) {
      const std::string n = ErrorSeriesName(e);
      if (std::find(error_names.begin(), error_names.end(), n) == error_names.end()) {
        error_names.push_back(n);
      }
    }
  }
  std::vector<std::string> header = {"tensor", "shape", "dtype", "abs-max", "median |x|",
                                     "abs-max / median", "kurtosis"};
  for (const std::string& n : error_names) header.push_back(absl::StrCat("SQNR dB: ", n));
  std::vector<std::vector<Cell>> rows;
  for (const v1::TensorReport& t : w.tensors()) {
    if (rows.size() >= static_cast<size_t>(kMaxTableRows)) break;
    const v1::Summary& s = t.summary();
    std::vector<Cell> row = {t.name(),          ShapeText(t),        t.dtype(),
                             Num(s.abs_max()),  Num(s.median_abs()), Num(s.abs_max_over_median()),
                             Num(s.kurtosis())};
    for (const std::string& n : error_names) {
      std::string v;
      for (const v1::QuantError& e : t.quant_errors()) {
        if (ErrorSeriesName(e) == n) v = DbText(e.sqnr_db());
      }
      row.push_back(v);
    }
    rows.push_back(std::move(row));
  }
  if (!rows.empty()) {
    *out += "<h3>Tensors</h3>\n";
    if (w.tensors_size() > kMaxTableRows) {
      AppendNote(absl::StrCat("First ", kMaxTableRows, " of ", w.tensors_size(), " tensors."), out);
    }
    AppendTable(header, rows, out);
  }
  if (w.has_total()) {
    *out += "<h3>All scanned tensors merged</h3>\n";
    AppendSummaryTable(w.total(), out);
  }
  *out += "</section>\n";
}

}  // namespace sinkscope::analysis::html_internal
