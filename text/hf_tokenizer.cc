#include "text/hf_tokenizer.h"

#include <unistd.h>

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/atomic_file.h"
#include "base/json.h"
#include "text/added_vocabulary.h"
#include "text/bpe_model.h"
#include "text/decoder.h"
#include "text/normalizer.h"
#include "text/post_processor.h"
#include "text/pre_tokenizer.h"

namespace sinkscope::text {
namespace {

using model::JsonValue;

class HfTokenizer : public Tokenizer {
 public:
  absl::StatusOr<std::vector<int32_t>> Encode(absl::string_view text,
                                              bool add_special_tokens) const override {
    std::vector<int32_t> ids;
    if (add_special_tokens) ids = special_.prefix;
    const std::vector<Segment> sections = added_.Split(text, /*normalized=*/false);
    for (size_t k = 0; k < sections.size(); ++k) {
      const Segment& section = sections[k];
      if (section.id >= 0) {
        ids.push_back(section.id);
        continue;
      }
      std::string normalized = section.text;
      if (normalizer_ != nullptr) {
        if (absl::Status st = normalizer_->Normalize(&normalized); !st.ok()) return st;
      }
      for (const Segment& sub : added_.Split(normalized, /*normalized=*/true)) {
        if (sub.id >= 0) {
          ids.push_back(sub.id);
          continue;
        }
        std::vector<std::string> words = {sub.text};
        if (pre_tokenizer_ != nullptr) pre_tokenizer_->PreTokenize(&words, k == 0);
        for (const std::string& w : words) model_->Encode(w, &ids);
      }
    }
    if (add_special_tokens) ids.insert(ids.end(), special_.suffix.begin(), special_.suffix.end());
    return ids;
  }

  absl::StatusOr<std::string> Decode(const std::vector<int32_t>& ids,
                                     bool skip_special_tokens) const override {
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (int32_t id : ids) {
      if (const AddedToken* a = added_.Find(id); a != nullptr) {
        if (!(skip_special_tokens && a->special)) tokens.push_back(a->content);
        continue;
      }
      const std::string* t = model_->IdToToken(id);
      if (t == nullptr) {
        return absl::OutOfRangeError(
            absl::StrCat("token id ", id, " is not in the vocabulary (size ", vocab_size(), ")"));
      }
      tokens.push_back(*t);
    }
    if (decoder_ == nullptr) return absl::StrJoin(tokens, " ");
    decoder_->DecodeChain(&tokens);
    return absl::StrJoin(tokens, "");
  }

  int32_t vocab_size() const override {
    return std::max(model_->vocab_size(), added_.max_id() + 1);
  }

  std::string Describe() const override { return description_; }

  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::unique_ptr<BpeModel> model_;
  std::unique_ptr<Decoder> decoder_;
  AddedVocabulary added_;
  SpecialTokensTemplate special_;
  std::string description_;
};

// The token id named by tokenizer_config.json's bos_token / eos_token (a string or
// {"content": ...}).
absl::StatusOr<int32_t> ConfigTokenId(const JsonValue& config, const char* key,
                                      const HfTokenizer& t, const JsonValue& added_json) {
  const JsonValue* v = config.Find(key);
  if (v != nullptr && v->is_object()) v = v->Find("content");
  if (v == nullptr || !v->is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat("tokenizer_config.json: add_", key, " is set but ", key, " is not"));
  }
  if (added_json.is_array()) {
    for (const JsonValue& a : added_json.array()) {
      const JsonValue* c = a.Find("content");
      if (c != nullptr && c->is_string() && c->string_value() == v->string_value()) {
        absl::StatusOr<int64_t> id = a.Find("id")->AsInt64();
        if (id.ok()) return static_cast<int32_t>(*id);
      }
    }
  }
  const int32_t id = t.model_->TokenToId(v->string_value());
  if (id < 0) {
    return absl::InvalidArgumentError(absl::StrCat("tokenizer_config.json: ", key, " \"",
                                                   v->string_value(), "\" is not in the vocabulary"));
  }
  return id;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> MakeHfTokenizer(absl::string_view tokenizer_json,
                                                           absl::string_view config_json) {
  absl::StatusOr<JsonValue> json = model::ParseJson(tokenizer_json);
  if (!json.ok()) return json.status();
  if (!json->is_object()) return absl::InvalidArgumentError("not a JSON object");
  JsonValue config;
  if (!config_json.empty()) {
    absl::StatusOr<JsonValue> c = model::ParseJson(config_json);
    if (!c.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("tokenizer_config.json: ", c.status().message()));
    }
    config = *std::move(c);
  }
  auto t = std::make_unique<HfTokenizer>();
  const JsonValue* model_json = json->Find("model");
  if (model_json == nullptr) return absl::InvalidArgumentError("no \"model\"");
  absl::StatusOr<std::unique_ptr<BpeModel>> model = BpeModel::FromJson(*model_json);
  if (!model.ok()) return model.status();
  t->model_ = *std::move(model);
  absl::StatusOr<std::unique_ptr<Normalizer>> normalizer = MakeNormalizer(json->Find("normalizer"));
  if (!normalizer.ok()) return normalizer.status();
  t->normalizer_ = *std::move(normalizer);
  absl::StatusOr<std::unique_ptr<PreTokenizer>> pre = MakePreTokenizer(json->Find("pre_tokenizer"));
  if (!pre.ok()) return pre.status();
  t->pre_tokenizer_ = *std::move(pre);
  absl::StatusOr<std::unique_ptr<Decoder>> decoder = MakeDecoder(json->Find("decoder"));
  if (!decoder.ok()) return decoder.status();
  t->decoder_ = *std::move(decoder);
  const bool split_special =
      config.is_object() && config.Find("split_special_tokens") != nullptr &&
      config.Find("split_special_tokens")->is_bool() && config.Find("split_special_tokens")->bool_value();
  absl::StatusOr<AddedVocabulary> added =
      AddedVocabulary::FromJson(json->Find("added_tokens"), !split_special);
  if (!added.ok()) return added.status();
  t->added_ = *std::move(added);
  absl::StatusOr<SpecialTokensTemplate> special =
      MakeSpecialTokensTemplate(json->Find("post_processor"));
  if (!special.ok()) return special.status();
  t->special_ = *std::move(special);
  std::string special_source = "post_processor";
  if (config.is_object()) {
    const JsonValue empty;
    const JsonValue* added_json = json->Find("added_tokens");
    for (auto [flag, key, list] :
         {std::make_tuple("add_bos_token", "bos_token", &t->special_.prefix),
          std::make_tuple("add_eos_token", "eos_token", &t->special_.suffix)}) {
      const JsonValue* f = config.Find(flag);
      if (f == nullptr || !f->is_bool()) continue;
      special_source = "tokenizer_config.json";
      list->clear();
      if (!f->bool_value()) continue;
      absl::StatusOr<int32_t> id =
          ConfigTokenId(config, key, *t, added_json != nullptr ? *added_json : empty);
      if (!id.ok()) return id.status();
      list->push_back(*id);
    }
  }
  t->description_ = absl::StrCat("tokenizer.json BPE, vocab ", t->vocab_size(),
                                 ", special tokens from ", special_source);
  return std::unique_ptr<Tokenizer>(std::move(t));
}

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadHfTokenizer(const std::string& path) {
  std::string text;
  if (absl::Status st = model::ReadFileToString(path, &text); !st.ok()) return st;
  std::string config;
  const size_t slash = path.rfind('/');
  const std::string config_path =
      (slash == std::string::npos ? std::string() : path.substr(0, slash + 1)) +
      "tokenizer_config.json";
  if (access(config_path.c_str(), R_OK) == 0) {
    if (absl::Status st = model::ReadFileToString(config_path, &config); !st.ok()) return st;
  }
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = MakeHfTokenizer(text, config);
  if (!t.ok()) {
    return absl::Status(t.status().code(), absl::StrCat(path, ": ", t.status().message()));
  }
  return t;
}

}  // namespace sinkscope::text
