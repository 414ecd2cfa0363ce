// study_report_check STUDY.pb VARIANT[,VARIANT...] TRAINING_RUNS: the structure and internal
// consistency of a sink_study report written in the default mode (trained tiny models). Exit 0
// when every check holds, 1 (listing each failure) otherwise. Checks:
//  - every variant is a subject (variants, activations and receptive fields in the same order)
//    and has a row for every configuration of the table (>= 12: per-tensor and
//    per-channel/token x KV 8 and 4 bits x keep_sink_kv_fp32 0, 1, 4);
//  - every SQNR is finite and positive, per layer too, and the pooled SQNR lies within the
//    layers' range (a pooled ratio of sums cannot leave it... except that pooling weights layers
//    by their signal: it is checked against [min, max] of the per-layer values);
//  - reported, not asserted (NOTE lines and a count): protecting the sink tokens' KV is not worse
//    than the unprotected configuration of the same granularity and KV width by more than the
//    noise of re-rounding (1 dB), and the finer granularity is not below the coarser one. Both
//    held on the 2-layer, 4-head models of kTrainCodeVersion 1; on the models of issue 17's recipe
//    (massive activations on BOS) the --quick study breaks 12 of the 198 orderings: gated
//    per-channel/token kv8 4.4-4.8 dB below per-tensor, passkey_full / passkey_alternating keep up
//    to 1.8 dB below keep0 and per-channel/token up to 3.6 dB below per-tensor (kv4). These are
//    findings about int8 on such models, left to the end-to-end study (issue 17 parts 2-3);
//  - 4-bit KV costs more than 8-bit KV (same granularity, keep 0);
//    (with the fixed 1/255 P scale of earlier versions per-channel/token was below per-tensor in
//    5 of 60 pairs of the --quick study and 15 of 60 of the default);
//  - the StreamingLLM section ran (window, 1/2/4 sinks + window, full) with finite NLL for
//    every variant (sink_tokens: its learned sinks always in the cache);
//  - the training curves are attached (one run per trained model, with checkpoints);
//  - end to end: every variant has every default whole-model configuration, finite KL, kv8
//    below kv4, and the answer's columns; every variant has a position probe.
#include <cmath>
#include <iostream>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "report/report_io.h"

namespace {

int failures = 0;
void Check(bool ok, const std::string& what) {
  if (!ok) {
    std::cout << "FAIL: " << what << "\n";
    ++failures;
  }
}
int notes = 0, noted = 0;  // orderings checked, orderings that did not hold
void Note(bool ok, const std::string& what) {
  ++notes;
  if (!ok) {
    std::cout << "NOTE: " << what << "\n";
    ++noted;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: study_report_check STUDY.pb VARIANTS TRAINING_RUNS\n";
    return 2;
  }
  absl::StatusOr<sinkscope::v1::Report> r = sinkscope::analysis::ReadReport(argv[1]);
  if (!r.ok()) {
    std::cout << "FAIL: " << r.status() << "\n";
    return 1;
  }
  const sinkscope::v1::StudyReport& s = r->study_report();
  const std::vector<std::string> variants = absl::StrSplit(argv[2], ',');
  Check(s.variants_size() == static_cast<int>(variants.size()),
        absl::StrCat(s.variants_size(), " variants, want ", variants.size()));
  Check(s.activations_size() == s.variants_size(), "one activation report per variant");
  Check(s.receptive_fields_size() == s.variants_size(), "one receptive field per variant");
  Check(s.configs_size() >= 12, absl::StrCat(s.configs_size(), " configurations, want >= 12"));
  std::map<std::tuple<std::string, std::string, int>, std::map<int, double>> by_keep;
  for (size_t i = 0; i < variants.size() && i < static_cast<size_t>(s.variants_size()); ++i) {
    const sinkscope::v1::StudyVariant& v = s.variants(i);
    Check(v.name() == variants[i], absl::StrCat("variant ", i, " is ", v.name()));
    for (const sinkscope::v1::StudyQuantConfig& cfg : s.configs()) {
      int rows = 0;
      for (const sinkscope::v1::StudyRow& row : s.rows()) {
        if (row.variant() != v.name() || row.config() != cfg.name()) continue;
        ++rows;
        const double db = row.attention_error().sqnr_db();
        Check(std::isfinite(db) && db > 0.0, absl::StrCat(v.name(), " / ", cfg.name(), ": SQNR ", db));
        Check(row.layers_size() == s.activations(i).num_layers(),
              absl::StrCat(v.name(), " / ", cfg.name(), ": ", row.layers_size(), " layers"));
        double lo = 1e300, hi = -1e300;
        for (const auto& l : row.layers()) {
          const double ldb = l.output().sqnr_db();
          Check(std::isfinite(ldb) && ldb > 0.0, absl::StrCat(v.name(), " layer SQNR ", ldb));
          lo = std::min(lo, ldb);
          hi = std::max(hi, ldb);
        }
        Check(db >= lo - 1e-6 && db <= hi + 1e-6,
              absl::StrCat(v.name(), " / ", cfg.name(), ": pooled ", db, " outside [", lo, ", ",
                           hi, "]"));
        Check(std::abs(row.worst_layer_sqnr_db() - lo) < 1e-9, "worst layer is the minimum");
        by_keep[{v.name(), cfg.granularity(), cfg.kv_bits()}][cfg.keep_sink_kv_fp32()] = db;
      }
      Check(rows == 1, absl::StrCat(v.name(), " / ", cfg.name(), ": ", rows, " rows"));
    }
    const auto& st = v.streaming();
    Check(st.skipped().empty(), absl::StrCat(v.name(), " streaming skipped: ", st.skipped()));
    Check(st.runs_size() == 5, absl::StrCat(v.name(), ": ", st.runs_size(), " streaming runs"));
    for (const auto& run : st.runs()) {
      Check(std::isfinite(run.mean_nll()) && run.mean_nll() > 0.0,
            absl::StrCat(v.name(), " ", run.name(), ": NLL ", run.mean_nll()));
    }
    Check(std::isfinite(v.sink_rate()) && v.sink_rate() >= 0.0 && v.sink_rate() <= 100.0,
          "sink rate in [0, 100]");
    Check(v.abs_max_over_median() >= 1.0, "abs-max / median >= 1");
  }
  constexpr double kNoiseDb = 1.0;
  for (const auto& [key, keep] : by_keep) {
    const auto& [name, granularity, bits] = key;
    const auto base = keep.find(0);
    Check(base != keep.end(), absl::StrCat(name, " ", granularity, " kv", bits, ": no keep0"));
    if (base == keep.end()) continue;
    for (const auto& [k, db] : keep) {
      Note(db >= base->second - kNoiseDb,
            absl::StrCat(name, " ", granularity, " kv", bits, " keep", k, ": ", db,
                         " dB, worse than keep0 (", base->second, " dB) beyond noise"));
    }
    if (granularity == "per-tensor") {
      const auto fine = by_keep.find({name, "per-channel/token", bits});
      Check(fine != by_keep.end(), absl::StrCat(name, " kv", bits, ": no per-channel/token rows"));
      if (fine != by_keep.end()) {
        for (const auto& [k, db] : keep) {
          const auto f = fine->second.find(k);
          if (f == fine->second.end()) continue;
          Note(f->second >= db, absl::StrCat(name, " kv", bits, " keep", k,
                                              ": per-channel/token ", f->second,
                                              " dB below per-tensor ", db, " dB"));
        }
      }
    }
    if (bits == 4) {
      const auto eight = by_keep.find({name, granularity, 8});
      if (eight != by_keep.end() && eight->second.count(0) > 0) {
        Check(base->second < eight->second.at(0),
              absl::StrCat(name, " ", granularity, ": kv4 not below kv8"));
      }
    }
  }
  Check(s.training().runs_size() == std::stoi(argv[3]),
        absl::StrCat(s.training().runs_size(), " training runs attached, want ", argv[3]));
  for (const auto& run : s.training().runs()) {
    Check(run.emergence_size() > 0 && run.curve_size() > 0,
          absl::StrCat(run.name(), ": no training curves"));
  }
  // End to end: every variant x the default whole-model configurations, KL finite and >= 0,
  // kv8 below kv4, the answer's columns filled; the position probe on every variant.
  const std::vector<std::string> e2e = {"w8a8", "w8a8_tensor", "kv8", "kv4", "fp8", "mxfp4",
                                        "w8a8_tensor+keep_sink", "w8a8_tensor+smooth",
                                        "w8a8_tensor+rotate", "w8a8_tensor+llmint8"};
  std::map<std::pair<std::string, std::string>, double> kl;
  for (const auto& e : s.end_to_end()) {
    Check(e.skipped().empty(), absl::StrCat(e.variant(), " ", e.name(), ": skipped: ", e.skipped()));
    Check(std::isfinite(e.mean_kl()) && e.mean_kl() >= 0.0 && std::isfinite(e.mean_nll()),
          absl::StrCat(e.variant(), " ", e.name(), ": KL ", e.mean_kl(), " NLL ", e.mean_nll()));
    kl[{e.variant(), e.name()}] = e.mean_kl();
  }
  for (const std::string& v : variants) {
    for (const std::string& c : e2e) {
      Check(kl.count({v, c}) == 1, absl::StrCat(v, ": no end-to-end entry for ", c));
    }
    if (kl.count({v, "kv8"}) && kl.count({v, "kv4"})) {
      Check(kl[{v, "kv8"}] < kl[{v, "kv4"}], absl::StrCat(v, ": end-to-end kv8 KL not below kv4"));
    }
  }
  // What the reader should conclude, as measured on these models (--quick: w8a8 3-13x below
  // w8a8_tensor, the best remedy 40-200x below it): asserted with margin.
  for (const std::string& v : variants) {
    if (kl.count({v, "w8a8"}) && kl.count({v, "w8a8_tensor"})) {
      Check(kl[{v, "w8a8"}] <= 0.5 * kl[{v, "w8a8_tensor"}],
            absl::StrCat(v, ": per-token activation scales not 2x below per-tensor end to end"));
    }
  }
  for (const auto& v : s.variants()) {
    Check(v.best_remedy_kl() <= 0.2 * v.w8a8_tensor_kl(),
          absl::StrCat(v.name(), ": the best remedy (", v.best_remedy(), ", KL ",
                       v.best_remedy_kl(), ") not 5x below w8a8_tensor (", v.w8a8_tensor_kl(), ")"));
  }
  for (const auto& v : s.variants()) {
    Check(std::isfinite(v.w8a8_tensor_kl()) && std::isfinite(v.kv4_kl()) &&
              !v.best_remedy().empty() && std::isfinite(v.best_remedy_kl()),
          absl::StrCat(v.name(), ": the answer's end-to-end columns are empty"));
  }
  Check(s.position_probes_size() == static_cast<int>(variants.size()),
        absl::StrCat(s.position_probes_size(), " position probes, want ", variants.size()));
  for (const auto& p : s.position_probes()) {
    Check(p.first_token_mass_before_size() > 0 &&
              p.first_token_mass_before_size() == p.first_token_mass_after_size() &&
              (p.verdict() == "positional" || p.verdict() == "content" || p.verdict() == "no sink"),
          absl::StrCat(p.variant(), ": position probe incomplete"));
  }
  std::cout << "orderings (keep >= keep0 - 1 dB, per-channel/token >= per-tensor): " << noted
            << " of " << notes << " did not hold\n";
  if (failures > 0) return 1;
  std::cout << "study report: " << s.variants_size() << " variants x " << s.configs_size()
            << " configurations consistent\n";
  return 0;
}
