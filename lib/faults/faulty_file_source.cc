#include "lib/faults/faulty_file_source.h"

#include <thread>

#include "absl/strings/str_cat.h"

namespace cace {

class FaultyFileSource::File final : public RandomAccessFile {
 public:
  File(const FaultyFileSource& source, std::string path, std::unique_ptr<RandomAccessFile> base)
      : source_(source), path_(std::move(path)), base_(std::move(base)) {}

  absl::StatusOr<std::size_t> ReadAt(std::uint64_t offset, std::span<std::byte> dst) override {
    const ReadFault fault = source_.decide_(path_, offset, dst.size());
    if (fault.delay.count() > 0) std::this_thread::sleep_for(fault.delay);
    switch (fault.kind) {
      case ReadFault::Kind::kNone:
        return base_->ReadAt(offset, dst);
      case ReadFault::Kind::kError:
        ++source_.faults_;
        return absl::DataLossError(absl::StrCat(path_, ": injected read error at ", offset));
      case ReadFault::Kind::kEndOfFile:
        ++source_.faults_;
        return std::size_t{0};
    }
    return absl::InternalError("unknown read fault");
  }

 private:
  const FaultyFileSource& source_;
  const std::string path_;
  const std::unique_ptr<RandomAccessFile> base_;
};

absl::StatusOr<std::unique_ptr<RandomAccessFile>> FaultyFileSource::Open(const std::string& path) const {
  absl::StatusOr<std::unique_ptr<RandomAccessFile>> base = base_.Open(path);
  if (!base.ok()) return base.status();
  return std::unique_ptr<RandomAccessFile>(new File(*this, path, *std::move(base)));
}

}  // namespace cace
