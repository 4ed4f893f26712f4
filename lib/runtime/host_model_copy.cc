#include "lib/runtime/host_model_copy.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace cace {
namespace {

// As the loader's chunks: a cancellation waits for at most one of them.
constexpr std::uint64_t kCopyChunkBytes = 64ull << 20;

}  // namespace

absl::StatusOr<std::unique_ptr<HostModelCopy>> HostModelCopy::From(const ModelInstance& instance,
                                                                   const HostBufferAllocator& allocate) {
  const LoadedModel& loaded = instance.loaded_;
  absl::StatusOr<std::unique_ptr<HostBuffer>> buffer = allocate(loaded.allocation_bytes);
  if (!buffer.ok()) return buffer.status();
  if (absl::Status read = instance.pool_.Read(loaded.allocation, 0, (*buffer)->data(), loaded.allocation_bytes);
      !read.ok()) {
    return read;
  }
  std::unique_ptr<HostModelCopy> copy(new HostModelCopy());
  copy->layout_ = loaded;
  copy->layout_.allocation = 0;
  copy->memory_ = instance.pool_.kind();
  copy->tokenizer_ = instance.tokenizer_;
  copy->buffer_ = *std::move(buffer);
  return copy;
}

absl::StatusOr<std::unique_ptr<ModelInstance>> HostModelCopy::Load(MemoryPool& pool,
                                                                   ModelInstanceOptions options) const {
  if (pool.kind() != memory_) {
    return absl::InvalidArgumentError(
        absl::StrCat(path(), ": the host copy was laid out for the other kind of pool (its stored types differ)"));
  }
  const std::string owner = options.owner.empty() ? path() : options.owner;
  if (options.cancel.stop_requested()) return absl::CancelledError(absl::StrCat(path(), ": load cancelled"));
  std::unique_ptr<ModelInstance> instance(new ModelInstance(path(), pool));
  instance->tokenizer_ = tokenizer_;
  // The loader's alignment (LoadOptions' default), so the tensors' offsets keep their alignment.
  absl::StatusOr<Allocation> allocation = pool.Allocate(bytes(), MemoryPool::kDefaultAlignment, owner);
  if (!allocation.ok()) return allocation.status();
  instance->loaded_ = layout_;
  instance->loaded_.allocation = allocation->id;  // from here the instance frees it on any error
  for (std::uint64_t done = 0; done < bytes();) {
    if (options.cancel.stop_requested()) return absl::CancelledError(absl::StrCat(path(), ": load cancelled"));
    const std::uint64_t n = std::min(kCopyChunkBytes, bytes() - done);
    if (absl::Status written = pool.Write(allocation->id, done, buffer_->data() + done, n); !written.ok()) {
      return written;
    }
    done += n;
    if (options.progress) options.progress(done, bytes());
  }
  if (absl::Status bound = instance->Bind(options, owner); !bound.ok()) return bound;
  return instance;
}

}  // namespace cace
