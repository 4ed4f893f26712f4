#include "lib/loader/model_loader.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include "fmt/format.h"
#include "lib/json/json.h"
#include "lib/loader/gguf.h"
#include "lib/loader/safetensors.h"
#include "lib/loader/tensor_names.h"

namespace cace {
namespace {

namespace fs = std::filesystem;

struct SourceTensor {
  std::string name;
  DType dtype;
  std::vector<std::int64_t> shape;
  std::span<const std::byte> bytes;  // in the file's mapping
  std::string file;
  std::uint64_t file_offset;
};

// A validated plan plus where each tensor's bytes are, in the mapping and in the file.
struct Prepared {
  ModelPlan plan;
  std::vector<SourceTensor> sources;  // parallel to plan.tensors
  std::vector<std::shared_ptr<const void>> keep_alive;
};

constexpr std::uint64_t kReadChunk = 64 << 20;
constexpr std::uint64_t kCacheLine = 64;

// Host pools: pread() each tensor's bytes from the file straight into the arena. The bytes pass
// once from the page cache (or the disk) to their place, as with a plain read(), without the page
// faults of copying from the mapping; and a file truncated after validation gives a short read
// (an error) rather than SIGBUS. Tensors are read in file order, so the reads stay sequential.
absl::Status ReadIntoHostPool(const Prepared& prepared, std::byte* allocation) {
  std::vector<std::size_t> order(prepared.sources.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const SourceTensor& x = prepared.sources[a];
    const SourceTensor& y = prepared.sources[b];
    return x.file != y.file ? x.file < y.file : x.file_offset < y.file_offset;
  });
  int fd = -1;
  std::string open_file;
  absl::Status status;
  for (std::size_t i : order) {
    const SourceTensor& src = prepared.sources[i];
    if (src.file != open_file) {
      if (fd >= 0) ::close(fd);
      fd = ::open(src.file.c_str(), O_RDONLY | O_CLOEXEC);
      open_file = src.file;
      if (fd < 0) {
        status = absl::NotFoundError(fmt::format("{}: cannot reopen for reading: {}", src.file, std::strerror(errno)));
        break;
      }
    }
    std::byte* dst = allocation + prepared.plan.tensors[i].offset;
    for (std::uint64_t done = 0; done < src.bytes.size() && status.ok();) {
      const std::uint64_t want = std::min(kReadChunk, src.bytes.size() - done);
      const ssize_t got = ::pread(fd, dst + done, want, static_cast<off_t>(src.file_offset + done));
      if (got <= 0) {
        if (got < 0 && errno == EINTR) continue;
        status = absl::DataLossError(fmt::format("{}: tensor '{}': read of {} bytes at {} failed ({}): file changed "
                                                 "after validation?", src.file, src.name, want, src.file_offset + done,
                                                 got == 0 ? "end of file" : std::strerror(errno)));
      } else {
        done += static_cast<std::uint64_t>(got);
      }
    }
    if (!status.ok()) break;
  }
  if (fd >= 0) ::close(fd);
  return status;
}

std::string ShapeText(const std::vector<std::int64_t>& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

absl::Status CheckAgainstConfig(const std::vector<SourceTensor>& tensors, const ModelConfig& config,
                                TensorNaming naming, std::string_view path) {
  std::map<std::string_view, const SourceTensor*> by_name;
  for (const SourceTensor& t : tensors) by_name[t.name] = &t;
  for (const ExpectedTensor& e : ExpectedTensors(config, naming)) {
    auto it = by_name.find(e.name);
    if (it == by_name.end()) {
      return absl::InvalidArgumentError(fmt::format("{}: tensor '{}' is missing (the config needs it)", path, e.name));
    }
    if (it->second->shape != e.shape) {
      return absl::InvalidArgumentError(fmt::format("{}: tensor '{}': field 'shape' is {} but the config implies {}",
                                                    it->second->file, e.name, ShapeText(it->second->shape),
                                                    ShapeText(e.shape)));
    }
    if (!e.is_matrix && DTypeIsQuantized(it->second->dtype)) {
      return absl::InvalidArgumentError(fmt::format("{}: tensor '{}': field 'dtype' {} is quantized; norms and biases "
                                                    "must be F32, F16 or BF16", it->second->file, e.name,
                                                    DTypeName(it->second->dtype)));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> SafetensorsShards(const fs::path& dir) {
  const fs::path index = dir / "model.safetensors.index.json";
  if (!fs::exists(index)) return std::vector<std::string>{(dir / "model.safetensors").string()};
  absl::StatusOr<MappedFile> mapped = MappedFile::Open(index.string());
  if (!mapped.ok()) return mapped.status();
  const std::string_view text(reinterpret_cast<const char*>(mapped->bytes().data()), mapped->size());
  absl::StatusOr<JsonValue> json = ParseJson(text, index.string());
  if (!json.ok()) return json.status();
  const JsonValue* map = json->Find("weight_map");
  if (map == nullptr || !map->is_object()) {
    return absl::InvalidArgumentError(fmt::format("{}: field 'weight_map' is missing or not an object", index.string()));
  }
  std::set<std::string> shards;
  for (const auto& [tensor, file] : map->members()) {
    if (!file.is_string() || file.text().empty() || file.text().find('/') != std::string::npos) {
      return absl::InvalidArgumentError(
          fmt::format("{}: field 'weight_map'.'{}' is not a file name in the same folder", index.string(), tensor));
    }
    shards.insert((dir / file.text()).string());
  }
  return std::vector<std::string>(shards.begin(), shards.end());
}

absl::Status PrepareSafetensors(const fs::path& dir, Prepared& out, std::vector<SourceTensor>& tensors) {
  absl::StatusOr<ModelConfig> config = ReadHfConfigFile((dir / "config.json").string());
  if (!config.ok()) return config.status();
  out.plan.config = *config;
  absl::StatusOr<std::vector<std::string>> shards = SafetensorsShards(dir);
  if (!shards.ok()) return shards.status();
  std::set<std::string> names;
  for (const std::string& shard : *shards) {
    absl::StatusOr<SafetensorsFile> file = SafetensorsFile::Open(shard);
    if (!file.ok()) return file.status();
    auto held = std::make_shared<SafetensorsFile>(std::move(*file));
    for (const SafetensorsTensor& t : held->tensors()) {
      if (!names.insert(t.name).second) {
        return absl::InvalidArgumentError(fmt::format("{}: tensor '{}' also appears in another shard", shard, t.name));
      }
      tensors.push_back(SourceTensor{t.name, t.dtype, t.shape, held->TensorData(t), shard, held->data_offset() + t.begin});
    }
    out.keep_alive.push_back(std::move(held));
  }
  return CheckAgainstConfig(tensors, out.plan.config, TensorNaming::kHuggingFace, dir.string());
}

absl::Status PrepareGguf(const std::string& path, Prepared& out, std::vector<SourceTensor>& tensors) {
  absl::StatusOr<GgufFile> file = GgufFile::Open(path);
  if (!file.ok()) return file.status();
  auto held = std::make_shared<GgufFile>(std::move(*file));
  absl::StatusOr<ModelConfig> config = ModelConfigFromGguf(*held);
  if (!config.ok()) return config.status();
  out.plan.config = *config;
  for (const GgufTensorInfo& t : held->tensors()) {
    tensors.push_back(SourceTensor{t.name, t.dtype, t.shape, held->TensorData(t), path, held->data_offset() + t.offset});
  }
  out.keep_alive.push_back(std::move(held));
  return CheckAgainstConfig(tensors, out.plan.config, TensorNaming::kGguf, path);
}

absl::StatusOr<Prepared> Prepare(const std::string& path, const LoadOptions& options) {
  const std::uint64_t align = options.tensor_alignment;
  if (align == 0 || (align & (align - 1)) != 0) {
    return absl::InvalidArgumentError(fmt::format("tensor alignment {} is not a power of two", align));
  }
  Prepared out;
  out.plan.path = path;
  std::vector<SourceTensor> tensors;
  std::error_code ec;
  absl::Status status;
  if (fs::is_directory(path, ec)) {
    out.plan.format = ModelFormat::kSafetensors;
    status = PrepareSafetensors(path, out, tensors);
  } else if (fs::path(path).extension() == ".safetensors") {
    out.plan.format = ModelFormat::kSafetensors;
    status = PrepareSafetensors(fs::path(path).parent_path(), out, tensors);
  } else {
    out.plan.format = ModelFormat::kGguf;
    status = PrepareGguf(path, out, tensors);
  }
  if (!status.ok()) return status;

  // Sizes and offsets were checked against the files, so none of this arithmetic overflows.
  std::uint64_t cursor = 0;
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> regions;  // file -> [first, end) of tensor bytes
  std::map<std::string, std::uint64_t> region_start;  // file -> offset of its region in the allocation
  if (options.layout == TensorLayout::kFileLayout) {
    for (const SourceTensor& t : tensors) {
      auto [it, fresh] = regions.try_emplace(t.file, t.file_offset, t.file_offset + t.bytes.size());
      if (!fresh) {
        it->second.first = std::min(it->second.first, t.file_offset);
        it->second.second = std::max(it->second.second, t.file_offset + t.bytes.size());
      }
    }
    for (const auto& [file, range] : regions) {
      const std::uint64_t place = (cursor + kCacheLine - 1) / kCacheLine * kCacheLine + range.first % kCacheLine;
      region_start[file] = place;
      cursor = place + (range.second - range.first);
    }
  }
  for (SourceTensor& t : tensors) {
    std::uint64_t offset = 0;
    if (options.layout == TensorLayout::kFileLayout) {
      offset = region_start[t.file] + (t.file_offset - regions[t.file].first);
    } else {
      offset = cursor = (cursor + align - 1) / align * align;
      cursor += t.bytes.size();
    }
    out.plan.tensors.push_back(LoadedTensor{t.name, t.dtype, t.shape, offset, t.bytes.size()});
    out.sources.push_back(std::move(t));
  }
  out.plan.total_bytes = std::max<std::uint64_t>(cursor, 1);
  return out;
}

}  // namespace

const LoadedTensor* LoadedModel::Find(std::string_view name) const {
  for (const LoadedTensor& t : tensors) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

absl::StatusOr<ModelPlan> ModelLoader::Plan(const std::string& path) const {
  absl::StatusOr<Prepared> prepared = Prepare(path, options_);
  if (!prepared.ok()) return prepared.status();
  return std::move(prepared->plan);
}

absl::StatusOr<LoadedModel> ModelLoader::Load(const std::string& path, std::string_view owner) {
  absl::StatusOr<Prepared> prepared = Prepare(path, options_);
  if (!prepared.ok()) return prepared.status();
  ModelPlan& plan = prepared->plan;
  absl::StatusOr<Allocation> allocation =
      pool_.Allocate(plan.total_bytes, std::max(options_.tensor_alignment, kCacheLine), owner);
  if (!allocation.ok()) {
    return absl::Status(allocation.status().code(),
                        fmt::format("{}: loading {} bytes: {}", path, plan.total_bytes,
                                    std::string(allocation.status().message())));
  }
  absl::Status copied;
  if (pool_.kind() == MemoryKind::kHost) {
    absl::StatusOr<void*> address = pool_.Address(allocation->id);
    copied = address.ok() ? ReadIntoHostPool(*prepared, static_cast<std::byte*>(*address)) : address.status();
  } else {
    // Device pools take host bytes through Write (the device arena streams them through pinned
    // staging buffers); the mapping is the source.
    for (std::size_t i = 0; i < plan.tensors.size() && copied.ok(); ++i) {
      const std::span<const std::byte> src = prepared->sources[i].bytes;
      if (!src.empty()) copied = pool_.Write(allocation->id, plan.tensors[i].offset, src.data(), src.size());
    }
  }
  if (!copied.ok()) {
    (void)pool_.Free(allocation->id);  // the id is ours and live: Free cannot fail here
    return copied;
  }
  LoadedModel model;
  model.path = std::move(plan.path);
  model.format = plan.format;
  model.config = plan.config;
  model.allocation = allocation->id;
  model.allocation_bytes = allocation->bytes;
  model.tensors = std::move(plan.tensors);
  return model;
}

}  // namespace cace
