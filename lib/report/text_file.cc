#include "lib/report/text_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "fmt/format.h"

namespace cace {
namespace {

absl::Status FileError(std::string_view what, const std::string& path, std::string_view action,
                       int error) {
  return absl::UnavailableError(fmt::format("cannot write {} to '{}': {} failed: {}", what, path,
                                            action, std::strerror(error)));
}

}  // namespace

absl::Status WriteTextFile(const std::string& path, std::string_view text, std::string_view what) {
  if (path.empty()) return absl::InvalidArgumentError(fmt::format("{}: empty output path", what));
  const std::string temp = path + ".tmp";
  std::FILE* file = std::fopen(temp.c_str(), "wb");
  if (file == nullptr) return FileError(what, path, fmt::format("opening '{}'", temp), errno);
  const bool written = std::fwrite(text.data(), 1, text.size(), file) == text.size();
  const int write_error = errno;
  const bool closed = std::fclose(file) == 0;
  const int close_error = errno;
  if (!written || !closed) {
    std::remove(temp.c_str());
    return FileError(what, path, written ? "closing the temporary file" : "writing",
                     written ? close_error : write_error);
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    const int rename_error = errno;
    std::remove(temp.c_str());
    return FileError(what, path, fmt::format("renaming '{}'", temp), rename_error);
  }
  return absl::OkStatus();
}

}  // namespace cace
