#include "lib/loader/load_profiler.h"

#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fmt/format.h"
#include "lib/loader/gguf_writer.h"

namespace cace {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kHeader = "# cace load profiles v1: path\tbytes\tmtime_ns\tload_seconds\tpool_bytes\tkv_bytes_per_token";

// Since the Unix epoch: the file clock's own epoch may lie in the future (libstdc++'s is in 2174,
// so its counts are negative and a folder's latest time, a max from 0, would always be 0).
std::int64_t MtimeNs(const fs::file_time_type& t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::file_clock::to_sys(t).time_since_epoch())
      .count();
}

template <typename T>
bool ParseNumber(std::string_view text, T& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

absl::StatusOr<FileIdentity> IdentifyModelFiles(const std::string& path) {
  std::error_code ec;
  FileIdentity id;
  id.path = fs::absolute(path, ec).lexically_normal().string();
  if (fs::is_directory(path, ec)) {
    for (const fs::directory_entry& e : fs::directory_iterator(path, ec)) {
      if (!e.is_regular_file()) continue;
      id.bytes += e.file_size();
      id.mtime_ns = std::max(id.mtime_ns, MtimeNs(e.last_write_time()));
    }
  } else {
    id.bytes = fs::file_size(path, ec);
    if (!ec) id.mtime_ns = MtimeNs(fs::last_write_time(path, ec));
  }
  if (ec) return absl::NotFoundError(fmt::format("{}: {}", path, ec.message()));
  return id;
}

absl::StatusOr<LoadProfile> ProfileLoad(MemoryPool& pool, const std::string& path) {
  absl::StatusOr<FileIdentity> id = IdentifyModelFiles(path);
  if (!id.ok()) return id.status();
  ModelLoader loader(pool);
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<LoadedModel> model = loader.Load(path, "profiler");
  const auto end = std::chrono::steady_clock::now();
  if (!model.ok()) return model.status();
  LoadProfile profile;
  profile.file = *id;
  profile.load_seconds = std::chrono::duration<double>(end - start).count();
  profile.pool_bytes = model->allocation_bytes;
  profile.kv_bytes_per_token = model->config.KvBytesPerToken();
  if (absl::Status s = pool.Free(model->allocation); !s.ok()) return s;
  return profile;
}

absl::StatusOr<LoadProfileStore> LoadProfileStore::Open(std::string store_path) {
  LoadProfileStore store(std::move(store_path));
  std::ifstream in(store.store_path_);
  if (!in) return store;  // no store yet
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string_view> f;
    for (std::size_t begin = 0;;) {
      const std::size_t tab = line.find('\t', begin);
      f.push_back(std::string_view(line).substr(begin, tab == std::string::npos ? std::string::npos : tab - begin));
      if (tab == std::string::npos) break;
      begin = tab + 1;
    }
    LoadProfile p;
    if (f.size() != 6 || f[0].empty() || !ParseNumber(f[1], p.file.bytes) || !ParseNumber(f[2], p.file.mtime_ns) ||
        !ParseNumber(f[3], p.load_seconds) || !ParseNumber(f[4], p.pool_bytes) ||
        !ParseNumber(f[5], p.kv_bytes_per_token) || p.load_seconds < 0) {
      return absl::DataLossError(fmt::format("{}: line {}: not a load profile record", store.store_path_, number));
    }
    p.file.path = std::string(f[0]);
    store.records_.push_back(std::move(p));
  }
  return store;
}

std::optional<LoadProfile> LoadProfileStore::Find(const std::string& path) const {
  absl::StatusOr<FileIdentity> id = IdentifyModelFiles(path);
  if (!id.ok()) return std::nullopt;
  for (const LoadProfile& p : records_) {
    if (p.file == *id) return p;
  }
  return std::nullopt;
}

absl::Status LoadProfileStore::Put(const LoadProfile& profile) {
  if (profile.file.path.find_first_of("\t\n") != std::string::npos) {
    return absl::InvalidArgumentError(fmt::format("{}: a path with a tab or newline cannot be stored", profile.file.path));
  }
  std::vector<LoadProfile> next;
  for (const LoadProfile& p : records_) {
    if (p.file.path != profile.file.path) next.push_back(p);
  }
  next.push_back(profile);
  std::string text = std::string(kHeader) + "\n";
  for (const LoadProfile& p : next) {
    text += fmt::format("{}\t{}\t{}\t{}\t{}\t{}\n", p.file.path, p.file.bytes, p.file.mtime_ns, p.load_seconds,
                        p.pool_bytes, p.kv_bytes_per_token);
  }
  if (absl::Status s = WriteFileAtomically(store_path_, std::span(reinterpret_cast<const std::byte*>(text.data()),
                                                                   text.size()));
      !s.ok()) {
    return s;
  }
  records_ = std::move(next);
  return absl::OkStatus();
}

absl::StatusOr<LoadProfile> ProfileOrRecall(LoadProfileStore& store, MemoryPool& pool, const std::string& path) {
  if (std::optional<LoadProfile> known = store.Find(path)) return *known;
  absl::StatusOr<LoadProfile> measured = ProfileLoad(pool, path);
  if (!measured.ok()) return measured.status();
  if (absl::Status s = store.Put(*measured); !s.ok()) return s;
  return measured;
}

}  // namespace cace
