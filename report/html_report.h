// File: report/html_report.h
//
// html_report.h: one self-contained HTML page for any sinkscope.v1.Report: inline CSS and inline
// SVG charts, no <script> and no external URL of any kind, so that the page opens offline (a CI
// artifact, a mail attachment, a laptop on a plane).
//
// What the page shows, for whatever the report holds (sections whose data is absent are skipped):
//   provenance        tool, version, time, CPU ISA, oneDNN version, command line, git commit;
//   heatmap           attention probabilities per (layer, head): sqrt colour scale, key 0 (the
//                     sink column) visible, a separate "sink" column for sink-logit / KV-bias mass;
//   layer-bars        abs-max and median |h| per layer (log axis), layers with massive activations;
//   channel-profile   per-channel abs-max of hidden states or of weight tensors (log axis);
//   quant-error       SQNR dB per scheme, grouped by tensor or layer (bars);
//   value-heatmap     study: attention-output SQNR dB per variant (rows) and configuration
//                     (columns), the value in each cell, "exact" for +inf; then one small map
//                     per variant of SQNR per layer and configuration;
//   receptive-field   influence curves P(d) and the fitted summary with relative errors;
//   streaming         StreamingLLM mean NLL per cache configuration and NLL against position
//                     (sink study);
//   tables            tensors, merged summary, per-head first-token mass, massive activations,
//                     study variants (the answer per variant) and rows (folded in a
//                     <details>), quant_demo errors.
// Every chart is an <svg class="chart" data-chart="KIND"> with a <title> child. Every string from
// the report is HTML-escaped; non-finite numbers never reach an SVG coordinate (an infinite SQNR
// is drawn capped and labelled "exact"). Maps larger than 64 x 64 cells are pooled further.
//
// Example:
//   sinkscope::v1::Report report = ...;                      // any body, or none
//   std::ofstream("report.html") << sinkscope::analysis::RenderHtmlReport(report);
#ifndef SINKSCOPE_REPORT_HTML_REPORT_H_
#define SINKSCOPE_REPORT_HTML_REPORT_H_

#include <string>

#include "proto/sinkscope.pb.h"

namespace sinkscope::analysis {

// The whole page, starting with "<!DOCTYPE html>". A report without a body renders a valid page
// that says so (with its provenance, if any).
std::string RenderHtmlReport(const sinkscope::v1::Report& report);

}  // namespace sinkscope::analysis

#endif  // SINKSCOPE_REPORT_HTML_REPORT_H_
