#include "lib/loader/file_source.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace cace {
namespace {

class PosixFile final : public RandomAccessFile {
 public:
  PosixFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixFile() override { ::close(fd_); }

  absl::StatusOr<std::size_t> ReadAt(std::uint64_t offset, std::span<std::byte> dst) override {
    for (;;) {
      const ssize_t got = ::pread(fd_, dst.data(), dst.size(), static_cast<off_t>(offset));
      if (got >= 0) return static_cast<std::size_t>(got);
      if (errno != EINTR) return absl::DataLossError(absl::StrCat(path_, ": ", std::strerror(errno)));
    }
  }

 private:
  const std::string path_;
  const int fd_;
};

class PosixFiles final : public FileSource {
 public:
  absl::StatusOr<std::unique_ptr<RandomAccessFile>> Open(const std::string& path) const override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      const std::string why = absl::StrCat(path, ": cannot open for reading: ", std::strerror(errno));
      return errno == EACCES ? absl::PermissionDeniedError(why) : absl::NotFoundError(why);
    }
    return std::unique_ptr<RandomAccessFile>(new PosixFile(path, fd));
  }
};

}  // namespace

const FileSource& PosixFileSource() {
  static const PosixFiles files;
  return files;
}

}  // namespace cace
