// Plain CSV as cace's own files and the Azure traces write it: one record a line, fields separated
// by commas, no quoting. Shared by the fleet, trace and Azure readers so their errors read alike.
#ifndef CACE_LIB_WORKLOAD_CSV_LINES_H_
#define CACE_LIB_WORKLOAD_CSV_LINES_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cace {

absl::StatusOr<std::string> ReadWholeFile(const std::string& path);

struct CsvLine {
  int number = 0;  // 1-based line number in the file
  std::string_view text;
};

// The lines of `text` that carry data: a trailing '\r' is dropped, blank lines and lines whose
// first character is '#' are skipped.
std::vector<CsvLine> ContentLines(std::string_view text);

// Splits on commas and trims spaces and tabs around each field.
void SplitFields(std::string_view line, std::vector<std::string_view>& fields);

struct ColumnSpec {
  std::string_view name;
  bool required = true;
};

// Maps a header line to column indices, one per spec (-1: an optional column that is absent).
// Unknown, duplicate and missing required columns are errors naming the file and line.
absl::StatusOr<std::vector<int>> MapColumns(const std::string& path, const CsvLine& header,
                                            std::span<const ColumnSpec> specs);

// A CSV file read whole with its header mapped: `lines` views into `text` (held by pointer so that
// moving the table keeps the views valid); lines[0] is the header.
struct CsvTable {
  std::unique_ptr<std::string> text;
  std::vector<CsvLine> lines;
  std::vector<int> columns;  // per spec, as MapColumns gives it
};
absl::StatusOr<CsvTable> ReadCsvTable(const std::string& path, std::span<const ColumnSpec> specs);

// "<path>:<line>: column '<column>': <what>" as an InvalidArgument status.
absl::Status FieldError(const std::string& path, int line, std::string_view column,
                        std::string_view what);

// Strict number reads: the whole field, no sign for unsigned, finite doubles only.
std::optional<std::uint64_t> ParseUnsigned(std::string_view field);
std::optional<double> ParseFiniteDouble(std::string_view field);

// A non-negative integer that fits in `max`, with an error that says which rule failed.
absl::StatusOr<std::uint64_t> ParseCount(const std::string& path, int line, std::string_view column,
                                         std::string_view field, std::uint64_t max);

}  // namespace cace

#endif  // CACE_LIB_WORKLOAD_CSV_LINES_H_
