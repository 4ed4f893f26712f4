#include "lib/loader/gguf.h"

#include <algorithm>
#include <cstring>

#include "absl/container/flat_hash_set.h"
#include "fmt/format.h"

namespace cace {
namespace {

constexpr std::uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr int kMaxArrayNesting = 8;
constexpr std::uint32_t kMaxDims = 4;  // GGML_MAX_DIMS

// Smallest encoding of one value of each type, so counts read from the file can be checked
// against the bytes left before anything is reserved for them.
std::uint64_t MinEncodedBytes(GgufType type) {
  switch (type) {
    case GgufType::kUint8: case GgufType::kInt8: case GgufType::kBool: return 1;
    case GgufType::kUint16: case GgufType::kInt16: return 2;
    case GgufType::kUint32: case GgufType::kInt32: case GgufType::kFloat32: return 4;
    case GgufType::kUint64: case GgufType::kInt64: case GgufType::kFloat64: case GgufType::kString: return 8;
    case GgufType::kArray: return 12;
  }
  return 1;
}

}  // namespace

std::string_view GgufTypeName(GgufType type) {
  switch (type) {
    case GgufType::kUint8: return "uint8";
    case GgufType::kInt8: return "int8";
    case GgufType::kUint16: return "uint16";
    case GgufType::kInt16: return "int16";
    case GgufType::kUint32: return "uint32";
    case GgufType::kInt32: return "int32";
    case GgufType::kFloat32: return "float32";
    case GgufType::kBool: return "bool";
    case GgufType::kString: return "string";
    case GgufType::kArray: return "array";
    case GgufType::kUint64: return "uint64";
    case GgufType::kInt64: return "int64";
    case GgufType::kFloat64: return "float64";
  }
  return "unknown";
}

// Reads the file front to back; every read checks the bytes left first.
class GgufParser {
 public:
  GgufParser(std::span<const std::byte> bytes, std::string name) : bytes_(bytes), name_(std::move(name)) {}

  absl::StatusOr<GgufFile> Parse() {
    GgufFile file;
    file.bytes_ = bytes_;
    file.name_ = name_;
    std::uint32_t magic = 0;
    if (!ReadU32(magic, "magic")) return Error();
    if (magic != kMagic) return Fail("magic", "not a GGUF file (magic is not \"GGUF\")");
    if (!ReadU32(file.version_, "version")) return Error();
    if (file.version_ != 2 && file.version_ != 3) {
      return Fail("version", fmt::format("unsupported GGUF version {} (cace reads 2 and 3)", file.version_));
    }
    std::uint64_t tensor_count = 0, kv_count = 0;
    if (!ReadU64(tensor_count, "tensor_count") || !ReadU64(kv_count, "metadata_kv_count")) return Error();
    if (kv_count > Left() / 12) {
      return Fail("metadata_kv_count", fmt::format("{} entries cannot fit in the {} bytes left", kv_count, Left()));
    }
    if (tensor_count > Left() / 24) {
      return Fail("tensor_count", fmt::format("{} tensors cannot fit in the {} bytes left", tensor_count, Left()));
    }

    absl::flat_hash_set<std::string> keys;
    for (std::uint64_t i = 0; i < kv_count; ++i) {
      std::string key;
      if (!ReadString(key, fmt::format("metadata[{}].key", i))) return Error();
      std::uint32_t type = 0;
      if (!ReadU32(type, fmt::format("metadata '{}' value type", key))) return Error();
      GgufValue value;
      if (!ReadValue(type, value, key, 0)) return Error();
      if (!keys.insert(key).second) return Fail(fmt::format("metadata '{}'", key), "duplicate key");
      file.metadata_.emplace_back(std::move(key), std::move(value));
    }

    if (const GgufValue* alignment = file.Find("general.alignment")) {
      const auto* v = std::get_if<std::uint64_t>(&alignment->value);
      if (alignment->type != GgufType::kUint32 || v == nullptr || *v == 0 || (*v & (*v - 1)) != 0) {
        return Fail("metadata 'general.alignment'", "must be a uint32 power of two");
      }
      file.alignment_ = *v;
    }

    absl::flat_hash_set<std::string> names;
    for (std::uint64_t i = 0; i < tensor_count; ++i) {
      GgufTensorInfo info;
      if (!ReadTensorInfo(i, info)) return Error();
      if (!names.insert(info.name).second) return Fail(fmt::format("tensor '{}'", info.name), "duplicate name");
      file.tensors_.push_back(std::move(info));
    }

    // The data section starts at the next multiple of the alignment.
    const std::uint64_t a = file.alignment_;
    const std::uint64_t data_offset = (pos_ + a - 1) / a * a;
    file.data_offset_ = data_offset;
    const std::uint64_t data_bytes = data_offset <= bytes_.size() ? bytes_.size() - data_offset : 0;
    if (absl::Status s = CheckTensorPlacement(file.tensors_, a, data_bytes); !s.ok()) return s;
    return file;
  }

 private:
  std::uint64_t Left() const { return bytes_.size() - pos_; }

  absl::Status Error() const { return absl::InvalidArgumentError(error_); }
  absl::Status Fail(std::string_view field, std::string_view what) {
    SetError(field, what);
    return Error();
  }
  bool SetError(std::string_view field, std::string_view what) {
    if (error_.empty()) error_ = fmt::format("{}: field '{}' at byte {}: {}", name_, field, pos_, what);
    return false;
  }

  bool Take(void* out, std::uint64_t n, std::string_view field) {
    if (n > Left()) {
      return SetError(field, fmt::format("needs {} bytes but the file has {} left (truncated file?)", n, Left()));
    }
    std::memcpy(out, bytes_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  // GGUF is little endian, as is every machine cace targets (x86-64, aarch64).
  bool ReadU32(std::uint32_t& v, std::string_view field) { return Take(&v, 4, field); }
  bool ReadU64(std::uint64_t& v, std::string_view field) { return Take(&v, 8, field); }

  bool ReadString(std::string& out, std::string_view field) {
    std::uint64_t length = 0;
    if (!ReadU64(length, field)) return false;
    if (length > Left()) {
      return SetError(field, fmt::format("string length {} exceeds the {} bytes left (truncated file?)", length, Left()));
    }
    out.assign(reinterpret_cast<const char*>(bytes_.data()) + pos_, length);
    pos_ += length;
    return true;
  }

  bool ReadValue(std::uint32_t raw_type, GgufValue& out, const std::string& key, int depth) {
    if (raw_type > static_cast<std::uint32_t>(GgufType::kFloat64)) {
      return SetError(fmt::format("metadata '{}'", key), fmt::format("unknown value type {}", raw_type));
    }
    out.type = static_cast<GgufType>(raw_type);
    const std::string field = fmt::format("metadata '{}'", key);
    switch (out.type) {
      case GgufType::kUint8: { std::uint8_t v; if (!Take(&v, 1, field)) return false; out.value = std::uint64_t{v}; return true; }
      case GgufType::kUint16: { std::uint16_t v; if (!Take(&v, 2, field)) return false; out.value = std::uint64_t{v}; return true; }
      case GgufType::kUint32: { std::uint32_t v; if (!Take(&v, 4, field)) return false; out.value = std::uint64_t{v}; return true; }
      case GgufType::kUint64: { std::uint64_t v; if (!Take(&v, 8, field)) return false; out.value = v; return true; }
      case GgufType::kInt8: { std::int8_t v; if (!Take(&v, 1, field)) return false; out.value = std::int64_t{v}; return true; }
      case GgufType::kInt16: { std::int16_t v; if (!Take(&v, 2, field)) return false; out.value = std::int64_t{v}; return true; }
      case GgufType::kInt32: { std::int32_t v; if (!Take(&v, 4, field)) return false; out.value = std::int64_t{v}; return true; }
      case GgufType::kInt64: { std::int64_t v; if (!Take(&v, 8, field)) return false; out.value = v; return true; }
      case GgufType::kFloat32: { float v; if (!Take(&v, 4, field)) return false; out.value = double{v}; return true; }
      case GgufType::kFloat64: { double v; if (!Take(&v, 8, field)) return false; out.value = v; return true; }
      case GgufType::kBool: {
        std::uint8_t v;
        if (!Take(&v, 1, field)) return false;
        if (v > 1) return SetError(field, fmt::format("bool value {} is neither 0 nor 1", v));
        out.value = v == 1;
        return true;
      }
      case GgufType::kString: {
        std::string s;
        if (!ReadString(s, field)) return false;
        out.value = std::move(s);
        return true;
      }
      case GgufType::kArray: return ReadArray(out, key, depth);
    }
    return false;
  }

  bool ReadArray(GgufValue& out, const std::string& key, int depth) {
    const std::string field = fmt::format("metadata '{}'", key);
    if (depth >= kMaxArrayNesting) return SetError(field, fmt::format("arrays nested deeper than {}", kMaxArrayNesting));
    std::uint32_t element_type = 0;
    std::uint64_t count = 0;
    if (!ReadU32(element_type, field) || !ReadU64(count, field)) return false;
    if (element_type > static_cast<std::uint32_t>(GgufType::kFloat64)) {
      return SetError(field, fmt::format("unknown array element type {}", element_type));
    }
    const auto type = static_cast<GgufType>(element_type);
    if (count > Left() / MinEncodedBytes(type)) {
      return SetError(field, fmt::format("array of {} {} values cannot fit in the {} bytes left", count,
                                         GgufTypeName(type), Left()));
    }
    GgufArray array;
    array.element_type = type;
    array.items.resize(count);
    for (GgufValue& item : array.items) {
      if (!ReadValue(element_type, item, key, depth + 1)) return false;
    }
    out.value = std::move(array);
    return true;
  }

  bool ReadTensorInfo(std::uint64_t index, GgufTensorInfo& info) {
    if (!ReadString(info.name, fmt::format("tensor_infos[{}].name", index))) return false;
    const std::string field = fmt::format("tensor '{}'", info.name);
    std::uint32_t n_dims = 0;
    if (!ReadU32(n_dims, field + ".n_dimensions")) return false;
    if (n_dims > kMaxDims) return SetError(field + ".n_dimensions", fmt::format("{} dimensions (ggml allows {})", n_dims, kMaxDims));
    std::vector<std::int64_t> ne(n_dims);
    for (std::uint32_t d = 0; d < n_dims; ++d) {
      std::uint64_t dim = 0;
      if (!ReadU64(dim, field + ".dimensions")) return false;
      if (dim > static_cast<std::uint64_t>(INT64_MAX)) return SetError(field + ".dimensions", fmt::format("dimension {} is too large", dim));
      ne[d] = static_cast<std::int64_t>(dim);
    }
    info.shape.assign(ne.rbegin(), ne.rend());
    if (!ReadU32(info.ggml_type, field + ".type")) return false;
    std::optional<DType> dtype = DTypeFromGgmlType(info.ggml_type);
    if (!dtype) return SetError(field + ".type", fmt::format("unknown or unsupported ggml type {}", info.ggml_type));
    info.dtype = *dtype;
    if (!ReadU64(info.offset, field + ".offset")) return false;
    absl::StatusOr<std::uint64_t> bytes = TensorBytes(info.dtype, info.shape);
    if (!bytes.ok()) return SetError(field + ".dimensions", std::string(bytes.status().message()));
    info.bytes = *bytes;
    return true;
  }

  absl::Status CheckTensorPlacement(const std::vector<GgufTensorInfo>& tensors, std::uint64_t alignment,
                                    std::uint64_t data_bytes) {
    std::vector<const GgufTensorInfo*> by_offset;
    for (const GgufTensorInfo& t : tensors) {
      const std::string field = fmt::format("tensor '{}'.offset", t.name);
      if (t.offset % alignment != 0) {
        return Fail(field, fmt::format("offset {} is not a multiple of the alignment {}", t.offset, alignment));
      }
      if (t.offset > data_bytes || t.bytes > data_bytes - t.offset) {
        return Fail(field, fmt::format("bytes [{}, {}+{}) lie past the end of the {}-byte data section (truncated file?)",
                                       t.offset, t.offset, t.bytes, data_bytes));
      }
      by_offset.push_back(&t);
    }
    std::sort(by_offset.begin(), by_offset.end(),
              [](const auto* a, const auto* b) { return a->offset < b->offset; });
    for (std::size_t i = 1; i < by_offset.size(); ++i) {
      const GgufTensorInfo& prev = *by_offset[i - 1];
      const GgufTensorInfo& cur = *by_offset[i];
      if (prev.bytes > 0 && cur.bytes > 0 && cur.offset < prev.offset + prev.bytes) {
        return Fail(fmt::format("tensor '{}'.offset", cur.name),
                    fmt::format("bytes at {} overlap tensor '{}' [{}, {})", cur.offset, prev.name, prev.offset,
                                prev.offset + prev.bytes));
      }
    }
    return absl::OkStatus();
  }

  std::span<const std::byte> bytes_;
  std::string name_;
  std::uint64_t pos_ = 0;
  std::string error_;
};

absl::StatusOr<GgufFile> GgufFile::Open(const std::string& path) {
  absl::StatusOr<MappedFile> mapped = MappedFile::Open(path);
  if (!mapped.ok()) return mapped.status();
  auto file = std::make_shared<const MappedFile>(std::move(*mapped));
  absl::StatusOr<GgufFile> parsed = Parse(file->bytes(), path);
  if (!parsed.ok()) return parsed.status();
  parsed->file_ = std::move(file);
  return parsed;
}

absl::StatusOr<GgufFile> GgufFile::Parse(std::span<const std::byte> bytes, std::string name) {
  return GgufParser(bytes, std::move(name)).Parse();
}

const GgufValue* GgufFile::Find(std::string_view key) const {
  for (const auto& [k, v] : metadata_) {
    if (k == key) return &v;
  }
  return nullptr;
}

const GgufTensorInfo* GgufFile::FindTensor(std::string_view tensor_name) const {
  for (const GgufTensorInfo& t : tensors_) {
    if (t.name == tensor_name) return &t;
  }
  return nullptr;
}

std::span<const std::byte> GgufFile::TensorData(const GgufTensorInfo& tensor) const {
  return bytes_.subspan(data_offset_ + tensor.offset, tensor.bytes);
}

}  // namespace cace
