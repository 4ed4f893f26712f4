// A read-only memory mapping of a whole file (RAII). Readers parse straight from the mapping so
// the bytes of a model file pass through memory once, on their way into the pool.
#ifndef CACE_LIB_LOADER_MAPPED_FILE_H_
#define CACE_LIB_LOADER_MAPPED_FILE_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "absl/status/statusor.h"

namespace cace {

class MappedFile {
 public:
  // Maps `path` read-only. An empty file maps to an empty span. NotFound / PermissionDenied /
  // Internal errors name the path.
  static absl::StatusOr<MappedFile> Open(const std::string& path);

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const std::byte> bytes() const { return {data_, size_}; }
  std::uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile(std::string path, const std::byte* data, std::size_t size)
      : path_(std::move(path)), data_(data), size_(size) {}
  void Reset();

  std::string path_;
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace cace

#endif  // CACE_LIB_LOADER_MAPPED_FILE_H_
