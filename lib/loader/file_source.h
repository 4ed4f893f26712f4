// Where the loader reads tensor bytes from. By default POSIX files through pread(); the engine's
// tests and the stress tool put a FileSource of their own in front of it (lib/faults/) to make
// reads fail, end early or run slowly in the middle of a load.
#ifndef CACE_LIB_LOADER_FILE_SOURCE_H_
#define CACE_LIB_LOADER_FILE_SOURCE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "absl/status/statusor.h"

namespace cace {

class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to dst.size() bytes at `offset`: the count read, 0 at the end of the file, or the
  // error of the read (DataLoss, naming the file).
  virtual absl::StatusOr<std::size_t> ReadAt(std::uint64_t offset, std::span<std::byte> dst) = 0;
};

class FileSource {
 public:
  virtual ~FileSource() = default;
  // NotFound (or PermissionDenied) naming the path when it cannot be opened. Thread-safe.
  virtual absl::StatusOr<std::unique_ptr<RandomAccessFile>> Open(const std::string& path) const = 0;
};

// Files read with pread(); EINTR is retried. One instance for the process.
const FileSource& PosixFileSource();

}  // namespace cace

#endif  // CACE_LIB_LOADER_FILE_SOURCE_H_
