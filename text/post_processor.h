// File: text/post_processor.h
//
// post_processor.h: the special tokens a tokenizer adds around one encoded text (BOS / EOS): from
// the tokenizer.json "post_processor" (TemplateProcessing's "single" template, ByteLevel: none,
// RobertaProcessing / BertProcessing: cls and sep, Sequence of these), or overridden by
// tokenizer_config.json's add_bos_token / add_eos_token when it sets them (as transformers' Llama
// tokenizers do).
//
// Example:
//   absl::StatusOr<SpecialTokensTemplate> t = MakeSpecialTokensTemplate(json.Find("post_processor"));
//   // Llama 2: t->prefix == {1}, t->suffix == {}
#ifndef SINKSCOPE_TEXT_POST_PROCESSOR_H_
#define SINKSCOPE_TEXT_POST_PROCESSOR_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "base/json.h"

namespace sinkscope::text {

struct SpecialTokensTemplate {
  std::vector<int32_t> prefix;
  std::vector<int32_t> suffix;
};

// A null or absent post-processor adds nothing.
absl::StatusOr<SpecialTokensTemplate> MakeSpecialTokensTemplate(const model::JsonValue* json);

}  // namespace sinkscope::text

#endif  // SINKSCOPE_TEXT_POST_PROCESSOR_H_
