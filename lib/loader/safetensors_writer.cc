#include "lib/loader/safetensors_writer.h"

#include <cstring>

#include "fmt/format.h"
#include "lib/loader/gguf_writer.h"

namespace cace {

std::string JsonQuote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

void SafetensorsWriter::AddTensor(std::string_view name, DType dtype, std::vector<std::int64_t> shape,
                                  std::vector<std::byte> data) {
  tensors_.push_back(Tensor{std::string(name), dtype, std::move(shape), std::move(data)});
}

void SafetensorsWriter::AddMetadata(std::string_view key, std::string_view value) {
  metadata_.emplace_back(std::string(key), std::string(value));
}

absl::StatusOr<std::vector<std::byte>> SafetensorsWriter::Serialize() const {
  std::string header = "{";
  if (!metadata_.empty()) {
    header += "\"__metadata__\":{";
    for (std::size_t i = 0; i < metadata_.size(); ++i) {
      header += fmt::format("{}{}:{}", i ? "," : "", JsonQuote(metadata_[i].first), JsonQuote(metadata_[i].second));
    }
    header += "}";
  }
  std::uint64_t offset = 0;
  for (const Tensor& t : tensors_) {
    absl::StatusOr<std::uint64_t> bytes = TensorBytes(t.dtype, t.shape);
    if (!bytes.ok()) return bytes.status();
    if (DTypeIsQuantized(t.dtype) || *bytes != t.data.size()) {
      return absl::InvalidArgumentError(
          fmt::format("safetensors writer: tensor '{}' ({}) has {} bytes, {} expected", t.name, DTypeName(t.dtype),
                      t.data.size(), *bytes));
    }
    if (header.size() > 1) header += ",";
    header += fmt::format("{}:{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{},{}]}}", JsonQuote(t.name),
                          DTypeName(t.dtype), fmt::join(t.shape, ","), offset, offset + t.data.size());
    offset += t.data.size();
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');
  std::vector<std::byte> out(8 + header.size());
  const std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<std::byte>((n >> (8 * i)) & 0xFF);
  std::memcpy(out.data() + 8, header.data(), header.size());
  for (const Tensor& t : tensors_) out.insert(out.end(), t.data.begin(), t.data.end());
  return out;
}

absl::Status SafetensorsWriter::WriteFile(const std::string& path) const {
  absl::StatusOr<std::vector<std::byte>> bytes = Serialize();
  if (!bytes.ok()) return bytes.status();
  return WriteFileAtomically(path, *bytes);
}

}  // namespace cace
