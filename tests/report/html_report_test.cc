// Tests of RenderHtmlReport: every body kind renders a self-contained page (no script, no URL),
// with one chart of each kind per source, escaped strings, balanced SVG and no non-finite number
// in any SVG coordinate, also when the report itself holds NaN and Inf.
#include "report/html_report.h"

#include <cctype>
#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "proto/sinkscope.pb.h"

namespace sinkscope::analysis {
namespace {

namespace v1 = ::sinkscope::v1;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr char kNasty[] = "<&>\"";

int Count(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

int Charts(const std::string& html, const std::string& kind) {
  return Count(html, absl::StrCat("data-chart=\"", kind, "\""));
}

// What every page must satisfy.
void ExpectWellFormed(const std::string& html) {
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("</html>"), std::string::npos);
  for (const char* banned : {"http://", "https://", "<script", "src=", "url(", "@import"}) {
    EXPECT_EQ(absl::AsciiStrToLower(html).find(banned), std::string::npos) << banned;
  }
  EXPECT_EQ(html.find(kNasty), std::string::npos) << "unescaped report string";
  EXPECT_EQ(Count(html, "<svg"), Count(html, "</svg>"));
  // Every chart: class, kind and a <title> first.
  EXPECT_EQ(Count(html, "<svg"), Count(html, "<svg class=\"chart\" data-chart=\""));
  for (size_t pos = html.find("<svg"); pos != std::string::npos; pos = html.find("<svg", pos + 1)) {
    const size_t end = html.find('>', pos);
    ASSERT_NE(end, std::string::npos);
    EXPECT_EQ(html.compare(end + 1, 7, "<title>"), 0) << html.substr(pos, end - pos + 1);
  }
  // No non-finite value in a coordinate or length: every name="value" attribute with one of
  // these names (preceded by white space) is checked.
  const std::set<std::string> coordinates = {"points", "d",  "x",  "y",     "x1",     "y1",
                                             "x2",     "y2", "cx", "cy",    "r",      "width",
                                             "height", "viewBox"};
  int attributes = 0;
  for (size_t eq = html.find("=\""); eq != std::string::npos; eq = html.find("=\"", eq + 2)) {
    size_t start = eq;
    while (start > 0 && (std::isalnum(static_cast<unsigned char>(html[start - 1])) ||
                         html[start - 1] == '-')) {
      --start;
    }
    if (start == 0 || !std::isspace(static_cast<unsigned char>(html[start - 1]))) continue;
    const std::string name = html.substr(start, eq - start);
    if (coordinates.count(name) == 0) continue;
    const size_t close = html.find('"', eq + 2);
    ASSERT_NE(close, std::string::npos);
    const std::string value = absl::AsciiStrToLower(html.substr(eq + 2, close - eq - 2));
    ++attributes;
    EXPECT_EQ(value.find("nan"), std::string::npos) << name << "=\"" << value << "\"";
    EXPECT_EQ(value.find("inf"), std::string::npos) << name << "=\"" << value << "\"";
  }
  if (Count(html, "<svg") > 0) {
    EXPECT_GT(attributes, 0);
  }
}

void FillProvenance(v1::Report* r) {
  v1::Provenance* p = r->mutable_provenance();
  p->set_tool("html_report_test");
  p->set_version("0.1.0");
  p->set_time("2024-05-01T12:00:00Z");
  p->set_cpu_isa("avx2");
  p->set_onednn_version("2.6.3");
  p->add_command_line("html_report_test");
  p->add_command_line(absl::StrCat("--name=", kNasty));
  p->set_git_commit("abc123");
  (*p->mutable_config())["name"] = kNasty;
}

void AddError(const std::string& name, double sqnr_db, v1::QuantError* e) {
  e->set_name(name);
  e->set_sqnr_db(sqnr_db);
  e->set_cosine(0.99);
}

void FillProfile(int channels, int spike, v1::OutlierProfile* o) {
  for (int c = 0; c < channels; ++c) o->add_channel_abs_max(c == spike ? 900.0 : 1.0 + c % 5);
  v1::IndexProfile* top = o->add_top_channels();
  top->set_index(spike);
  top->set_abs_max(900.0);
}

v1::Report WeightReport(int tensors) {
  v1::Report r;
  FillProvenance(&r);
  v1::WeightReport* w = r.mutable_weight_report();
  w->set_checkpoint(absl::StrCat("/ckpt/", kNasty));
  for (int i = 0; i < tensors; ++i) {
    v1::TensorReport* t = w->add_tensors();
    t->set_name(i == 1 ? kNasty : absl::StrCat("model.layers.", i, ".mlp.down_proj.weight"));
    t->add_shape(64);
    t->add_shape(32);
    t->set_dtype("BF16");
    t->mutable_summary()->set_abs_max(i == 2 ? kInf : 3.0 + i);
    t->mutable_summary()->set_median_abs(0.1);
    t->mutable_summary()->set_abs_max_over_median(i == 2 ? kNaN : 30.0 + i);
    t->mutable_summary()->set_kurtosis(3.0);
    FillProfile(32, i % 32, t->mutable_outliers());
    AddError("int8 per-tensor", 30.0 - i, t->add_quant_errors());
    AddError("int8 per-channel", i == 0 ? kInf : 40.0 - i, t->add_quant_errors());
    AddError(kNasty, i == 2 ? kNaN : 10.0, t->add_quant_errors());
  }
  w->mutable_total()->set_count(3 * 64 * 32);
  w->mutable_total()->set_abs_max(9.0);
  return r;
}

// A causal map with a sink at key 0 (and a NaN cell, which must be drawn grey, not "nan").
void FillMap(int layer, int head, int n, bool slot, v1::AttentionMap* m) {
  m->set_layer(layer);
  m->set_head(head);
  m->set_rows(n);
  m->set_cols(n);
  m->set_pool(1);
  for (int t = 0; t < n; ++t) {
    for (int k = 0; k < n; ++k) {
      const double p = k > t ? 0.0 : t == 0 ? 1.0 : k == 0 ? 0.6 : 0.4 / t;
      m->add_probs(static_cast<float>(t == 3 && k == 1 ? kNaN : p));
    }
    if (slot) m->add_sink_slot_mass(0.25f);
  }
}

void FillActivations(v1::ActivationReport* a) {
  a->set_model(absl::StrCat("model ", kNasty));
  a->set_num_layers(2);
  a->set_num_tokens(8);
  a->set_sink_rate(75.0);
  a->set_sink_epsilon(0.3);
  for (int l = 0; l < 2; ++l) {
    v1::LayerReport* lr = a->add_layers();
    lr->set_layer(l);
    lr->mutable_hidden()->set_abs_max(l == 0 ? 5.0 : 2000.0);
    lr->mutable_hidden()->set_median_abs(0.5);  // used: LayerReport.median_abs is 0
    FillProfile(64, 7, lr->mutable_hidden_outliers());
    for (int h = 0; h < 2; ++h) {
      FillMap(l, h, 8, /*slot=*/l == 1 && h == 1, lr->add_attention());
      v1::HeadSink* hs = lr->add_heads();
      hs->set_layer(l);
      hs->set_head(h);
      hs->set_first_token_mass(0.6);
      hs->set_is_sink(true);
    }
    AddError("per-token", 25.0 + l, lr->add_quant_errors());
    AddError("fp32 sink", kInf, lr->add_quant_errors());
  }
  v1::MassiveActivation* m = a->mutable_layers(1)->add_massive();
  m->set_layer(1);
  m->set_token(0);
  m->set_channel(7);
  m->set_value(-2000.0);
  m->set_ratio(4000.0);
}

void FillReceptiveField(v1::ReceptiveFieldReport* rf) {
  rf->set_pattern("SSF");
  rf->set_layers(3);
  rf->set_window(8);
  rf->set_gaussian_std(5.0);
  rf->set_gaussian_std_rel_error(0.05);
  for (const char* name : {"exact", "gaussian"}) {
    v1::Curve* c = rf->add_curves();
    c->set_name(name);
    for (int d = 0; d < 50; ++d) {
      c->add_distance(d);
      c->add_value(d == 10 ? kNaN : std::exp(-d / 3.0));  // spans > 3 decades: log axis
    }
  }
}

TEST(HtmlReportTest, EmptyReportSaysSo) {
  v1::Report r;
  const std::string html = RenderHtmlReport(r);
  ExpectWellFormed(html);
  EXPECT_NE(html.find("no body"), std::string::npos);
  EXPECT_EQ(Count(html, "<svg"), 0);
}

TEST(HtmlReportTest, ProvenanceIsShownAndEscaped) {
  v1::Report r;
  FillProvenance(&r);
  const std::string html = RenderHtmlReport(r);
  ExpectWellFormed(html);
  for (const char* s : {"html_report_test", "0.1.0", "2024-05-01T12:00:00Z", "avx2", "2.6.3",
                        "abc123", "--name=&lt;&amp;&gt;&quot;"}) {
    EXPECT_NE(html.find(s), std::string::npos) << s;
  }
}

// --text runs: the tokenizer (file, SHA-256, description) and each text file's token counts.
TEST(HtmlReportTest, TextInputIsShown) {
  v1::Report r = WeightReport(1);
  v1::TextInput* t = r.mutable_provenance()->mutable_text_input();
  t->set_tokenizer_file(absl::StrCat("/ckpt/tokenizer.json", kNasty));
  t->set_tokenizer_sha256("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
  t->set_tokenizer("tokenizer.json (BPE, byte-level)");
  t->set_add_special_tokens(true);
  v1::TextFile* f = t->add_files();
  f->set_path("/data/calib.txt");
  f->set_tokens(1234);
  f->set_tokens_used(512);
  const std::string html = RenderHtmlReport(r);
  ExpectWellFormed(html);
  EXPECT_NE(html.find("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
            std::string::npos);
  EXPECT_NE(html.find("/data/calib.txt"), std::string::npos);
  EXPECT_NE(html.find("<td>1234</td>"), std::string::npos);
  EXPECT_NE(html.find("<td>512</td>"), std::string::npos);
  EXPECT_NE(html.find("tokenizer.json (BPE, byte-level)"), std::string::npos);
}

TEST(HtmlReportTest, WeightReport) {
  const std::string html = RenderHtmlReport(WeightReport(3));
  ExpectWellFormed(html);
  EXPECT_NE(html.find("&lt;&amp;&gt;&quot;"), std::string::npos);
  EXPECT_EQ(Charts(html, "quant-error"), 1);
  EXPECT_EQ(Charts(html, "channel-profile"), 3);
  EXPECT_EQ(Charts(html, "heatmap"), 0);
  EXPECT_NE(html.find(">exact<"), std::string::npos);  // the +inf SQNR, capped and labelled
  EXPECT_NE(html.find("64×32"), std::string::npos);     // shape column
  EXPECT_NE(html.find("All scanned tensors merged"), std::string::npos);
}

TEST(HtmlReportTest, ManyTensorsAreCapped) {
  const std::string html = RenderHtmlReport(WeightReport(30));
  ExpectWellFormed(html);
  EXPECT_EQ(Charts(html, "quant-error"), 1);
  EXPECT_EQ(Charts(html, "channel-profile"), 12);
  EXPECT_NE(html.find("The 24 tensors with the lowest SQNR of 30."), std::string::npos);
}

TEST(HtmlReportTest, ActivationReport) {
  v1::Report r;
  FillProvenance(&r);
  FillActivations(r.mutable_activation_report());
  const std::string html = RenderHtmlReport(r);
  ExpectWellFormed(html);
  EXPECT_EQ(Charts(html, "heatmap"), 4);
  EXPECT_EQ(Charts(html, "layer-bars"), 1);
  EXPECT_EQ(Charts(html, "channel-profile"), 2);
  EXPECT_EQ(Charts(html, "quant-error"), 1);
  EXPECT_EQ(Count(html, ">sink</text>"), 1);  // one map has sink-slot mass
  for (const char* s : {"layer 1 head 0", "key position", "query position", "sqrt",
                        "|activation| (log scale)", "layer with massive activations",
                        "Massive activations", "First-token attention mass", "-2e+03",
                        "4e+03", "75 %"}) {
    EXPECT_NE(html.find(s), std::string::npos) << s;
  }
}

TEST(HtmlReportTest, LargeAttentionMapIsPooled) {
  v1::Report r;
  v1::LayerReport* l = r.mutable_activation_report()->add_layers();
  FillMap(0, 0, 300, /*slot=*/true, l->add_attention());
  const std::string html = RenderHtmlReport(r);
  ExpectWellFormed(html);
  EXPECT_EQ(Charts(html, "heatmap"), 1);
  EXPECT_NE(html.find("5×5 pooled"), std::string::npos);  // ceil(300 / 64) = 5: 60 x 60 cells
  EXPECT_LE(Count(html, "<rect"), 60 * 60 + 60 + 200);
}

TEST(HtmlReportTest, ReceptiveFieldReport) {
  v1::Report r;
  FillReceptiveField(r.mutable_receptive_field_report());
  const std::string html = RenderHtmlReport(r);
  ExpectWellFormed(html);
  EXPECT_EQ(Charts(html, "receptive-field"), 1);
  EXPECT_NE(html.find(">exact<"), std::string::npos);
  EXPECT_NE(html.find(">gaussian<"), std::string::npos);
  EXPECT_NE(html.find("(log scale)"), std::string::npos);
  EXPECT_NE(html.find("relative error"), std::string::npos);
}

// The chart <svg> ... </svg> of `kind` number `index` (0-based); "" when there is none.
std::string ChartOf(const std::string& html, const std::string& kind, int index = 0) {
  const std::string open = absl::StrCat("<svg class=\"chart\" data-chart=\"", kind, "\"");
  size_t pos = html.find(open);
  for (int i = 0; i < index && pos != std::string::npos; ++i) pos = html.find(open, pos + 1);
  if (pos == std::string::npos) return "";
  return html.substr(pos, html.find("</svg>", pos) + 6 - pos);
}

// The fill of the heatmap cell whose tooltip is `tooltip`; "" when there is none.
std::string CellFill(const std::string& svg, const std::string& tooltip) {
  const size_t title = svg.find(absl::StrCat("><title>", tooltip, "</title>"));
  if (title == std::string::npos) return "";
  const size_t rect = svg.rfind("<rect ", title);
  const size_t fill = svg.find(" fill=\"", rect);
  if (fill == std::string::npos || fill > title) return "";
  return svg.substr(fill + 7, svg.find('"', fill + 7) - fill - 7);
}

TEST(HtmlReportTest, StudyReport) {
  v1::Report r;
  FillProvenance(&r);
  v1::StudyReport* s = r.mutable_study_report();
  // The report's configuration order is not the rows' order: the columns follow the report.
  for (const char* config : {"W8A8 + fp32 sink KV", "W8A8"}) s->add_configs()->set_name(config);
  const char* variants[] = {"baseline", "softmax1", kNasty};
  for (int v = 0; v < 3; ++v) {
    for (const char* config : {"W8A8", "W8A8 + fp32 sink KV"}) {
      const bool w8a8 = std::string(config) == "W8A8";
      v1::StudyRow* row = s->add_rows();
      row->set_variant(variants[v]);
      row->set_config(config);
      AddError(config, w8a8 ? 20.0 + 5.25 * v : kInf, row->mutable_attention_error());
      for (int l = 0; l < (v < 2 ? 2 : 0); ++l) {  // the third variant has no per-layer errors
        v1::StudyLayerError* le = row->add_layers();
        le->set_layer(l);
        AddError(config, w8a8 ? 18.0 + v + l : 30.0 + l, le->mutable_output());
      }
    }
  }
  FillActivations(s->add_activations());
  FillReceptiveField(s->add_receptive_fields());
  const std::string html = RenderHtmlReport(r);
  ExpectWellFormed(html);
  // SQNR by variant and configuration, then one small map per variant with per-layer errors.
  EXPECT_EQ(Charts(html, "value-heatmap"), 3);
  EXPECT_EQ(Charts(html, "quant-error"), 1);  // the activations' layers only
  EXPECT_EQ(Charts(html, "heatmap"), 4);
  EXPECT_EQ(Charts(html, "layer-bars"), 1);
  EXPECT_EQ(Charts(html, "receptive-field"), 1);
  EXPECT_NE(html.find("softmax1"), std::string::npos);

  const std::string by_variant = ChartOf(html, "value-heatmap");
  ASSERT_FALSE(by_variant.empty());
  EXPECT_NE(by_variant.find("<title>Attention-output SQNR (dB) by variant and configuration"),
            std::string::npos);
  // Values in the cells, one decimal; +inf is "exact".
  for (const char* value : {">20.0<", ">25.2<", ">30.5<", ">exact<"}) {
    EXPECT_NE(by_variant.find(value), std::string::npos) << value;
  }
  EXPECT_EQ(Count(by_variant, ">exact<"), 3);
  // Rows: variants (escaped); columns in the report's configuration order.
  EXPECT_NE(by_variant.find("&lt;&amp;&gt;&quot;"), std::string::npos);
  EXPECT_LT(by_variant.find(">W8A8 + fp32 sink KV</text>"), by_variant.find(">W8A8</text>"));
  // Colour grows with the value: the lowest and highest finite SQNR differ, exact takes the top.
  const std::string low = CellFill(by_variant, "baseline / W8A8: 20.0");
  const std::string high = CellFill(by_variant, "&lt;&amp;&gt;&quot; / W8A8: 30.5");
  const std::string exact = CellFill(by_variant, "baseline / W8A8 + fp32 sink KV: exact");
  ASSERT_FALSE(low.empty());
  ASSERT_FALSE(high.empty());
  EXPECT_NE(low, high);
  EXPECT_EQ(high, exact);
  EXPECT_NE(by_variant.find(">SQNR dB:<"), std::string::npos);  // the legend and its range
  EXPECT_NE(by_variant.find(">20.0</text><rect"), std::string::npos);

  // Per layer: rows are layers, one map per variant that has them.
  const std::string per_layer = ChartOf(html, "value-heatmap", 1);
  EXPECT_NE(per_layer.find("per layer and configuration: baseline"), std::string::npos);
  EXPECT_NE(per_layer.find(">layer 1<"), std::string::npos);
  EXPECT_NE(per_layer.find(">19.0<"), std::string::npos);
  EXPECT_NE(ChartOf(html, "value-heatmap", 2).find("softmax1"), std::string::npos);

  // The rows table is folded under the heatmap.
  const size_t details = html.find("<details><summary>All configurations (6 rows)</summary>");
  ASSERT_NE(details, std::string::npos);
  const size_t details_end = html.find("</details>", details);
  ASSERT_NE(details_end, std::string::npos);
  EXPECT_LT(html.find("data-chart=\"value-heatmap\""), details);
  const std::string folded = html.substr(details, details_end - details);
  EXPECT_NE(folded.find("<th>worst layer dB</th>"), std::string::npos);
  EXPECT_EQ(Count(folded, "<tr>"), 1 + 6);  // header + one per study row
  EXPECT_EQ(folded.find("<svg"), std::string::npos);
}

TEST(HtmlReportTest, QuantDemoReport) {
  v1::Report r;
  v1::QuantDemoReport* q = r.mutable_quant_demo_report();
  for (const char* path : {"oracle", "gemm:jit"}) {
    v1::QuantError* e = q->add_errors();
    AddError("matmul", 18.5, e);
    e->set_path(path);
    e->mutable_scheme()->set_description("int8 per-tensor sym");
    e->mutable_weight_scheme()->set_description("int8 per-channel sym");
  }
  const std::string html = RenderHtmlReport(r);
  ExpectWellFormed(html);
  EXPECT_EQ(Charts(html, "quant-error"), 1);
  EXPECT_NE(html.find("gemm:jit"), std::string::npos);
}

// Non-finite numbers everywhere a chart reads one: the page still has finite coordinates.
TEST(HtmlReportTest, NonFiniteValuesNeverReachCoordinates) {
  v1::Report r;
  v1::ActivationReport* a = r.mutable_activation_report();
  for (double v : {kInf, kNaN, -kInf, 0.0}) {
    v1::LayerReport* l = a->add_layers();
    l->mutable_hidden()->set_abs_max(v);
    l->set_median_abs(v);
    l->mutable_hidden_outliers()->add_channel_abs_max(v);
    l->mutable_hidden_outliers()->add_channel_abs_max(1.0);
    AddError("e", v, l->add_quant_errors());
    v1::AttentionMap* m = l->add_attention();
    m->set_rows(2);
    m->set_cols(2);
    for (int i = 0; i < 3; ++i) m->add_probs(static_cast<float>(v));  // one short
    m->add_sink_slot_mass(static_cast<float>(v));
  }
  const std::string html = RenderHtmlReport(r);
  ExpectWellFormed(html);
  EXPECT_EQ(Charts(html, "heatmap"), 4);
}

}  // namespace
}  // namespace sinkscope::analysis
