// The offline load profiler: measures how long a model takes to load into a pool and how many
// bytes it occupies there, and keeps the measurements in a small text store that survives a
// restart, so policies rank models by measured costs rather than guesses. A record is keyed by
// the model's path, size and modification time: a changed file is measured again.
#ifndef CACE_LIB_LOADER_LOAD_PROFILER_H_
#define CACE_LIB_LOADER_LOAD_PROFILER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cace/memory_pool.h"
#include "lib/loader/model_loader.h"

namespace cace {

// What identifies the bytes of a model on disk: a GGUF file, or a folder (sizes of its files
// summed, latest modification time).
struct FileIdentity {
  std::string path;
  std::uint64_t bytes = 0;
  std::int64_t mtime_ns = 0;
  bool operator==(const FileIdentity&) const = default;
};
absl::StatusOr<FileIdentity> IdentifyModelFiles(const std::string& path);

struct LoadProfile {
  FileIdentity file;
  double load_seconds = 0;            // map, validate, allocate, copy into the pool
  std::uint64_t pool_bytes = 0;       // footprint in the pool (tensors and alignment padding)
  std::uint64_t kv_bytes_per_token = 0;  // from the model's config, at 2 bytes an element
  double BytesPerSecond() const { return load_seconds > 0 ? static_cast<double>(pool_bytes) / load_seconds : 0; }
};

// Loads `path` into `pool` once, timing it with a steady clock, then frees it again.
absl::StatusOr<LoadProfile> ProfileLoad(MemoryPool& pool, const std::string& path);

class LoadProfileStore {
 public:
  // Reads the store at `store_path` (absent: empty). A malformed line is an error naming the file
  // and line.
  static absl::StatusOr<LoadProfileStore> Open(std::string store_path);

  // The record for `path` if its files are unchanged since it was measured.
  std::optional<LoadProfile> Find(const std::string& path) const;
  // Adds or replaces the record of profile.file.path and rewrites the store (temporary file and
  // rename, so a crash leaves the old store or the new one, never a torn one).
  absl::Status Put(const LoadProfile& profile);
  const std::vector<LoadProfile>& records() const { return records_; }

 private:
  explicit LoadProfileStore(std::string store_path) : store_path_(std::move(store_path)) {}
  std::string store_path_;
  std::vector<LoadProfile> records_;
};

// The store's record for `path` when current, else a fresh measurement, stored.
absl::StatusOr<LoadProfile> ProfileOrRecall(LoadProfileStore& store, MemoryPool& pool, const std::string& path);

}  // namespace cace

#endif  // CACE_LIB_LOADER_LOAD_PROFILER_H_
