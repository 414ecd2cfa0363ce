#include "text/sentencepiece_bridge.h"

#include <sentencepiece_processor.h>

namespace sinkscope::text::internal {

struct SpmModel::Impl {
  sentencepiece::SentencePieceProcessor processor;
};

SpmModel::SpmModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SpmModel::~SpmModel() = default;

std::unique_ptr<SpmModel> SpmModel::Load(const std::string& path, std::string* error) {
  auto impl = std::make_unique<Impl>();
  const sentencepiece::util::Status st = impl->processor.Load(path);
  if (!st.ok()) {
    *error = st.ToString();
    return nullptr;
  }
  return std::unique_ptr<SpmModel>(new SpmModel(std::move(impl)));
}

bool SpmModel::Encode(const std::string& text, std::vector<int>* ids, std::string* error) const {
  const sentencepiece::util::Status st = impl_->processor.Encode(text, ids);
  if (!st.ok()) *error = st.ToString();
  return st.ok();
}

bool SpmModel::Decode(const std::vector<int>& ids, std::string* text, std::string* error) const {
  const sentencepiece::util::Status st = impl_->processor.Decode(ids, text);
  if (!st.ok()) *error = st.ToString();
  return st.ok();
}

int SpmModel::piece_size() const { return impl_->processor.GetPieceSize(); }
int SpmModel::bos_id() const { return impl_->processor.bos_id(); }
int SpmModel::eos_id() const { return impl_->processor.eos_id(); }
bool SpmModel::IsControl(int id) const { return impl_->processor.IsControl(id); }

}  // namespace sinkscope::text::internal
