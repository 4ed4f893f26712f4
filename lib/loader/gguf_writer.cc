#include "lib/loader/gguf_writer.h"

#include <cstdio>
#include <cstring>
#include <fstream>

#include "absl/status/statusor.h"
#include "fmt/format.h"

namespace cace {
namespace {

template <typename T>
void Put(std::string& out, T value) {
  char buf[sizeof(T)];
  std::memcpy(buf, &value, sizeof(T));
  out.append(buf, sizeof(T));
}

void PutString(std::string& out, std::string_view s) {
  Put<std::uint64_t>(out, s.size());
  out.append(s);
}

// Value type ids of the GGUF specification.
constexpr std::uint32_t kUint32 = 4, kInt32 = 5, kFloat32 = 6, kBool = 7, kString = 8, kArray = 9;

}  // namespace

GgufWriter::GgufWriter(std::uint32_t alignment) : alignment_(alignment) {
  if (alignment_ != 32) AddUint32("general.alignment", alignment_);
}

void GgufWriter::Key(std::string_view key, std::uint32_t type) {
  ++kv_count_;
  PutString(kv_, key);
  Put(kv_, type);
}

void GgufWriter::AddString(std::string_view key, std::string_view value) {
  Key(key, kString);
  PutString(kv_, value);
}
void GgufWriter::AddUint32(std::string_view key, std::uint32_t value) {
  Key(key, kUint32);
  Put(kv_, value);
}
void GgufWriter::AddInt32(std::string_view key, std::int32_t value) {
  Key(key, kInt32);
  Put(kv_, value);
}
void GgufWriter::AddFloat32(std::string_view key, float value) {
  Key(key, kFloat32);
  Put(kv_, value);
}
void GgufWriter::AddBool(std::string_view key, bool value) {
  Key(key, kBool);
  Put<std::uint8_t>(kv_, value ? 1 : 0);
}
void GgufWriter::AddStringArray(std::string_view key, const std::vector<std::string>& values) {
  Key(key, kArray);
  Put(kv_, kString);
  Put<std::uint64_t>(kv_, values.size());
  for (const std::string& v : values) PutString(kv_, v);
}
void GgufWriter::AddFloat32Array(std::string_view key, const std::vector<float>& values) {
  Key(key, kArray);
  Put(kv_, kFloat32);
  Put<std::uint64_t>(kv_, values.size());
  for (float v : values) Put(kv_, v);
}
void GgufWriter::AddInt32Array(std::string_view key, const std::vector<std::int32_t>& values) {
  Key(key, kArray);
  Put(kv_, kInt32);
  Put<std::uint64_t>(kv_, values.size());
  for (std::int32_t v : values) Put(kv_, v);
}

void GgufWriter::AddTensor(std::string_view name, DType dtype, std::vector<std::int64_t> shape,
                           std::vector<std::byte> data) {
  tensors_.push_back(Tensor{std::string(name), dtype, std::move(shape), std::move(data)});
}

absl::StatusOr<std::vector<std::byte>> GgufWriter::Serialize() const {
  std::string head;
  Put<std::uint32_t>(head, 0x46554747);  // "GGUF"
  Put<std::uint32_t>(head, 3);
  Put<std::uint64_t>(head, tensors_.size());
  Put<std::uint64_t>(head, kv_count_);
  head += kv_;
  std::uint64_t offset = 0;
  auto align = [&](std::uint64_t v) { return (v + alignment_ - 1) / alignment_ * alignment_; };
  for (const Tensor& t : tensors_) {
    absl::StatusOr<std::uint64_t> bytes = TensorBytes(t.dtype, t.shape);
    if (!bytes.ok()) return bytes.status();
    std::optional<std::uint32_t> ggml = GgmlTypeOf(t.dtype);
    if (*bytes != t.data.size() || !ggml) {
      return absl::InvalidArgumentError(fmt::format("GGUF writer: tensor '{}' has {} bytes of data, {} expected{}",
                                                    t.name, t.data.size(), *bytes, ggml ? "" : " (no ggml type)"));
    }
    PutString(head, t.name);
    Put<std::uint32_t>(head, static_cast<std::uint32_t>(t.shape.size()));
    for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) Put<std::uint64_t>(head, static_cast<std::uint64_t>(*it));
    Put<std::uint32_t>(head, *ggml);
    offset = align(offset);
    Put<std::uint64_t>(head, offset);
    offset += t.data.size();
  }
  std::vector<std::byte> out(align(head.size()));
  std::memcpy(out.data(), head.data(), head.size());
  for (const Tensor& t : tensors_) {
    out.resize(align(out.size()));
    out.insert(out.end(), t.data.begin(), t.data.end());
  }
  return out;
}

absl::Status GgufWriter::WriteFile(const std::string& path) const {
  absl::StatusOr<std::vector<std::byte>> bytes = Serialize();
  if (!bytes.ok()) return bytes.status();
  return WriteFileAtomically(path, *bytes);
}

absl::Status WriteFileAtomically(const std::string& path, std::span<const std::byte> bytes) {
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) return absl::InternalError(fmt::format("{}: cannot write", temp));
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(fmt::format("{}: cannot rename to {}: {}", temp, path, std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace cace
