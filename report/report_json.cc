#include "report/report_json.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>

namespace sinkscope::analysis {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(*out) {}

  void WriteMessage(const Message& m, int depth) {
    const Descriptor* d = m.GetDescriptor();
    const Reflection* r = m.GetReflection();
    out_ += '{';
    bool first = true;
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      if (!Printed(m, r, f)) continue;
      out_ += first ? "\n" : ",\n";
      first = false;
      Indent(depth + 1);
      String(f->name());
      out_ += ": ";
      if (f->is_map()) {
        WriteMap(m, r, f, depth + 1);
      } else if (f->is_repeated()) {
        WriteRepeated(m, r, f, depth + 1);
      } else {
        WriteSingular(m, r, f, depth + 1);
      }
    }
    if (!first) {
      out_ += '\n';
      Indent(depth);
    }
    out_ += '}';
  }

 private:
  // Messages only when set; oneof members only the one set; fields with explicit presence
  // (proto3 optional) only when set; every other scalar and every repeated field always.
  static bool Printed(const Message& m, const Reflection* r, const FieldDescriptor* f) {
    if (f->is_repeated()) return true;
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) return r->HasField(m, f);
    if (f->containing_oneof() != nullptr || f->has_presence()) return r->HasField(m, f);
    return true;
  }

  void Indent(int depth) { out_.append(static_cast<size_t>(depth), ' '); }

  void WriteRepeated(const Message& m, const Reflection* r, const FieldDescriptor* f, int depth) {
    const int n = r->FieldSize(m, f);
    if (n == 0) {
      out_ += "[]";
      return;
    }
    if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
      // Scalars on one line.
      out_ += '[';
      for (int i = 0; i < n; ++i) {
        if (i > 0) out_ += ", ";
        WriteRepeatedScalar(m, r, f, i);
      }
      out_ += ']';
      return;
    }
    out_ += "[\n";
    for (int i = 0; i < n; ++i) {
      if (i > 0) out_ += ",\n";
      Indent(depth + 1);
      WriteMessage(r->GetRepeatedMessage(m, f, i), depth + 1);
    }
    out_ += '\n';
    Indent(depth);
    out_ += ']';
  }

  void WriteMap(const Message& m, const Reflection* r, const FieldDescriptor* f, int depth) {
    const int n = r->FieldSize(m, f);
    if (n == 0) {
      out_ += "{}";
      return;
    }
    const FieldDescriptor* key = f->message_type()->map_key();
    const FieldDescriptor* value = f->message_type()->map_value();
    out_ += "{\n";
    for (int i = 0; i < n; ++i) {
      const Message& entry = r->GetRepeatedMessage(m, f, i);
      const Reflection* er = entry.GetReflection();
      if (i > 0) out_ += ",\n";
      Indent(depth + 1);
      if (key->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
        String(er->GetString(entry, key));
      } else {
        // JSON object keys are strings: the number (or bool) in quotes.
        out_ += '"';
        WriteSingularScalar(entry, er, key, /*quote_64=*/false);
        out_ += '"';
      }
      out_ += ": ";
      WriteSingular(entry, er, value, depth + 1);
    }
    out_ += '\n';
    Indent(depth);
    out_ += '}';
  }

  void WriteSingular(const Message& m, const Reflection* r, const FieldDescriptor* f, int depth) {
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      WriteMessage(r->GetMessage(m, f), depth);
    } else {
      WriteSingularScalar(m, r, f, /*quote_64=*/true);
    }
  }

  void WriteSingularScalar(const Message& m, const Reflection* r, const FieldDescriptor* f,
                           bool quote_64) {
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        Integer(r->GetInt32(m, f), false);
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        Integer(r->GetUInt32(m, f), false);
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        Integer(r->GetInt64(m, f), quote_64);
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        Integer(r->GetUInt64(m, f), quote_64);
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        Floating(r->GetDouble(m, f));
        break;
      case FieldDescriptor::CPPTYPE_FLOAT:
        Floating(r->GetFloat(m, f));
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        out_ += r->GetBool(m, f) ? "true" : "false";
        break;
      case FieldDescriptor::CPPTYPE_ENUM:
        Enum(r->GetEnum(m, f), r->GetEnumValue(m, f));
        break;
      case FieldDescriptor::CPPTYPE_STRING:
        StringOrBytes(f, r->GetString(m, f));
        break;
      case FieldDescriptor::CPPTYPE_MESSAGE:
        break;
    }
  }

  void WriteRepeatedScalar(const Message& m, const Reflection* r, const FieldDescriptor* f,
                           int i) {
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        Integer(r->GetRepeatedInt32(m, f, i), false);
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        Integer(r->GetRepeatedUInt32(m, f, i), false);
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        Integer(r->GetRepeatedInt64(m, f, i), true);
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        Integer(r->GetRepeatedUInt64(m, f, i), true);
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        Floating(r->GetRepeatedDouble(m, f, i));
        break;
      case FieldDescriptor::CPPTYPE_FLOAT:
        Floating(r->GetRepeatedFloat(m, f, i));
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        out_ += r->GetRepeatedBool(m, f, i) ? "true" : "false";
        break;
      case FieldDescriptor::CPPTYPE_ENUM:
        Enum(r->GetRepeatedEnum(m, f, i), r->GetRepeatedEnumValue(m, f, i));
        break;
      case FieldDescriptor::CPPTYPE_STRING:
        StringOrBytes(f, r->GetRepeatedString(m, f, i));
        break;
      case FieldDescriptor::CPPTYPE_MESSAGE:
        break;
    }
  }

  template <typename T>
  void Integer(T v, bool quoted) {
    char buf[24];
    const auto res = std::to_chars(buf, buf + sizeof(buf), v);
    if (quoted) out_ += '"';
    out_.append(buf, res.ptr);
    if (quoted) out_ += '"';
  }

  // Shortest round-trip decimal; non-finite values as the proto3 JSON strings.
  template <typename T>
  void Floating(T v) {
    if (std::isnan(v)) {
      out_ += "\"NaN\"";
      return;
    }
    if (std::isinf(v)) {
      out_ += v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
      return;
    }
    char buf[40];
    const auto res = std::to_chars(buf, buf + sizeof(buf), v);
    out_.append(buf, res.ptr);
  }

  void Enum(const EnumValueDescriptor* e, int number) {
    if (e != nullptr && e->number() == number) {
      String(e->name());
    } else {
      Integer(number, false);  // an unknown value (open enum): its number
    }
  }

  void StringOrBytes(const FieldDescriptor* f, const std::string& s) {
    if (f->type() == FieldDescriptor::TYPE_BYTES) {
      Base64(s);
    } else {
      String(s);
    }
  }

  void String(std::string_view s) {
    out_ += '"';
    size_t start = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(s[i]);
      const char* esc = nullptr;
      char ubuf[8];
      switch (c) {
        case '"':
          esc = "\\\"";
          break;
        case '\\':
          esc = "\\\\";
          break;
        case '\n':
          esc = "\\n";
          break;
        case '\r':
          esc = "\\r";
          break;
        case '\t':
          esc = "\\t";
          break;
        case '\b':
          esc = "\\b";
          break;
        case '\f':
          esc = "\\f";
          break;
        default:
          if (c < 0x20) {
            static const char kHex[] = "0123456789abcdef";
            ubuf[0] = '\\';
            ubuf[1] = 'u';
            ubuf[2] = '0';
            ubuf[3] = '0';
            ubuf[4] = kHex[c >> 4];
            ubuf[5] = kHex[c & 15];
            ubuf[6] = 0;
            esc = ubuf;
          }
          break;
      }
      if (esc != nullptr) {
        out_.append(s.data() + start, i - start);
        out_ += esc;
        start = i + 1;
      }
    }
    out_.append(s.data() + start, s.size() - start);
    out_ += '"';
  }

  void Base64(std::string_view s) {
    static const char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    out_ += '"';
    size_t i = 0;
    for (; i + 2 < s.size(); i += 3) {
      const uint32_t v = (static_cast<uint8_t>(s[i]) << 16) |
                         (static_cast<uint8_t>(s[i + 1]) << 8) | static_cast<uint8_t>(s[i + 2]);
      out_ += kAlphabet[v >> 18];
      out_ += kAlphabet[(v >> 12) & 63];
      out_ += kAlphabet[(v >> 6) & 63];
      out_ += kAlphabet[v & 63];
    }
    if (i < s.size()) {
      uint32_t v = static_cast<uint8_t>(s[i]) << 16;
      if (i + 1 < s.size()) v |= static_cast<uint8_t>(s[i + 1]) << 8;
      out_ += kAlphabet[v >> 18];
      out_ += kAlphabet[(v >> 12) & 63];
      out_ += i + 1 < s.size() ? kAlphabet[(v >> 6) & 63] : '=';
      out_ += '=';
    }
    out_ += '"';
  }

  std::string& out_;
};

}  // namespace

std::string ReportJson(const google::protobuf::Message& message) {
  std::string out;
  // A scan report's JSON is 2-3x its binary encoding (numbers as text, names, indentation).
  out.reserve(message.ByteSizeLong() * 3 + 1024);
  JsonWriter(&out).WriteMessage(message, 0);
  out += '\n';
  return out;
}

}  // namespace sinkscope::analysis
