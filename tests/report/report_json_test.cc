// ReportJson against protobuf's own JSON parser (the independent oracle): every message it writes
// parses back, through google::protobuf::util::JsonStringToMessage, into exactly the message that
// was written (every value equal; floating point bit for bit, NaN as NaN). Messages: every sinkscope.v1.Report body,
// filled field by field through reflection with random values, including the awkward ones
// (NaN, +-Infinity, denormals, extreme magnitudes, int64 extremes, control characters and
// non-ASCII text in strings, empty repeated fields and maps). Plus the layout promises: one line
// per repeated scalar field, snake_case names, int64 as strings.
#include "report/report_json.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/field_comparator.h>
#include <google/protobuf/util/message_differencer.h>

#include "gtest/gtest.h"
#include "proto/sinkscope.pb.h"

namespace sinkscope::analysis {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

class RandomFiller {
 public:
  explicit RandomFiller(uint32_t seed) : rng_(seed) {}

  void Fill(Message* m, int depth) {
    const auto* d = m->GetDescriptor();
    const Reflection* r = m->GetReflection();
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      if (f->containing_oneof() != nullptr && r->HasOneof(*m, f->containing_oneof())) continue;
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !f->is_map()) {
        if (depth > 4 || Coin(0.3)) continue;  // unset messages stay unset
        if (f->is_repeated()) {
          const int n = Count();
          for (int k = 0; k < n; ++k) Fill(r->AddMessage(m, f), depth + 1);
        } else {
          Fill(r->MutableMessage(m, f), depth + 1);
        }
        continue;
      }
      if (f->is_map()) {
        const int n = Count();
        for (int k = 0; k < n; ++k) {
          Message* entry = r->AddMessage(m, f);
          const auto* ed = entry->GetDescriptor();
          entry->GetReflection()->SetString(entry, ed->map_key(), "key" + std::to_string(k));
          SetScalar(entry, ed->map_value());
        }
        continue;
      }
      if (f->is_repeated()) {
        const int n = Count();
        for (int k = 0; k < n; ++k) AddScalar(m, f);
      } else if (f->containing_oneof() == nullptr || Coin(0.5)) {
        SetScalar(m, f);
      }
    }
  }

 private:
  bool Coin(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  int Count() { return std::uniform_int_distribution<int>(0, 5)(rng_); }

  double Double() {
    static const double kSpecial[] = {std::numeric_limits<double>::quiet_NaN(),
                                      std::numeric_limits<double>::infinity(),
                                      -std::numeric_limits<double>::infinity(),
                                      // (not -0.0: written "-0" as protobuf's printer does, but
                                      // protobuf's parser reads "-0" back as +0)
                                      0.0,
                                      std::numeric_limits<double>::denorm_min(),
                                      std::numeric_limits<double>::max(),
                                      -std::numeric_limits<double>::min(),
                                      0.1,
                                      1e21,
                                      123456789.125};
    if (Coin(0.3)) return kSpecial[std::uniform_int_distribution<int>(0, 9)(rng_)];
    const double mant = std::uniform_real_distribution<double>(-1, 1)(rng_);
    return std::ldexp(mant, std::uniform_int_distribution<int>(-60, 60)(rng_));
  }
  float Float() {
    if (Coin(0.2)) return std::numeric_limits<float>::denorm_min();
    return static_cast<float>(Double());
  }
  int64_t Int64() {
    if (Coin(0.2)) return Coin(0.5) ? std::numeric_limits<int64_t>::max()
                                    : std::numeric_limits<int64_t>::min();
    return std::uniform_int_distribution<int64_t>(-1000000, 1000000)(rng_);
  }
  std::string Text() {
    static const char* kTexts[] = {"", "plain", "quote \" backslash \\ slash /",
                                   "tab\tnewline\ncr\r", "ctrl \x01\x1f end",
                                   "\xc3\xa9t\xc3\xa9 \xe6\xbc\xa2\xe5\xad\x97 \xf0\x9f\x98\x80",
                                   "<html> & 'x'"};
    return kTexts[std::uniform_int_distribution<int>(0, 6)(rng_)];
  }

  template <typename Set>
  void Scalar(const FieldDescriptor* f, Set set) {
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        set.i32(static_cast<int32_t>(Int64() % 2147483647));
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        set.u32(static_cast<uint32_t>(std::llabs(Int64() % 4294967295LL)));
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        set.i64(Int64());
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        set.u64(static_cast<uint64_t>(Int64()));
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        set.d(Double());
        break;
      case FieldDescriptor::CPPTYPE_FLOAT:
        set.f(Float());
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        set.b(Coin(0.5));
        break;
      case FieldDescriptor::CPPTYPE_ENUM: {
        const auto* e = f->enum_type();
        set.e(e->value(std::uniform_int_distribution<int>(0, e->value_count() - 1)(rng_))->number());
        break;
      }
      case FieldDescriptor::CPPTYPE_STRING:
        set.s(Text());
        break;
      case FieldDescriptor::CPPTYPE_MESSAGE:
        break;
    }
  }

  void SetScalar(Message* m, const FieldDescriptor* f) {
    const Reflection* r = m->GetReflection();
    struct {
      Message* m;
      const Reflection* r;
      const FieldDescriptor* f;
      void i32(int32_t v) { r->SetInt32(m, f, v); }
      void u32(uint32_t v) { r->SetUInt32(m, f, v); }
      void i64(int64_t v) { r->SetInt64(m, f, v); }
      void u64(uint64_t v) { r->SetUInt64(m, f, v); }
      void d(double v) { r->SetDouble(m, f, v); }
      void f_(float v) { r->SetFloat(m, f, v); }
      void b(bool v) { r->SetBool(m, f, v); }
      void e(int v) { r->SetEnumValue(m, f, v); }
      void s(const std::string& v) { r->SetString(m, f, v); }
    } set{m, r, f};
    Scalar(f, Adapter<decltype(set)>{&set});
  }
  void AddScalar(Message* m, const FieldDescriptor* f) {
    const Reflection* r = m->GetReflection();
    struct {
      Message* m;
      const Reflection* r;
      const FieldDescriptor* f;
      void i32(int32_t v) { r->AddInt32(m, f, v); }
      void u32(uint32_t v) { r->AddUInt32(m, f, v); }
      void i64(int64_t v) { r->AddInt64(m, f, v); }
      void u64(uint64_t v) { r->AddUInt64(m, f, v); }
      void d(double v) { r->AddDouble(m, f, v); }
      void f_(float v) { r->AddFloat(m, f, v); }
      void b(bool v) { r->AddBool(m, f, v); }
      void e(int v) { r->AddEnumValue(m, f, v); }
      void s(const std::string& v) { r->AddString(m, f, v); }
    } add{m, r, f};
    Scalar(f, Adapter<decltype(add)>{&add});
  }
  template <typename T>
  struct Adapter {
    T* t;
    void i32(int32_t v) { t->i32(v); }
    void u32(uint32_t v) { t->u32(v); }
    void i64(int64_t v) { t->i64(v); }
    void u64(uint64_t v) { t->u64(v); }
    void d(double v) { t->d(v); }
    void f(float v) { t->f_(v); }
    void b(bool v) { t->b(v); }
    void e(int v) { t->e(v); }
    void s(const std::string& v) { t->s(v); }
  };

  std::mt19937 rng_;
};

TEST(ReportJsonTest, ProtobufsParserReadsBackEveryBodyExactly) {
  const auto* oneof = v1::Report::descriptor()->FindOneofByName("body");
  ASSERT_NE(oneof, nullptr);
  int checked = 0;
  for (int body = 0; body < oneof->field_count(); ++body) {
    for (uint32_t seed = 1; seed <= 40; ++seed) {
      v1::Report report;
      RandomFiller filler(seed * 131 + static_cast<uint32_t>(body));
      // This body first (so the oneof holds it), then everything else.
      const Reflection* r = report.GetReflection();
      filler.Fill(r->MutableMessage(&report, oneof->field(body)), 1);
      filler.Fill(&report, 0);
      const std::string json = ReportJson(report);
      v1::Report back;
      google::protobuf::util::JsonParseOptions options;
      const auto st = google::protobuf::util::JsonStringToMessage(json, &back, options);
      ASSERT_TRUE(st.ok()) << st.ToString() << "\n" << json.substr(0, 2000);
      // Exact equality of every value (floats bit for bit but NaN == NaN: the parser's NaN
      // may carry another sign bit).
      google::protobuf::util::DefaultFieldComparator exact;
      exact.set_float_comparison(google::protobuf::util::DefaultFieldComparator::EXACT);
      exact.set_treat_nan_as_equal(true);
      google::protobuf::util::MessageDifferencer diff;
      diff.set_field_comparator(&exact);
      std::string why;
      diff.ReportDifferencesToString(&why);
      ASSERT_TRUE(diff.Compare(report, back))
          << "body " << oneof->field(body)->name() << " seed " << seed << ": " << why;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 40 * oneof->field_count());
}

TEST(ReportJsonTest, LayoutAndMapping) {
  v1::Report report;
  report.mutable_provenance()->set_tool("weight_scan");
  (*report.mutable_provenance()->mutable_config())["threads"] = "2";
  v1::TensorReport* t = report.mutable_weight_report()->add_tensors();
  t->set_name("model.layers.0.mlp.down_proj.weight");
  t->add_shape(896);
  t->add_shape(4864);
  const std::string json = ReportJson(report);
  // snake_case names, int64 as strings, a repeated scalar on one line, empty repeated as [].
  EXPECT_NE(json.find("\"weight_report\": {"), std::string::npos) << json;
  EXPECT_NE(json.find("\"shape\": [\"896\", \"4864\"]"), std::string::npos) << json;
  EXPECT_NE(json.find("\"sink_logits\": []"), std::string::npos) << json;
  EXPECT_NE(json.find("\"config\": {\n   \"threads\": \"2\"\n  }"), std::string::npos) << json;
  // Unset messages are absent; the unset oneof members too.
  EXPECT_EQ(json.find("activation_report"), std::string::npos);
  // The same field names and values as protobuf's own printer (always_print_primitive_fields,
  // preserve_proto_field_names), whitespace aside.
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  o.always_print_primitive_fields = true;
  std::string theirs;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(report, &theirs, o).ok());
  const auto strip = [](const std::string& s) {
    std::string out;
    bool in_string = false;
    for (size_t i = 0; i < s.size(); ++i) {
      const char c = s[i];
      if (c == '"' && (i == 0 || s[i - 1] != '\\')) in_string = !in_string;
      if (in_string || (c != ' ' && c != '\n')) out += c;
    }
    return out;
  };
  EXPECT_EQ(strip(json), strip(theirs));
}

}  // namespace
}  // namespace sinkscope::analysis
