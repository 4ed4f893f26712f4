// std::vector whose storage starts on a 64-byte boundary (a cache line, and one AVX-512 vector):
// the vector kernels' loads of activations and widened weight rows then never straddle two lines.
#ifndef CACE_LIB_RUNTIME_ALIGNED_VECTOR_H_
#define CACE_LIB_RUNTIME_ALIGNED_VECTOR_H_

#include <cstddef>
#include <new>
#include <vector>

namespace cace {

inline constexpr std::size_t kCacheLineBytes = 64;

template <typename T>
struct CacheLineAllocator {
  using value_type = T;
  CacheLineAllocator() = default;
  template <typename U>
  CacheLineAllocator(const CacheLineAllocator<U>&) {}  // NOLINT: rebinding must be implicit
  T* allocate(std::size_t n) {
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{kCacheLineBytes}));
  }
  void deallocate(T* p, std::size_t) { ::operator delete(p, std::align_val_t{kCacheLineBytes}); }
  template <typename U>
  bool operator==(const CacheLineAllocator<U>&) const {
    return true;
  }
};

template <typename T>
using AlignedVector = std::vector<T, CacheLineAllocator<T>>;

}  // namespace cace

#endif  // CACE_LIB_RUNTIME_ALIGNED_VECTOR_H_
