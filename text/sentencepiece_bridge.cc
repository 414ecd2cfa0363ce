#include "text/sentencepiece_bridge.h"

#include <dlfcn.h>

#include <new>
#include <string_view>

#include <sentencepiece_processor.h>

// libsentencepiece.so.0 (Debian 0.1.97) carries its own copy of protobuf-lite 3.14 and exports
// it. Linked normally into a binary that also loads libprotobuf.so.32 (3.21: every report-writing
// binary), one copy's symbols interpose the other's and the process aborts at start-up ("compiled
// against version 3.14.0"). So the library is opened here with dlopen(RTLD_LOCAL | RTLD_DEEPBIND):
// its symbols stay out of the global scope and bind to its own copy first. The processor is used
// through its virtual functions (vtable calls need no symbols); the three non-virtual functions
// needed (constructor, Status destructor and message) are looked up by their mangled names.
// Under AddressSanitizer (which refuses RTLD_DEEPBIND) the library is opened RTLD_LOCAL only:
// fine in a process without libprotobuf, which is where the sanitizer tests run it.

namespace sinkscope::text::internal {
namespace {

using sentencepiece::SentencePieceProcessor;
using sentencepiece::util::Status;

struct Library {
  void* handle = nullptr;
  void (*construct)(void*) = nullptr;
  void (*destroy_status)(Status*) = nullptr;
  const char* (*status_message)(const Status*) = nullptr;
  std::string error;
};

const Library& GetLibrary() {
  static const Library* lib = [] {
    auto* l = new Library;
#if defined(__SANITIZE_ADDRESS__)
    const int flags = RTLD_NOW | RTLD_LOCAL;
#else
    const int flags = RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND;
#endif
#if defined(__SANITIZE_ADDRESS__)
    // Without RTLD_DEEPBIND its protobuf references would bind to a loaded libprotobuf 3.21.
    if (void* p = dlopen("libprotobuf.so.32", RTLD_NOW | RTLD_NOLOAD); p != nullptr) {
      dlclose(p);
      l->error = "tokenizer.model is unavailable under AddressSanitizer in a binary that loads "
                 "libprotobuf (see text/sentencepiece_bridge.cc)";
      return l;
    }
#endif
    l->handle = dlopen("libsentencepiece.so.0", flags);
    if (l->handle == nullptr) {
      const char* e = dlerror();
      l->error = std::string("cannot load libsentencepiece.so.0 (install libsentencepiece0): ") +
                 (e != nullptr ? e : "");
      return l;
    }
    l->construct = reinterpret_cast<void (*)(void*)>(
        dlsym(l->handle, "_ZN13sentencepiece22SentencePieceProcessorC1Ev"));
    l->destroy_status = reinterpret_cast<void (*)(Status*)>(
        dlsym(l->handle, "_ZN13sentencepiece4util6StatusD1Ev"));
    l->status_message = reinterpret_cast<const char* (*)(const Status*)>(
        dlsym(l->handle, "_ZNK13sentencepiece4util6Status13error_messageEv"));
    if (l->construct == nullptr || l->destroy_status == nullptr || l->status_message == nullptr) {
      l->error = "libsentencepiece.so.0 lacks the expected symbols (not version 0.1.97?)";
    }
    return l;
  }();
  return *lib;
}

// A Status returned by the library, kept in raw storage so that only the library's destructor
// runs on it.
class StatusHolder {
 public:
  template <typename F>
  explicit StatusHolder(F&& call) {
    new (storage_) Status(call());
  }
  ~StatusHolder() { GetLibrary().destroy_status(get()); }
  bool ok() const { return get()->ok(); }
  std::string message() const {
    const char* m = GetLibrary().status_message(get());
    return m != nullptr ? m : "sentencepiece error";
  }

 private:
  Status* get() const { return reinterpret_cast<Status*>(const_cast<unsigned char*>(storage_)); }
  alignas(Status) unsigned char storage_[sizeof(Status)];
};

}  // namespace

struct SpmModel::Impl {
  SentencePieceProcessor* processor = nullptr;
  ~Impl() { delete processor; }  // virtual: the library's own destructor
};

SpmModel::SpmModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SpmModel::~SpmModel() = default;

std::unique_ptr<SpmModel> SpmModel::Load(const std::string& path, std::string* error) {
  const Library& lib = GetLibrary();
  if (!lib.error.empty()) {
    *error = lib.error;
    return nullptr;
  }
  auto impl = std::make_unique<Impl>();
  void* memory = ::operator new(sizeof(SentencePieceProcessor));
  lib.construct(memory);
  impl->processor = static_cast<SentencePieceProcessor*>(memory);
  StatusHolder st([&] { return impl->processor->Load(std::string_view(path)); });
  if (!st.ok()) {
    *error = st.message();
    return nullptr;
  }
  return std::unique_ptr<SpmModel>(new SpmModel(std::move(impl)));
}

bool SpmModel::Encode(const std::string& text, std::vector<int>* ids, std::string* error) const {
  StatusHolder st([&] { return impl_->processor->Encode(std::string_view(text), ids); });
  if (!st.ok()) *error = st.message();
  return st.ok();
}

bool SpmModel::Decode(const std::vector<int>& ids, std::string* text, std::string* error) const {
  StatusHolder st([&] { return impl_->processor->Decode(ids, text); });
  if (!st.ok()) *error = st.message();
  return st.ok();
}

int SpmModel::piece_size() const { return impl_->processor->GetPieceSize(); }
int SpmModel::bos_id() const { return impl_->processor->bos_id(); }
int SpmModel::eos_id() const { return impl_->processor->eos_id(); }
bool SpmModel::IsControl(int id) const { return impl_->processor->IsControl(id); }

}  // namespace sinkscope::text::internal
