// Writes a whole output file so that a reader never sees a half-written one.
#ifndef CACE_LIB_REPORT_TEXT_FILE_H_
#define CACE_LIB_REPORT_TEXT_FILE_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace cace {

// Writes `text` to "<path>.tmp" and renames it over `path`; on any failure the temporary file is
// removed, `path` is left as it was, and the error names `what` (e.g. "results JSON") and the path.
absl::Status WriteTextFile(const std::string& path, std::string_view text, std::string_view what);

}  // namespace cace

#endif  // CACE_LIB_REPORT_TEXT_FILE_H_
