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
#include "lib/loader/dequantize.h"
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
  std::span<const std::byte> bytes;  // in the file's mapping (its size is what is read)
  std::string file;
  std::uint64_t file_offset;
};

// A validated plan plus where each tensor's bytes are in the files.
struct Prepared {
  ModelPlan plan;
  std::vector<SourceTensor> sources;  // parallel to plan.tensors
  std::vector<std::shared_ptr<const void>> keep_alive;
};

constexpr std::uint64_t kReadChunk = 64 << 20;
constexpr std::uint64_t kCacheLine = 64;

std::string ShapeText(const std::vector<std::int64_t>& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

// Reads tensor bytes from the files with pread(), in chunks, checking for cancellation before
// each chunk and reporting progress after it. Opens each file once while its tensors are read.
class ChunkReader {
 public:
  ChunkReader(const LoadOptions& options, std::uint64_t total) : options_(options), total_(total) {}
  ~ChunkReader() {
    if (fd_ >= 0) ::close(fd_);
  }

  // Bytes [from, from + n) of the tensor into dst.
  absl::Status Read(const SourceTensor& src, std::uint64_t from, std::uint64_t n, std::byte* dst) {
    if (src.file != open_file_) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = ::open(src.file.c_str(), O_RDONLY | O_CLOEXEC);
      open_file_ = src.file;
      if (fd_ < 0) {
        return absl::NotFoundError(fmt::format("{}: cannot reopen for reading: {}", src.file, std::strerror(errno)));
      }
    }
    for (std::uint64_t done = 0; done < n;) {
      if (options_.cancel.stop_requested()) return absl::CancelledError(fmt::format("{}: load cancelled", src.file));
      const std::uint64_t want = std::min(kReadChunk, n - done);
      const std::uint64_t at = src.file_offset + from + done;
      const ssize_t got = ::pread(fd_, dst + done, want, static_cast<off_t>(at));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        return absl::DataLossError(fmt::format("{}: tensor '{}': read of {} bytes at {} failed ({}): file changed "
                                               "after validation?", src.file, src.name, want, at,
                                               got == 0 ? "end of file" : std::strerror(errno)));
      }
      done += static_cast<std::uint64_t>(got);
      read_ += static_cast<std::uint64_t>(got);
      if (options_.progress) options_.progress(read_, total_);
    }
    return absl::OkStatus();
  }

 private:
  const LoadOptions& options_;
  const std::uint64_t total_;
  std::uint64_t read_ = 0;
  int fd_ = -1;
  std::string open_file_;
};

// Reads every tensor of the plan into the allocation, converting those stored in another type.
// Host pools take the bytes straight at their place (pread once from the page cache or disk, as a
// plain read(), without the page faults of copying from the mapping); device pools through a
// staging buffer. Tensors are read in file order, so the reads stay sequential.
absl::Status ReadTensors(const Prepared& prepared, const LoadOptions& options, MemoryPool& pool, AllocationId id) {
  std::byte* host = nullptr;
  if (pool.kind() == MemoryKind::kHost) {
    absl::StatusOr<void*> address = pool.Address(id);
    if (!address.ok()) return address.status();
    host = static_cast<std::byte*>(*address);
  }
  std::vector<std::size_t> order(prepared.sources.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const SourceTensor& x = prepared.sources[a];
    const SourceTensor& y = prepared.sources[b];
    return x.file != y.file ? x.file < y.file : x.file_offset < y.file_offset;
  });
  ChunkReader reader(options, prepared.plan.file_bytes);
  std::vector<std::byte> staging, converted;
  for (std::size_t i : order) {
    const SourceTensor& src = prepared.sources[i];
    const LoadedTensor& t = prepared.plan.tensors[i];
    const std::uint64_t size = src.bytes.size();
    if (t.dtype == src.dtype && host != nullptr) {
      if (absl::Status s = reader.Read(src, 0, size, host + t.offset); !s.ok()) return s;
      continue;
    }
    if (t.dtype == src.dtype) {  // a device pool: chunk by chunk through host memory
      staging.resize(std::min(kReadChunk, size));
      for (std::uint64_t done = 0; done < size; done += staging.size()) {
        const std::uint64_t n = std::min<std::uint64_t>(staging.size(), size - done);
        if (absl::Status s = reader.Read(src, done, n, staging.data()); !s.ok()) return s;
        if (absl::Status s = pool.Write(id, t.offset + done, staging.data(), n); !s.ok()) return s;
      }
      continue;
    }
    staging.resize(size);
    if (absl::Status s = reader.Read(src, 0, size, staging.data()); !s.ok()) return s;
    std::uint64_t count = 1;
    for (std::int64_t d : t.shape) count *= static_cast<std::uint64_t>(d);
    std::span<std::byte> dst;
    if (host != nullptr) {
      dst = std::span<std::byte>(host + t.offset, t.bytes);
    } else {
      converted.resize(t.bytes);
      dst = converted;
    }
    if (absl::Status s = ConvertTensor(src.dtype, staging, t.dtype, dst, count); !s.ok()) {
      return absl::InvalidArgumentError(
          fmt::format("{}: tensor '{}': {}", src.file, src.name, std::string(s.message())));
    }
    if (host == nullptr) {
      if (absl::Status s = pool.Write(id, t.offset, converted.data(), converted.size()); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

// Picks the table's tensors out of the files' (in file order) and checks each against the config.
absl::StatusOr<std::vector<std::pair<SourceTensor, ExpectedTensor>>> MatchTable(std::vector<SourceTensor> tensors,
                                                                                const ModelConfig& config,
                                                                                TensorNaming naming,
                                                                                std::string_view path) {
  std::map<std::string_view, std::size_t> by_name;
  for (std::size_t i = 0; i < tensors.size(); ++i) by_name[tensors[i].name] = i;
  std::vector<std::pair<std::size_t, ExpectedTensor>> picked;
  for (ExpectedTensor& e : ExpectedTensors(config, naming)) {
    auto it = by_name.find(e.name);
    if (it == by_name.end()) {
      return absl::InvalidArgumentError(fmt::format("{}: tensor '{}' is missing (the config needs it)", path, e.name));
    }
    const SourceTensor& t = tensors[it->second];
    if (t.shape != e.shape) {
      return absl::InvalidArgumentError(fmt::format("{}: tensor '{}': field 'shape' is {} but the config implies {}",
                                                    t.file, e.name, ShapeText(t.shape), ShapeText(e.shape)));
    }
    if (!e.is_matrix && DTypeIsQuantized(t.dtype)) {
      return absl::InvalidArgumentError(fmt::format("{}: tensor '{}': field 'dtype' {} is quantized; norms and biases "
                                                    "must be F32, F16 or BF16", t.file, e.name, DTypeName(t.dtype)));
    }
    picked.emplace_back(it->second, std::move(e));
  }
  std::sort(picked.begin(), picked.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::pair<SourceTensor, ExpectedTensor>> out;
  for (auto& [index, expected] : picked) out.emplace_back(std::move(tensors[index]), std::move(expected));
  return out;
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
  return absl::OkStatus();
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
  return absl::OkStatus();
}

// The element alignment the kernels need to read a tensor of `dtype` in place: floats 4, halves
// and the blocks (which start with half scales) 2 or 4.
std::uint64_t ElementAlignment(DType dtype) { return DTypeBlockBytes(dtype) % 4 == 0 ? 4 : 2; }

bool IsConversionTarget(DType dtype) { return dtype == DType::kF32 || dtype == DType::kF16 || dtype == DType::kBF16; }

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
  const TensorNaming naming =
      out.plan.format == ModelFormat::kGguf ? TensorNaming::kGguf : TensorNaming::kHuggingFace;
  auto matched = MatchTable(std::move(tensors), out.plan.config, naming, path);
  if (!matched.ok()) return matched.status();

  // What each tensor is stored as, and its bytes in the pool. Sizes and offsets were checked
  // against the files, so none of this arithmetic overflows.
  struct Stored {
    DType dtype;
    std::uint64_t bytes;
    bool own_place;  // kFileLayout: placed after the file's region
  };
  std::vector<Stored> stored;
  for (const auto& [src, expected] : *matched) {
    const DType dtype = options.store_as ? options.store_as(expected, src.dtype) : src.dtype;
    if (dtype != src.dtype && !IsConversionTarget(dtype)) {
      return absl::InvalidArgumentError(fmt::format("{}: tensor '{}': cannot be stored as {} (conversions go to F32, "
                                                    "F16 or BF16)", src.file, src.name, DTypeName(dtype)));
    }
    absl::StatusOr<std::uint64_t> bytes = TensorBytes(dtype, src.shape);
    if (!bytes.ok()) return bytes.status();
    const bool own = dtype != src.dtype || src.file_offset % ElementAlignment(dtype) != 0;
    stored.push_back(Stored{dtype, *bytes, own});
    out.plan.file_bytes += src.bytes.size();
  }

  std::uint64_t cursor = 0;
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> regions;  // file -> [first, end) of tensor bytes
  std::map<std::string, std::uint64_t> region_start;  // file -> offset of its region in the allocation
  if (options.layout == TensorLayout::kFileLayout) {
    for (std::size_t i = 0; i < matched->size(); ++i) {
      const SourceTensor& t = (*matched)[i].first;
      if (stored[i].own_place) continue;
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
  for (std::size_t i = 0; i < matched->size(); ++i) {
    auto& [t, expected] = (*matched)[i];
    std::uint64_t offset = 0;
    if (options.layout == TensorLayout::kFileLayout && !stored[i].own_place) {
      offset = region_start[t.file] + (t.file_offset - regions[t.file].first);
    } else {
      offset = cursor = (cursor + align - 1) / align * align;
      cursor += stored[i].bytes;
    }
    out.plan.tensors.push_back(LoadedTensor{t.name, expected.role, expected.layer, stored[i].dtype, t.dtype, t.shape,
                                            offset, stored[i].bytes});
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

absl::StatusOr<ModelPlan> PlanModel(const std::string& path, const LoadOptions& options) {
  absl::StatusOr<Prepared> prepared = Prepare(path, options);
  if (!prepared.ok()) return prepared.status();
  return std::move(prepared->plan);
}

absl::StatusOr<LoadedModel> ModelLoader::Load(const std::string& path, std::string_view owner) {
  absl::StatusOr<Prepared> prepared = Prepare(path, options_);
  if (!prepared.ok()) return prepared.status();
  ModelPlan& plan = prepared->plan;
  if (options_.cancel.stop_requested()) return absl::CancelledError(fmt::format("{}: load cancelled", path));
  absl::StatusOr<Allocation> allocation =
      pool_.Allocate(plan.total_bytes, std::max(options_.tensor_alignment, kCacheLine), owner);
  if (!allocation.ok()) {
    return absl::Status(allocation.status().code(),
                        fmt::format("{}: loading {} bytes: {}", path, plan.total_bytes,
                                    std::string(allocation.status().message())));
  }
  if (absl::Status read = ReadTensors(*prepared, options_, pool_, allocation->id); !read.ok()) {
    (void)pool_.Free(allocation->id);  // the id is ours and live: Free cannot fail here
    return read;
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
