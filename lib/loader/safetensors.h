// Reader of the safetensors format: an 8-byte little-endian header length, a JSON header
// {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}},
// then the data. Everything is validated at open: dtype known, shape size without overflow and
// equal to end - begin, offsets inside the file, tensors neither overlapping nor leaving gaps.
#ifndef CACE_LIB_LOADER_SAFETENSORS_H_
#define CACE_LIB_LOADER_SAFETENSORS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/loader/dtype.h"
#include "lib/loader/mapped_file.h"

namespace cace {

struct SafetensorsTensor {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<std::int64_t> shape;  // outermost first, as in the file
  std::uint64_t begin = 0;          // byte offsets relative to the start of the data section
  std::uint64_t end = 0;
  std::uint64_t bytes() const { return end - begin; }
};

class SafetensorsFile {
 public:
  // Maps and validates `path`; the mapping lives as long as the returned object (and copies).
  static absl::StatusOr<SafetensorsFile> Open(const std::string& path);
  // Validates bytes the caller keeps alive (fuzzing, tests); `name` appears in errors.
  static absl::StatusOr<SafetensorsFile> Parse(std::span<const std::byte> bytes, std::string name);

  const std::string& name() const { return name_; }
  // Tensors sorted by begin offset.
  const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }
  const SafetensorsTensor* Find(std::string_view tensor_name) const;
  // String pairs of "__metadata__" (empty when absent).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // Absolute offset of the data section in the file (8 + header length).
  std::uint64_t data_offset() const { return data_offset_; }
  // The tensor's bytes inside the file (already validated to be in bounds).
  std::span<const std::byte> TensorData(const SafetensorsTensor& tensor) const;
  // The whole file.
  std::span<const std::byte> bytes() const { return bytes_; }

 private:
  std::shared_ptr<const MappedFile> file_;  // null when parsed from caller-owned bytes
  std::span<const std::byte> bytes_;
  std::string name_;
  std::uint64_t data_offset_ = 0;
  std::vector<SafetensorsTensor> tensors_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace cace

#endif  // CACE_LIB_LOADER_SAFETENSORS_H_
