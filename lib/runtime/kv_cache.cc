#include "lib/runtime/kv_cache.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace cace {

absl::StatusOr<std::unique_ptr<KvCache>> KvCache::FromPool(MemoryPool* pool, MemoryKind kind, KvLayout layout,
                                                          std::string owner) {
  if (pool == nullptr) return absl::InvalidArgumentError("KV cache: no memory pool given");
  if (pool->kind() != kind) {
    return absl::InvalidArgumentError("KV cache: the pool is on another kind of memory than the backend");
  }
  if (layout.n_layers <= 0 || layout.capacity <= 0 || layout.kv_dim <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("KV cache: empty layout (", layout.n_layers, " layers, ",
                                                   layout.capacity, " tokens, kv_dim ", layout.kv_dim, ")"));
  }
  absl::StatusOr<Allocation> alloc = pool->Allocate(layout.Bytes(), MemoryPool::kDefaultAlignment, owner);
  if (!alloc.ok()) return alloc.status();
  absl::StatusOr<void*> address = pool->Address(alloc->id);
  if (!address.ok()) {
    (void)pool->Free(alloc->id);  // leave the pool as it was
    return address.status();
  }
  std::unique_ptr<KvCache> cache(new KvCache(layout, static_cast<float*>(*address)));
  cache->pool_ = pool;
  cache->allocation_ = alloc->id;
  return cache;
}

std::unique_ptr<KvCache> KvCache::FromBuffer(void* base, KvLayout layout, std::function<void(void*)> release) {
  std::unique_ptr<KvCache> cache(new KvCache(layout, static_cast<float*>(base)));
  cache->release_ = std::move(release);
  return cache;
}

void KvCache::Adopt(const void* tag, std::shared_ptr<std::atomic<std::uint64_t>> live_bytes) {
  owner_tag_ = tag;
  if (live_bytes_) live_bytes_->fetch_sub(bytes());
  live_bytes_ = std::move(live_bytes);
  if (live_bytes_) live_bytes_->fetch_add(bytes());
}

KvCache::~KvCache() {
  if (live_bytes_) live_bytes_->fetch_sub(bytes());
  if (pool_ != nullptr) {
    (void)pool_->Free(allocation_);  // only fails for an unknown id, which would be a pool bug
  } else if (release_) {
    release_(base_);
  }
}

absl::Status KvCache::Refresh() {
  if (pool_ == nullptr) return absl::OkStatus();
  absl::StatusOr<void*> address = pool_->Address(allocation_);
  if (!address.ok()) return address.status();
  base_ = static_cast<float*>(*address);
  return absl::OkStatus();
}

}  // namespace cace
