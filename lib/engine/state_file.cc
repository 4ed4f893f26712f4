#include "lib/engine/state_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include "fmt/format.h"

namespace cace {
namespace {

constexpr std::string_view kMagic = "CACESTAT";
constexpr std::size_t kHeaderBytes = 8 + 4 + 8;
constexpr std::size_t kChecksumBytes = 4;

// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), table-driven.
constexpr std::array<std::uint32_t, 256> MakeCrcTable() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr std::array<std::uint32_t, 256> kCrcTable = MakeCrcTable();

std::uint32_t Crc32(std::string_view bytes) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : bytes) c = kCrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

// Little-endian writing.
class Writer {
 public:
  void U32(std::uint32_t v) { Bytes(v, 4); }
  void U64(std::uint64_t v) { Bytes(v, 8); }
  void I64(std::int64_t v) { U64(static_cast<std::uint64_t>(v)); }
  void F64(double v) { U64(std::bit_cast<std::uint64_t>(v)); }
  void Str(std::string_view s) {
    U32(static_cast<std::uint32_t>(s.size()));
    out_.append(s);
  }
  std::string& out() { return out_; }

 private:
  void Bytes(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  }
  std::string out_;
};

// Bounded little-endian reading: every read checks what is left; the first failure sticks and
// names the field.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::size_t left() const { return in_.size() - at_; }

  std::uint64_t Raw(int n, std::string_view field) {
    if (!ok()) return 0;
    if (left() < static_cast<std::size_t>(n)) return Fail(field, "ends early"), 0;
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= std::uint64_t{static_cast<unsigned char>(in_[at_ + i])} << (8 * i);
    at_ += static_cast<std::size_t>(n);
    return v;
  }
  std::uint32_t U32(std::string_view field) { return static_cast<std::uint32_t>(Raw(4, field)); }
  std::uint64_t U64(std::string_view field) { return Raw(8, field); }
  std::int64_t I64(std::string_view field) { return static_cast<std::int64_t>(Raw(8, field)); }
  // A finite number no smaller than `least`.
  double F64(std::string_view field, double least) {
    const double v = std::bit_cast<double>(Raw(8, field));
    if (ok() && !(std::isfinite(v) && v >= least)) Fail(field, fmt::format("is {}", v));
    return v;
  }
  std::string Str(std::string_view field) {
    const std::uint32_t n = U32(field);
    if (!ok()) return {};
    if (n > left()) return Fail(field, fmt::format("length {} exceeds the {} bytes left", n, left())), std::string();
    std::string s(in_.substr(at_, n));
    at_ += n;
    return s;
  }
  // A count of records at least `each` bytes long, bounded by what is left (no huge allocations).
  std::uint32_t Count(std::string_view field, std::size_t each) {
    const std::uint32_t n = U32(field);
    if (ok() && n > left() / each) Fail(field, fmt::format("{} records cannot fit in {} bytes", n, left()));
    return ok() ? n : 0;
  }
  void Fail(std::string_view field, std::string_view what) {
    if (ok()) error_ = fmt::format("{} {}", field, what);
  }

 private:
  std::string_view in_;
  std::size_t at_ = 0;
  std::string error_;
};

constexpr std::size_t kMinProfileBytes = 4 + 8 * 5;
constexpr std::size_t kMinModelBytes = 4 + 8 + 4 + 8 + 4 + kTaskKindCount * (4 + 8 + 4) + 8 + 8;

}  // namespace

std::string EncodeState(const LearnedState& state) {
  Writer payload;
  payload.U32(static_cast<std::uint32_t>(state.load_profiles.size()));
  for (const LoadProfile& p : state.load_profiles) {
    payload.Str(p.file.path);
    payload.U64(p.file.bytes);
    payload.I64(p.file.mtime_ns);
    payload.F64(p.load_seconds);
    payload.U64(p.pool_bytes);
    payload.U64(p.kv_bytes_per_token);
  }
  payload.U32(static_cast<std::uint32_t>(state.models.size()));
  for (const LearnedModel& m : state.models) {
    payload.Str(m.name);
    payload.F64(m.disk_load_seconds);
    payload.U32(m.disk_load_samples);
    payload.F64(m.host_cache_load_seconds);
    payload.U32(m.host_cache_load_samples);
    for (int k = 0; k < kTaskKindCount; ++k) {
      payload.U32(m.usage.window_counts[k]);
      payload.F64(m.usage.output_mean[k]);
      payload.U32(m.usage.output_samples[k]);
    }
    payload.F64(m.usage.mean_gap_seconds);
    payload.F64(m.usage.idle_seconds);
  }
  return FrameStatePayload(payload.out());
}

std::string FrameStatePayload(std::string_view payload) {
  Writer file;
  file.out().append(kMagic);
  file.U32(kStateFileVersion);
  file.U64(payload.size());
  file.out().append(payload);
  file.U32(Crc32(payload));
  return std::move(file.out());
}

absl::StatusOr<LearnedState> DecodeState(std::string_view bytes) {
  if (bytes.size() < kHeaderBytes + kChecksumBytes || bytes.substr(0, kMagic.size()) != kMagic) {
    return absl::InvalidArgumentError("not a cace state file (no CACESTAT magic)");
  }
  Reader header(bytes.substr(kMagic.size(), kHeaderBytes - kMagic.size()));
  const std::uint32_t version = header.U32("version");
  const std::uint64_t length = header.U64("length");
  if (version != kStateFileVersion) {
    return absl::FailedPreconditionError(fmt::format("state file version {}; this build reads version {}", version, kStateFileVersion));
  }
  if (length != bytes.size() - kHeaderBytes - kChecksumBytes) {
    return absl::DataLossError(fmt::format("state file says {} payload bytes, holds {} (truncated or extended)", length, bytes.size() - kHeaderBytes - kChecksumBytes));
  }
  const std::string_view payload = bytes.substr(kHeaderBytes, length);
  Reader trailer(bytes.substr(kHeaderBytes + length));
  const std::uint32_t stored = trailer.U32("checksum");
  if (const std::uint32_t computed = Crc32(payload); stored != computed) {
    return absl::DataLossError(fmt::format("state file checksum {:08x}, its payload's is {:08x} (damaged)", stored, computed));
  }

  Reader in(payload);
  LearnedState state;
  const std::uint32_t profiles = in.Count("load profile count", kMinProfileBytes);
  for (std::uint32_t i = 0; i < profiles && in.ok(); ++i) {
    LoadProfile p;
    p.file.path = in.Str("load profile path");
    p.file.bytes = in.U64("load profile file bytes");
    p.file.mtime_ns = in.I64("load profile mtime");
    p.load_seconds = in.F64("load profile seconds", 0);
    p.pool_bytes = in.U64("load profile pool bytes");
    p.kv_bytes_per_token = in.U64("load profile KV bytes per token");
    if (in.ok() && p.file.path.empty()) in.Fail("load profile path", "is empty");
    state.load_profiles.push_back(std::move(p));
  }
  const std::uint32_t models = in.Count("model count", kMinModelBytes);
  for (std::uint32_t i = 0; i < models && in.ok(); ++i) {
    LearnedModel m;
    m.name = in.Str("model name");
    if (in.ok() && m.name.empty()) in.Fail("model name", "is empty");
    m.disk_load_seconds = in.F64("disk load seconds", 0);
    m.disk_load_samples = in.U32("disk load samples");
    m.host_cache_load_seconds = in.F64("host-cache load seconds", 0);
    m.host_cache_load_samples = in.U32("host-cache load samples");
    for (int k = 0; k < kTaskKindCount; ++k) {
      m.usage.window_counts[k] = in.U32("window count");
      m.usage.output_mean[k] = in.F64("output mean", 0);
      m.usage.output_samples[k] = in.U32("output samples");
    }
    m.usage.mean_gap_seconds = in.F64("mean gap seconds", 0);
    m.usage.idle_seconds = in.F64("idle seconds", -1);
    if (in.ok() && m.usage.idle_seconds < 0 && m.usage.idle_seconds != -1) in.Fail("idle seconds", "is negative");
    state.models.push_back(std::move(m));
  }
  if (in.ok() && in.left() != 0) in.Fail("payload", fmt::format("has {} bytes after its last record", in.left()));
  if (!in.ok()) return absl::DataLossError("state file: " + in.error());
  return state;
}

absl::Status WriteStateFile(const std::string& path, const LearnedState& state) {
  const std::string bytes = EncodeState(state);
  const std::string temporary = path + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return absl::UnavailableError(fmt::format("cannot write {}: {}", temporary, std::strerror(errno)));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  // On disk before the rename: a crash then leaves the old file or the whole new one.
  const bool written = done == bytes.size() && ::fsync(fd) == 0;
  const int err = errno;
  if (::close(fd) != 0 || !written) {
    std::remove(temporary.c_str());
    return absl::UnavailableError(fmt::format("cannot write {}: {}", temporary, std::strerror(err)));
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const int rename_err = errno;
    std::remove(temporary.c_str());
    return absl::UnavailableError(fmt::format("cannot rename {} to {}: {}", temporary, path, std::strerror(rename_err)));
  }
  return absl::OkStatus();
}

absl::StatusOr<LearnedState> ReadStateFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(fmt::format("no state file {}", path));
  const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (file.bad()) return absl::UnavailableError(fmt::format("cannot read {}", path));
  absl::StatusOr<LearnedState> state = DecodeState(bytes);
  if (!state.ok()) return absl::Status(state.status().code(), fmt::format("{}: {}", path, std::string(state.status().message())));
  return state;
}

LearnedState ReadStateFileOrFresh(const std::string& path, std::string& warning) {
  warning.clear();
  absl::StatusOr<LearnedState> state = ReadStateFile(path);
  if (state.ok()) return *std::move(state);
  if (!absl::IsNotFound(state.status())) {
    warning = fmt::format("ignoring the state file and starting fresh: {}", std::string(state.status().message()));
  }
  return {};
}

}  // namespace cace
