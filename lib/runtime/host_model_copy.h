// A model's weights kept in host memory while the model is not in the pool (the engine's host
// cache tier): the bytes of its pool allocation exactly as the loader left them (stored types,
// conversions, padding), the table of tensors in it, and its tokenizer. A reload from the copy
// reads no file: one allocation, one copy into it, then the same views and backend as
// LoadModelInstance, so the instance it makes is byte for byte the one a load from disk makes.
#ifndef CACE_LIB_RUNTIME_HOST_MODEL_COPY_H_
#define CACE_LIB_RUNTIME_HOST_MODEL_COPY_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "cace/memory_pool.h"
#include "lib/loader/model_loader.h"
#include "lib/runtime/host_buffer.h"
#include "lib/runtime/model_instance.h"
#include "lib/tokenizer/tokenizer.h"

namespace cace {

class HostModelCopy {
 public:
  // Copies the instance's weight allocation into a buffer from `allocate` (MemoryPool::Read: a
  // memcpy from a host pool, a device-to-host copy from a device pool). The instance is left as
  // it was; the caller frees it. The allocator's error when it refuses.
  static absl::StatusOr<std::unique_ptr<HostModelCopy>> From(const ModelInstance& instance,
                                                             const HostBufferAllocator& allocate);

  // A new instance of the model in `pool`: allocates the bytes, copies them in chunks of at most
  // 64 MiB (checking options.cancel before each: Cancelled), then binds weights and backend as
  // LoadModelInstance does. The copy is unchanged and may be loaded again. InvalidArgument for a
  // pool of the other memory kind (the stored types are that backend's); the pool's error when it
  // has no room. On any error the pool is left exactly as it was.
  absl::StatusOr<std::unique_ptr<ModelInstance>> Load(MemoryPool& pool, ModelInstanceOptions options) const;

  const std::string& path() const { return layout_.path; }
  // The host bytes held: the pool allocation's size (ModelInstance::weight_bytes()).
  std::uint64_t bytes() const { return buffer_->size(); }
  const HostBuffer& buffer() const { return *buffer_; }

 private:
  HostModelCopy() = default;

  LoadedModel layout_;  // as the instance's, with no allocation
  MemoryKind memory_ = MemoryKind::kHost;  // the kind of pool the bytes were laid out for
  std::shared_ptr<const Tokenizer> tokenizer_;
  std::unique_ptr<HostBuffer> buffer_;
};

}  // namespace cace

#endif  // CACE_LIB_RUNTIME_HOST_MODEL_COPY_H_
