// The keys and values of one sequence, for every layer, in F32:
//   keys(layer)[pos][kv_dim], values(layer)[pos][kv_dim], pos < capacity.
// The bytes come from a MemoryPool (host or device arena, so the policy accounts them) or, without
// a pool, from a buffer the backend hands over with its release function. Released when the cache
// is destroyed, i.e. when the sequence ends.
#ifndef CACE_LIB_RUNTIME_KV_CACHE_H_
#define CACE_LIB_RUNTIME_KV_CACHE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cace/memory_pool.h"

namespace cace {

struct KvLayout {
  std::int64_t n_layers = 0;
  std::int64_t capacity = 0;  // tokens
  std::int64_t kv_dim = 0;    // kv heads x head dim

  std::uint64_t Bytes() const {
    return 2 * static_cast<std::uint64_t>(n_layers) * static_cast<std::uint64_t>(capacity) *
           static_cast<std::uint64_t>(kv_dim) * sizeof(float);
  }
};

class KvCache {
 public:
  // From `pool` (whose kind must be `kind`): owner is the pool's tag, e.g. "kv:<model>".
  static absl::StatusOr<std::unique_ptr<KvCache>> FromPool(MemoryPool* pool, MemoryKind kind, KvLayout layout,
                                                          std::string owner);
  // Over `base` (layout.Bytes() bytes, on the backend's device), calling release(base) at the end.
  static std::unique_ptr<KvCache> FromBuffer(void* base, KvLayout layout, std::function<void(void*)> release);

  KvCache(const KvCache&) = delete;
  KvCache& operator=(const KvCache&) = delete;
  ~KvCache();

  const KvLayout& layout() const { return layout_; }
  std::int64_t length() const { return length_; }
  std::int64_t capacity() const { return layout_.capacity; }
  // The backend that made this cache (backends refuse caches of another).
  const void* owner_tag() const { return owner_tag_; }
  // Bytes of K and V memory this cache holds (its pool allocation, or its buffer).
  std::uint64_t bytes() const { return layout_.Bytes(); }
  // Marks the cache as made by `tag` and adds its bytes to `live_bytes` until it is destroyed.
  void Adopt(const void* tag, std::shared_ptr<std::atomic<std::uint64_t>> live_bytes);

  float* keys(std::int64_t layer) const { return base_ + (2 * layer) * layout_.capacity * layout_.kv_dim; }
  float* values(std::int64_t layer) const { return base_ + (2 * layer + 1) * layout_.capacity * layout_.kv_dim; }

  // Marks n more positions as written (after a forward step stored them).
  void Advance(std::int64_t n) { length_ += n; }
  // Forgets every position (the memory stays).
  void Clear() { length_ = 0; }
  // Re-reads the address from the pool, after the pool's Compact moved it.
  absl::Status Refresh();

 private:
  KvCache(KvLayout layout, float* base) : layout_(layout), base_(base) {}

  KvLayout layout_;
  float* base_ = nullptr;
  std::int64_t length_ = 0;
  const void* owner_tag_ = nullptr;
  std::shared_ptr<std::atomic<std::uint64_t>> live_bytes_;
  MemoryPool* pool_ = nullptr;
  AllocationId allocation_ = 0;
  std::function<void(void*)> release_;
};

}  // namespace cace

#endif  // CACE_LIB_RUNTIME_KV_CACHE_H_
