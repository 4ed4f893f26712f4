// Reader of GGUF version 3 (and 2, which has the same layout): magic "GGUF", u32 version, u64
// tensor count, u64 metadata count, metadata key/value pairs (all 13 value types, nested arrays),
// tensor infos (name, dims, ggml type, offset), padding to general.alignment (default 32), data.
// Everything is validated at open: counts and string lengths against the bytes left, value types,
// known ggml types, block divisibility, offsets aligned, in bounds and not overlapping.
#ifndef CACE_LIB_LOADER_GGUF_H_
#define CACE_LIB_LOADER_GGUF_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/loader/dtype.h"
#include "lib/loader/mapped_file.h"

namespace cace {

// Value type ids as written in the file.
enum class GgufType : std::uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};
std::string_view GgufTypeName(GgufType type);

struct GgufValue;
struct GgufArray {
  GgufType element_type = GgufType::kUint8;
  std::vector<GgufValue> items;
};

// One metadata value. Integers keep their signedness (uint64_t for kUint*, int64_t for kInt*),
// floats widen to double.
struct GgufValue {
  GgufType type = GgufType::kUint8;
  std::variant<std::uint64_t, std::int64_t, double, bool, std::string, GgufArray> value;
};

struct GgufTensorInfo {
  std::string name;
  DType dtype = DType::kF32;
  std::uint32_t ggml_type = 0;
  // Outermost first (numpy order), i.e. GGUF's ne[] reversed: a matrix with ne = {in, out} has
  // shape {out, in}, rows of `in` contiguous elements.
  std::vector<std::int64_t> shape;
  std::uint64_t offset = 0;  // relative to the data section
  std::uint64_t bytes = 0;
};

class GgufFile {
 public:
  // Maps and validates `path`; the mapping lives as long as the returned object (and copies).
  static absl::StatusOr<GgufFile> Open(const std::string& path);
  // Validates bytes the caller keeps alive (fuzzing, tests); `name` appears in errors.
  static absl::StatusOr<GgufFile> Parse(std::span<const std::byte> bytes, std::string name);

  const std::string& name() const { return name_; }
  std::uint32_t version() const { return version_; }
  std::uint64_t alignment() const { return alignment_; }
  std::uint64_t data_offset() const { return data_offset_; }

  // Metadata in file order.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return metadata_; }
  const GgufValue* Find(std::string_view key) const;

  // Typed look-ups; NotFound names the file and key, InvalidArgument a type mismatch. GetUint and
  // GetInt accept any integer type whose value fits; GetFloat accepts float32/float64.
  absl::StatusOr<std::string> GetString(std::string_view key) const;
  absl::StatusOr<std::uint64_t> GetUint(std::string_view key) const;
  absl::StatusOr<std::int64_t> GetInt(std::string_view key) const;
  absl::StatusOr<double> GetFloat(std::string_view key) const;
  absl::StatusOr<bool> GetBool(std::string_view key) const;
  absl::StatusOr<std::vector<std::string>> GetStringArray(std::string_view key) const;
  absl::StatusOr<std::vector<double>> GetFloatArray(std::string_view key) const;
  absl::StatusOr<std::vector<std::int64_t>> GetIntArray(std::string_view key) const;

  // Tensor infos in file order.
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* FindTensor(std::string_view tensor_name) const;
  // The tensor's bytes inside the file (already validated to be in bounds).
  std::span<const std::byte> TensorData(const GgufTensorInfo& tensor) const;
  std::span<const std::byte> bytes() const { return bytes_; }

 private:
  friend class GgufParser;
  std::shared_ptr<const MappedFile> file_;  // null when parsed from caller-owned bytes
  std::span<const std::byte> bytes_;
  std::string name_;
  std::uint32_t version_ = 0;
  std::uint64_t alignment_ = 32;
  std::uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<GgufTensorInfo> tensors_;
};

}  // namespace cace

#endif  // CACE_LIB_LOADER_GGUF_H_
