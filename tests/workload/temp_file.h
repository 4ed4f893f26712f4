// A file under the system's temporary directory, removed when the test ends.
#ifndef CACE_TESTS_WORKLOAD_TEMP_FILE_H_
#define CACE_TESTS_WORKLOAD_TEMP_FILE_H_

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include <unistd.h>

namespace cace::testing {

class TempFile {
 public:
  explicit TempFile(std::string_view contents = {}) {
    static std::atomic<int> counter{0};
    path_ = (std::filesystem::temp_directory_path() /
             ("cace_workload_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + ".csv"))
                .string();
    std::ofstream(path_, std::ios::binary) << contents;
  }
  ~TempFile() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace cace::testing

#endif  // CACE_TESTS_WORKLOAD_TEMP_FILE_H_
