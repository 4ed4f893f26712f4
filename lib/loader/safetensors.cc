#include "lib/loader/safetensors.h"

#include <algorithm>
#include <cstring>

#include "fmt/format.h"
#include "lib/json/json.h"

namespace cace {
namespace {

// The safetensors reference implementation refuses headers above 100 MB; so does cace, so a
// corrupt length never makes it parse gigabytes.
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;

absl::Status Invalid(std::string_view file, std::string_view what) {
  return absl::InvalidArgumentError(fmt::format("{}: {}", file, what));
}

absl::StatusOr<SafetensorsTensor> ParseTensorEntry(std::string_view file, const std::string& name,
                                                   const JsonValue& entry, std::uint64_t data_bytes) {
  const std::string where = fmt::format("tensor '{}'", name);
  if (!entry.is_object()) return Invalid(file, fmt::format("{}: entry is not an object", where));
  SafetensorsTensor tensor;
  tensor.name = name;

  const JsonValue* dtype = entry.Find("dtype");
  if (dtype == nullptr || !dtype->is_string()) {
    return Invalid(file, fmt::format("{}: field 'dtype' is missing or not a string", where));
  }
  std::optional<DType> parsed = DTypeFromSafetensorsName(dtype->text());
  if (!parsed) return Invalid(file, fmt::format("{}: field 'dtype': unknown dtype \"{}\"", where, dtype->text()));
  tensor.dtype = *parsed;

  const JsonValue* shape = entry.Find("shape");
  if (shape == nullptr || !shape->is_array()) {
    return Invalid(file, fmt::format("{}: field 'shape' is missing or not an array", where));
  }
  for (std::size_t i = 0; i < shape->items().size(); ++i) {
    std::optional<std::int64_t> dim = shape->items()[i].AsInt64();
    if (!dim || *dim < 0) {
      return Invalid(file, fmt::format("{}: field 'shape'[{}] is not a non-negative integer", where, i));
    }
    tensor.shape.push_back(*dim);
  }

  const JsonValue* offsets = entry.Find("data_offsets");
  if (offsets == nullptr || !offsets->is_array() || offsets->items().size() != 2) {
    return Invalid(file, fmt::format("{}: field 'data_offsets' is missing or not a pair", where));
  }
  std::optional<std::uint64_t> begin = offsets->items()[0].AsUint64();
  std::optional<std::uint64_t> end = offsets->items()[1].AsUint64();
  if (!begin || !end) {
    return Invalid(file, fmt::format("{}: field 'data_offsets' holds a value that is not a non-negative integer", where));
  }
  if (*begin > *end) {
    return Invalid(file, fmt::format("{}: field 'data_offsets': begin {} is after end {}", where, *begin, *end));
  }
  if (*end > data_bytes) {
    return Invalid(file, fmt::format("{}: field 'data_offsets': end {} is past the data section of {} bytes "
                                     "(truncated file?)", where, *end, data_bytes));
  }
  tensor.begin = *begin;
  tensor.end = *end;

  absl::StatusOr<std::uint64_t> bytes = TensorBytes(tensor.dtype, tensor.shape);
  if (!bytes.ok()) return Invalid(file, fmt::format("{}: field 'shape': {}", where, std::string(bytes.status().message())));
  if (*bytes != tensor.bytes()) {
    return Invalid(file, fmt::format("{}: field 'data_offsets' spans {} bytes but dtype {} and shape need {}", where,
                                     tensor.bytes(), DTypeName(tensor.dtype), *bytes));
  }
  return tensor;
}

}  // namespace

absl::StatusOr<SafetensorsFile> SafetensorsFile::Open(const std::string& path) {
  absl::StatusOr<MappedFile> mapped = MappedFile::Open(path);
  if (!mapped.ok()) return mapped.status();
  auto file = std::make_shared<const MappedFile>(std::move(*mapped));
  absl::StatusOr<SafetensorsFile> parsed = Parse(file->bytes(), path);
  if (!parsed.ok()) return parsed.status();
  parsed->file_ = std::move(file);
  return parsed;
}

absl::StatusOr<SafetensorsFile> SafetensorsFile::Parse(std::span<const std::byte> bytes, std::string name) {
  if (bytes.size() < 8) {
    return Invalid(name, fmt::format("file of {} bytes is too short for the 8-byte header length", bytes.size()));
  }
  std::uint64_t header_bytes = 0;
  for (int i = 7; i >= 0; --i) header_bytes = (header_bytes << 8) | static_cast<std::uint8_t>(bytes[i]);
  if (header_bytes > kMaxHeaderBytes) {
    return Invalid(name, fmt::format("header length {} exceeds the limit of {} bytes", header_bytes, kMaxHeaderBytes));
  }
  if (header_bytes > bytes.size() - 8) {
    return Invalid(name, fmt::format("header length {} is larger than the {} bytes after it (truncated file?)",
                                     header_bytes, bytes.size() - 8));
  }
  const std::string_view header(reinterpret_cast<const char*>(bytes.data()) + 8, header_bytes);
  absl::StatusOr<JsonValue> json = ParseJson(header, fmt::format("{}: header", name));
  if (!json.ok()) return json.status();
  if (!json->is_object()) return Invalid(name, "header is not a JSON object");

  SafetensorsFile result;
  result.bytes_ = bytes;
  result.name_ = std::move(name);
  result.data_offset_ = 8 + header_bytes;
  const std::uint64_t data_bytes = bytes.size() - result.data_offset_;

  for (const auto& [key, value] : json->members()) {
    if (key == "__metadata__") {
      if (!value.is_object()) return Invalid(result.name_, "field '__metadata__' is not an object");
      for (const auto& [mkey, mvalue] : value.members()) {
        if (!mvalue.is_string()) {
          return Invalid(result.name_, fmt::format("field '__metadata__'.'{}' is not a string", mkey));
        }
        result.metadata_[mkey] = mvalue.text();
      }
      continue;
    }
    absl::StatusOr<SafetensorsTensor> tensor = ParseTensorEntry(result.name_, key, value, data_bytes);
    if (!tensor.ok()) return tensor.status();
    result.tensors_.push_back(std::move(*tensor));
  }

  // The data section must be covered exactly: no overlaps (two tensors sharing bytes), no gaps,
  // nothing trailing. Ties between empty tensors sort by name so the order is deterministic.
  std::sort(result.tensors_.begin(), result.tensors_.end(), [](const auto& a, const auto& b) {
    return a.begin != b.begin ? a.begin < b.begin : (a.end != b.end ? a.end < b.end : a.name < b.name);
  });
  std::uint64_t covered = 0;
  const SafetensorsTensor* previous = nullptr;
  for (const SafetensorsTensor& t : result.tensors_) {
    if (t.begin < covered) {
      return Invalid(result.name_, fmt::format("tensor '{}': field 'data_offsets' [{}, {}) overlaps tensor '{}'",
                                               t.name, t.begin, t.end, previous->name));
    }
    if (t.begin > covered) {
      return Invalid(result.name_, fmt::format("tensor '{}': field 'data_offsets' begins at {} leaving a gap of {} "
                                               "bytes after {}", t.name, t.begin, t.begin - covered,
                                               previous ? "tensor '" + previous->name + "'" : "the header"));
    }
    covered = t.end;
    previous = &t;
  }
  if (covered != data_bytes) {
    return Invalid(result.name_, fmt::format("tensors cover {} bytes of the {}-byte data section", covered, data_bytes));
  }
  return result;
}

const SafetensorsTensor* SafetensorsFile::Find(std::string_view tensor_name) const {
  for (const SafetensorsTensor& t : tensors_) {
    if (t.name == tensor_name) return &t;
  }
  return nullptr;
}

std::span<const std::byte> SafetensorsFile::TensorData(const SafetensorsTensor& tensor) const {
  return bytes_.subspan(data_offset_ + tensor.begin, tensor.bytes());
}

}  // namespace cace
