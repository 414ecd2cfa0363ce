#include "text/sentencepiece_tokenizer.h"

#include <unistd.h>

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/atomic_file.h"
#include "base/json.h"
#include "text/sentencepiece_bridge.h"

namespace sinkscope::text {
namespace {

class SentencePieceTokenizer : public Tokenizer {
 public:
  SentencePieceTokenizer(std::unique_ptr<internal::SpmModel> model, bool add_bos, bool add_eos)
      : model_(std::move(model)), add_bos_(add_bos), add_eos_(add_eos) {}

  absl::StatusOr<std::vector<int32_t>> Encode(absl::string_view text,
                                              bool add_special_tokens) const override {
    std::vector<int> ids;
    std::string error;
    if (!model_->Encode(std::string(text), &ids, &error)) return absl::InternalError(error);
    std::vector<int32_t> out;
    if (add_special_tokens && add_bos_ && model_->bos_id() >= 0) out.push_back(model_->bos_id());
    out.insert(out.end(), ids.begin(), ids.end());
    if (add_special_tokens && add_eos_ && model_->eos_id() >= 0) out.push_back(model_->eos_id());
    return out;
  }

  absl::StatusOr<std::string> Decode(const std::vector<int32_t>& ids,
                                     bool skip_special_tokens) const override {
    std::vector<int> in;
    for (int32_t id : ids) {
      if (id < 0 || id >= vocab_size()) {
        return absl::OutOfRangeError(
            absl::StrCat("token id ", id, " is not in the vocabulary (size ", vocab_size(), ")"));
      }
      if (skip_special_tokens && model_->IsControl(id)) continue;
      in.push_back(id);
    }
    std::string text, error;
    if (!model_->Decode(in, &text, &error)) return absl::InternalError(error);
    return text;
  }

  int32_t vocab_size() const override { return model_->piece_size(); }
  std::string Describe() const override {
    return absl::StrCat("tokenizer.model SentencePiece, vocab ", vocab_size());
  }

 private:
  std::unique_ptr<internal::SpmModel> model_;
  bool add_bos_, add_eos_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadSentencePieceTokenizer(const std::string& path) {
  std::string error;
  std::unique_ptr<internal::SpmModel> m = internal::SpmModel::Load(path, &error);
  if (m == nullptr) return absl::InvalidArgumentError(absl::StrCat(path, ": ", error));
  bool add_bos = true, add_eos = false;
  const size_t slash = path.rfind('/');
  const std::string config_path =
      (slash == std::string::npos ? std::string() : path.substr(0, slash + 1)) +
      "tokenizer_config.json";
  if (access(config_path.c_str(), R_OK) == 0) {
    std::string text;
    if (absl::Status st = model::ReadFileToString(config_path, &text); !st.ok()) return st;
    absl::StatusOr<model::JsonValue> config = model::ParseJson(text);
    if (!config.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(config_path, ": ", config.status().message()));
    }
    if (const model::JsonValue* v = config->Find("add_bos_token"); v != nullptr && v->is_bool()) {
      add_bos = v->bool_value();
    }
    if (const model::JsonValue* v = config->Find("add_eos_token"); v != nullptr && v->is_bool()) {
      add_eos = v->bool_value();
    }
  }
  return std::unique_ptr<Tokenizer>(new SentencePieceTokenizer(std::move(m), add_bos, add_eos));
}

}  // namespace sinkscope::text
