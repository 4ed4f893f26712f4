// Writes GGUF version 3 files: metadata, tensor infos, aligned data. For tiny test and example
// models and for tests that need hand-made (also deliberately broken) files.
#ifndef CACE_LIB_LOADER_GGUF_WRITER_H_
#define CACE_LIB_LOADER_GGUF_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/loader/dtype.h"

namespace cace {

class GgufWriter {
 public:
  // Written as general.alignment when not the default 32.
  explicit GgufWriter(std::uint32_t alignment = 32);

  void AddString(std::string_view key, std::string_view value);
  void AddUint32(std::string_view key, std::uint32_t value);
  void AddInt32(std::string_view key, std::int32_t value);
  void AddFloat32(std::string_view key, float value);
  void AddBool(std::string_view key, bool value);
  void AddStringArray(std::string_view key, const std::vector<std::string>& values);
  void AddFloat32Array(std::string_view key, const std::vector<float>& values);
  void AddInt32Array(std::string_view key, const std::vector<std::int32_t>& values);

  // `shape` outermost first (written to the file reversed, as ggml's ne[]); `data` must hold the
  // tensor's bytes in `dtype` (checked by Serialize).
  void AddTensor(std::string_view name, DType dtype, std::vector<std::int64_t> shape, std::vector<std::byte> data);

  absl::StatusOr<std::vector<std::byte>> Serialize() const;
  absl::Status WriteFile(const std::string& path) const;

 private:
  struct Tensor {
    std::string name;
    DType dtype;
    std::vector<std::int64_t> shape;
    std::vector<std::byte> data;
  };
  void Key(std::string_view key, std::uint32_t type);

  std::uint32_t alignment_;
  std::uint64_t kv_count_ = 0;
  std::string kv_;
  std::vector<Tensor> tensors_;
};

// Writes bytes to `path` through a temporary file and rename, so readers never see a partial file.
absl::Status WriteFileAtomically(const std::string& path, std::span<const std::byte> bytes);

}  // namespace cace

#endif  // CACE_LIB_LOADER_GGUF_WRITER_H_
