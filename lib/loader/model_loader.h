// Loads a model's weights into a MemoryPool: maps the files, validates everything (format, every
// tensor of the Llama-family table against the config: none missing, shapes as the config says),
// asks the pool for the total bytes once, then reads the tensors in, converting those the
// backend stores in another type (LoadOptions::store_as) into their place in the same allocation.
// Only the table's tensors are loaded; others in the files are ignored. Loading reports progress
// and can be cancelled. A file that fails validation, a pool without room (ResourceExhausted), a
// cancelled load (Cancelled) or a read that fails halfway (DataLoss) leaves the pool exactly as it
// was.
#ifndef CACE_LIB_LOADER_MODEL_LOADER_H_
#define CACE_LIB_LOADER_MODEL_LOADER_H_

#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cace/memory_pool.h"
#include "lib/loader/dtype.h"
#include "lib/loader/model_config.h"
#include "lib/loader/tensor_names.h"

namespace cace {

enum class ModelFormat : std::uint8_t { kSafetensors, kGguf };

struct LoadedTensor {
  std::string name;
  TensorRole role = TensorRole::kEmbedding;
  std::int64_t layer = -1;
  DType dtype = DType::kF32;        // as stored in the pool
  DType file_dtype = DType::kF32;   // as stored in the file
  std::vector<std::int64_t> shape;  // outermost first
  std::uint64_t offset = 0;         // from the start of the model's allocation
  std::uint64_t bytes = 0;          // in the pool
};

struct LoadedModel {
  std::string path;
  ModelFormat format = ModelFormat::kSafetensors;
  ModelConfig config;
  AllocationId allocation = 0;     // one allocation holds every tensor
  std::uint64_t allocation_bytes = 0;
  std::vector<LoadedTensor> tensors;  // the table's tensors, in file order
  const LoadedTensor* Find(std::string_view name) const;
};

// What a load would need, without allocating or copying: validation only.
struct ModelPlan {
  std::string path;
  ModelFormat format = ModelFormat::kSafetensors;
  ModelConfig config;
  std::uint64_t total_bytes = 0;  // the allocation: tensors as stored, with their alignment padding
  std::uint64_t file_bytes = 0;   // tensor bytes read from the files (what progress counts)
  std::vector<LoadedTensor> tensors;
};

enum class TensorLayout : std::uint8_t {
  // Each tensor starts at a multiple of LoadOptions::tensor_alignment.
  kAligned,
  // Each file's tensors keep their relative places (padding included), shifted so that a tensor's
  // address is congruent to its file offset modulo 64: the kernel's copy from the page cache then
  // runs cache-line aligned on both sides (measured ~25% less CPU for a warm load). Tensors are
  // only as aligned as in the file (GGUF: general.alignment; safetensors: no promise); those
  // converted to another type, or not aligned to their element size in the file, are placed after
  // the file's region at tensor_alignment.
  kFileLayout,
};

// The type a backend stores a tensor in, given the tensor and its type in the file.
using StorageTypeFn = std::function<DType(const ExpectedTensor& tensor, DType file_dtype)>;
// Bytes read so far and the total (ModelPlan::file_bytes). Called on the loading thread after
// every chunk (at most 64 MiB) in increasing order; after a successful load the last call has
// done == total.
using LoadProgressFn = std::function<void(std::uint64_t done, std::uint64_t total)>;

struct LoadOptions {
  // Alignment of the allocation and, for kAligned, of each tensor inside it (a power of two).
  std::uint64_t tensor_alignment = MemoryPool::kDefaultAlignment;
  TensorLayout layout = TensorLayout::kAligned;
  // Empty: every tensor as in the file. Conversions go to F32, F16 or BF16.
  StorageTypeFn store_as;
  LoadProgressFn progress;
  // Checked before the allocation and between chunks; once stop is requested, Load frees what it
  // took and returns Cancelled.
  std::stop_token cancel;
};

// Validates the files and lays out the allocation a load with `options` would take.
absl::StatusOr<ModelPlan> PlanModel(const std::string& path, const LoadOptions& options = {});

class ModelLoader {
 public:
  explicit ModelLoader(MemoryPool& pool, LoadOptions options = {}) : pool_(pool), options_(std::move(options)) {}

  // `path` is a GGUF file, or a directory holding config.json and model.safetensors (or shards
  // listed by model.safetensors.index.json), or a .safetensors file with config.json beside it.
  absl::StatusOr<ModelPlan> Plan(const std::string& path) const { return PlanModel(path, options_); }
  // Plans, allocates under the tag `owner`, reads. On error nothing stays allocated. Tensors are
  // read from the files with pread() (a file truncated after validation gives a short read, an
  // error, not SIGBUS): into a host pool straight to their place, into a device pool through a
  // staging buffer and MemoryPool::Write. The new allocation must not be compacted while Load
  // runs (the caller owns the pool's compaction schedule).
  absl::StatusOr<LoadedModel> Load(const std::string& path, std::string_view owner);

 private:
  MemoryPool& pool_;
  LoadOptions options_;
};

}  // namespace cace

#endif  // CACE_LIB_LOADER_MODEL_LOADER_H_
