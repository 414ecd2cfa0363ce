// File: report/html_sections.h
//
// html_sections.h: the sections of the HTML page, one per report body, each appending a
// <section> (title, notes, charts, tables) to the page: weights (html_weights.cc), activations
// (html_activations.cc), receptive field (html_receptive_field.cc), sink study
// (html_study.cc, which also renders the study's training, activation and receptive-field
// reports), training (html_training.cc), the int8 quantization demo (html_quant_demo.cc) and the
// whole-model quantized evaluation (html_quant_eval.cc).
// RenderHtmlReport (html_report.h) dispatches to them. Internal to //report:html_report: do not
// depend on this.
//
// Example:
//   std::string out;
//   AppendWeightReport(report.weight_report(), &out);
#ifndef SINKSCOPE_REPORT_HTML_SECTIONS_H_
#define SINKSCOPE_REPORT_HTML_SECTIONS_H_

#include <string>

#include "proto/sinkscope.pb.h"

namespace sinkscope::analysis::html_internal {

void AppendWeightReport(const sinkscope::v1::WeightReport& w, std::string* out);

void AppendActivationReport(const sinkscope::v1::ActivationReport& a, std::string* out);

void AppendReceptiveField(const sinkscope::v1::ReceptiveFieldReport& r, std::string* out);

void AppendStudyReport(const sinkscope::v1::StudyReport& s, std::string* out);

void AppendTrainingReport(const sinkscope::v1::TrainingReport& t, std::string* out);

void AppendQuantDemo(const sinkscope::v1::QuantDemoReport& q, std::string* out);

void AppendQuantEval(const sinkscope::v1::QuantEvalReport& q, std::string* out);

}  // namespace sinkscope::analysis::html_internal

#endif  // SINKSCOPE_REPORT_HTML_SECTIONS_H_
