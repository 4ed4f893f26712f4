// A FileSource that makes reads fail, end early or run slowly when a test (or cace_stress) says
// so: the "read error / truncation in the middle of a load" of issue 13, through the loader's seam
// (lib/loader/file_source.h), on real files.
#ifndef CACE_LIB_FAULTS_FAULTY_FILE_SOURCE_H_
#define CACE_LIB_FAULTS_FAULTY_FILE_SOURCE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "lib/loader/file_source.h"

namespace cace {

struct ReadFault {
  enum class Kind : std::uint8_t {
    kNone,       // the read goes through
    kError,      // the read fails (DataLoss "injected read error")
    kEndOfFile,  // the file ends here (a truncation)
  };
  Kind kind = Kind::kNone;
  std::chrono::microseconds delay{0};  // slept before the read (or its failure)
};

// Decides each read: the file, where it starts and how many bytes it asks. Called on the loading
// thread; must be thread-safe when several loads may run.
using ReadFaultFn = std::function<ReadFault(const std::string& path, std::uint64_t offset, std::size_t size)>;

class FaultyFileSource final : public FileSource {
 public:
  // `base` must outlive this source.
  FaultyFileSource(const FileSource& base, ReadFaultFn decide) : base_(base), decide_(std::move(decide)) {}

  absl::StatusOr<std::unique_ptr<RandomAccessFile>> Open(const std::string& path) const override;

  // Reads failed or cut short so far.
  std::uint64_t faults_injected() const { return faults_.load(); }

 private:
  class File;
  const FileSource& base_;
  const ReadFaultFn decide_;
  mutable std::atomic<std::uint64_t> faults_{0};
};

}  // namespace cace

#endif  // CACE_LIB_FAULTS_FAULTY_FILE_SOURCE_H_
