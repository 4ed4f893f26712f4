#include "lib/workload/csv_lines.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include "fmt/format.h"

namespace cace {

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (file == nullptr) {
    return absl::NotFoundError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  }
  std::string text;
  char buffer[1 << 16];
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof(buffer), file.get())) > 0) text.append(buffer, got);
  if (std::ferror(file.get())) {
    return absl::DataLossError(fmt::format("{}: read error: {}", path, std::strerror(errno)));
  }
  return text;
}

std::vector<CsvLine> ContentLines(std::string_view text) {
  std::vector<CsvLine> lines;
  int number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    ++number;
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos || line.front() == '#') continue;
    lines.push_back({number, line});
  }
  return lines;
}

namespace {

std::string_view Trim(std::string_view field) {
  std::size_t first = field.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  std::size_t last = field.find_last_not_of(" \t");
  return field.substr(first, last - first + 1);
}

}  // namespace

void SplitFields(std::string_view line, std::vector<std::string_view>& fields) {
  fields.clear();
  std::size_t start = 0;
  while (true) {
    std::size_t comma = line.find(',', start);
    if (comma == std::string_view::npos) {
      fields.push_back(Trim(line.substr(start)));
      return;
    }
    fields.push_back(Trim(line.substr(start, comma - start)));
    start = comma + 1;
  }
}

absl::StatusOr<std::vector<int>> MapColumns(const std::string& path, const CsvLine& header,
                                            std::span<const ColumnSpec> specs) {
  std::vector<std::string_view> names;
  SplitFields(header.text, names);
  std::vector<int> index(specs.size(), -1);
  for (std::size_t column = 0; column < names.size(); ++column) {
    std::size_t spec = 0;
    while (spec < specs.size() && specs[spec].name != names[column]) ++spec;
    if (spec == specs.size()) {
      return absl::InvalidArgumentError(
          fmt::format("{}:{}: header: unknown column '{}'", path, header.number, names[column]));
    }
    if (index[spec] >= 0) {
      return absl::InvalidArgumentError(
          fmt::format("{}:{}: header: column '{}' appears twice", path, header.number, names[column]));
    }
    index[spec] = static_cast<int>(column);
  }
  for (std::size_t spec = 0; spec < specs.size(); ++spec) {
    if (specs[spec].required && index[spec] < 0) {
      return absl::InvalidArgumentError(fmt::format("{}:{}: header: required column '{}' is missing",
                                                    path, header.number, specs[spec].name));
    }
  }
  return index;
}

absl::Status FieldError(const std::string& path, int line, std::string_view column,
                        std::string_view what) {
  return absl::InvalidArgumentError(fmt::format("{}:{}: column '{}': {}", path, line, column, what));
}

std::optional<std::uint64_t> ParseUnsigned(std::string_view field) {
  std::uint64_t value = 0;
  const char* end = field.data() + field.size();
  auto [ptr, ec] = std::from_chars(field.data(), end, value);
  if (field.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

std::optional<double> ParseFiniteDouble(std::string_view field) {
  double value = 0;
  const char* end = field.data() + field.size();
  auto [ptr, ec] = std::from_chars(field.data(), end, value);
  if (field.empty() || ec != std::errc() || ptr != end || !std::isfinite(value)) return std::nullopt;
  return value;
}

absl::StatusOr<std::uint64_t> ParseCount(const std::string& path, int line, std::string_view column,
                                         std::string_view field, std::uint64_t max) {
  if (field.empty()) return FieldError(path, line, column, "is empty");
  if (field.front() == '-') {
    return FieldError(path, line, column, fmt::format("'{}' is negative", field));
  }
  std::optional<std::uint64_t> value = ParseUnsigned(field);
  if (!value) {
    return FieldError(path, line, column, fmt::format("'{}' is not a whole number", field));
  }
  if (*value > max) {
    return FieldError(path, line, column, fmt::format("{} is larger than {}", *value, max));
  }
  return *value;
}

absl::StatusOr<CsvTable> ReadCsvTable(const std::string& path, std::span<const ColumnSpec> specs) {
  absl::StatusOr<std::string> text = ReadWholeFile(path);
  if (!text.ok()) return text.status();
  CsvTable table;
  table.text = std::make_unique<std::string>(*std::move(text));
  table.lines = ContentLines(*table.text);
  if (table.lines.empty()) return absl::InvalidArgumentError(fmt::format("{}: no header line", path));
  absl::StatusOr<std::vector<int>> columns = MapColumns(path, table.lines.front(), specs);
  if (!columns.ok()) return columns.status();
  table.columns = *std::move(columns);
  return table;
}

}  // namespace cace
