// report_equal [--rel_tol=F] [--ignore=FIELD,...] A B: exit 0 when two sinkscope reports (.pb /
// .json / .txtpb) hold the same body, field for field, provenance aside; 1 with the differences
// listed otherwise; 2 on usage errors. Doubles compare exactly (every statistic, every sketch
// bucket) unless --rel_tol allows a relative difference (sums added in another order: quant_eval
// shards); --ignore skips fields by name wherever they occur (e.g. timings: seconds). Prints what
// it compared.
#include <cstdlib>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/field_comparator.h"
#include "google/protobuf/util/message_differencer.h"
#include "report/report_io.h"

namespace {

using google::protobuf::util::MessageDifferencer;

// Ignores fields by name, at any depth.
class IgnoreByName : public MessageDifferencer::IgnoreCriteria {
 public:
  explicit IgnoreByName(std::set<std::string> names) : names_(std::move(names)) {}
  bool IsIgnored(const google::protobuf::Message&, const google::protobuf::Message&,
                 const google::protobuf::FieldDescriptor* field,
                 const std::vector<MessageDifferencer::SpecificField>&) override {
    return names_.count(field->name()) > 0;
  }

 private:
  std::set<std::string> names_;
};

int Usage() {
  std::cerr << "usage: report_equal [--rel_tol=F] [--ignore=FIELD,...] A B\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  double rel_tol = 0.0;
  std::set<std::string> ignore;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (absl::StartsWith(a, "--rel_tol=")) {
      if (!absl::SimpleAtod(a.substr(10), &rel_tol) || rel_tol < 0) return Usage();
    } else if (absl::StartsWith(a, "--ignore=")) {
      for (absl::string_view f : absl::StrSplit(a.substr(9), ',', absl::SkipEmpty())) {
        ignore.insert(std::string(f));
      }
    } else if (absl::StartsWith(a, "--")) {
      return Usage();
    } else {
      files.push_back(a);
    }
  }
  if (files.size() != 2) return Usage();
  sinkscope::v1::Report r[2];
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<sinkscope::v1::Report> read = sinkscope::analysis::ReadReport(files[i]);
    if (!read.ok()) {
      std::cerr << "report_equal: " << read.status().message() << "\n";
      return 1;
    }
    r[i] = *std::move(read);
    r[i].clear_provenance();
  }
  MessageDifferencer d;
  google::protobuf::util::DefaultFieldComparator comparator;
  if (rel_tol > 0) {
    comparator.set_float_comparison(google::protobuf::util::DefaultFieldComparator::APPROXIMATE);
    comparator.SetDefaultFractionAndMargin(rel_tol, 0.0);
    d.set_field_comparator(&comparator);
  }
  if (!ignore.empty()) d.AddIgnoreCriteria(new IgnoreByName(ignore));  // (d owns it)
  std::string diff;
  d.ReportDifferencesToString(&diff);
  if (!d.Compare(r[0], r[1])) {
    std::cout << "report_equal: " << files[0] << " and " << files[1] << " differ:\n"
              << diff.substr(0, 20000);
    return 1;
  }
  std::cout << "report_equal: equal bodies (" << r[0].ByteSizeLong() << " bytes";
  if (r[0].has_weight_report()) {
    const sinkscope::v1::WeightReport& w = r[0].weight_report();
    std::cout << ": " << w.tensors_size() << " tensors, " << w.scanned_bytes()
              << " bytes scanned, total count " << w.total().count() << ", mean "
              << w.total().mean() << ", kurtosis " << w.total().kurtosis() << ", "
              << w.total().sketch().counts_size() << " sketch buckets";
  }
  if (rel_tol > 0) std::cout << "; doubles within " << rel_tol << " relative";
  if (!ignore.empty()) std::cout << "; ignoring " << ignore.size() << " field name(s)";
  std::cout << "); serialized identically: "
            << (r[0].SerializeAsString() == r[1].SerializeAsString() ? "yes" : "no") << "\n";
  return 0;
}
