#include "lib/loader/model_loader.h"

#include <filesystem>
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

// A validated plan plus the mapped bytes each tensor is copied from.
struct Prepared {
  ModelPlan plan;
  std::vector<std::span<const std::byte>> sources;  // parallel to plan.tensors
  std::vector<std::shared_ptr<const void>> keep_alive;
};

struct SourceTensor {
  std::string name;
  DType dtype;
  std::vector<std::int64_t> shape;
  std::span<const std::byte> bytes;
  std::string file;
};

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
      tensors.push_back(SourceTensor{t.name, t.dtype, t.shape, held->TensorData(t), shard});
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
    tensors.push_back(SourceTensor{t.name, t.dtype, t.shape, held->TensorData(t), path});
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

  std::uint64_t cursor = 0;
  for (SourceTensor& t : tensors) {
    cursor = (cursor + align - 1) / align * align;  // sizes were checked against the file: no overflow
    out.plan.tensors.push_back(LoadedTensor{t.name, t.dtype, t.shape, cursor, t.bytes.size()});
    out.sources.push_back(t.bytes);
    cursor += t.bytes.size();
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
  absl::StatusOr<Allocation> allocation = pool_.Allocate(plan.total_bytes, options_.tensor_alignment, owner);
  if (!allocation.ok()) {
    return absl::Status(allocation.status().code(),
                        fmt::format("{}: loading {} bytes: {}", path, plan.total_bytes,
                                    std::string(allocation.status().message())));
  }
  for (std::size_t i = 0; i < plan.tensors.size(); ++i) {
    const std::span<const std::byte> src = prepared->sources[i];
    if (src.empty()) continue;
    if (absl::Status s = pool_.Write(allocation->id, plan.tensors[i].offset, src.data(), src.size()); !s.ok()) {
      (void)pool_.Free(allocation->id);  // the id is ours and live: Free cannot fail here
      return s;
    }
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
