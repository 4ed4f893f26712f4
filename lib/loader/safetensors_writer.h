// Writes safetensors files (the layout of safetensors.h), for tiny test and example models.
#ifndef CACE_LIB_LOADER_SAFETENSORS_WRITER_H_
#define CACE_LIB_LOADER_SAFETENSORS_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/loader/dtype.h"

namespace cace {

class SafetensorsWriter {
 public:
  // Plain dtypes only; `data` must hold exactly the tensor's bytes (checked by Serialize).
  void AddTensor(std::string_view name, DType dtype, std::vector<std::int64_t> shape, std::vector<std::byte> data);
  void AddMetadata(std::string_view key, std::string_view value);

  // Tensors in the order added; the header is padded with spaces to a multiple of 8 bytes.
  absl::StatusOr<std::vector<std::byte>> Serialize() const;
  absl::Status WriteFile(const std::string& path) const;

 private:
  struct Tensor {
    std::string name;
    DType dtype;
    std::vector<std::int64_t> shape;
    std::vector<std::byte> data;
  };
  std::vector<Tensor> tensors_;
  std::vector<std::pair<std::string, std::string>> metadata_;
};

// A JSON string literal for `s` (quotes added; ", \ and control characters escaped).
std::string JsonQuote(std::string_view s);

}  // namespace cace

#endif  // CACE_LIB_LOADER_SAFETENSORS_WRITER_H_
