#include <array>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <limits>
#include <memory>

#include "lib/workload/trace.h"
#include "fmt/format.h"
#include "lib/workload/csv_lines.h"

namespace cace {
namespace {

enum Column { kArrival, kModel, kPrompt, kOutput, kMaxTokens, kFim, kKind, kColumnCount };
constexpr std::array<ColumnSpec, kColumnCount> kColumns = {{
    {"arrival_s"},
    {"model"},
    {"prompt_tokens"},
    {"output_tokens"},
    {"max_tokens", false},
    {"fim", false},
    {"kind", false},
}};

constexpr std::uint64_t kMaxCount = std::numeric_limits<std::uint32_t>::max();

std::optional<TaskKind> KindByName(std::string_view name) {
  for (TaskKind kind : kAllTaskKinds) {
    if (TaskKindName(kind) == name) return kind;
  }
  return std::nullopt;
}

// A model name the reader gives back unchanged: fields are never quoted, so no separators.
bool WritableName(std::string_view name) {
  return !name.empty() && name.find_first_of(",\"\r\n") == std::string_view::npos &&
         name.front() != '#' && name.front() != ' ' && name.back() != ' ' &&
         name.front() != '\t' && name.back() != '\t';
}

}  // namespace

absl::StatusOr<std::vector<TraceRequest>> ReadTraceCsv(const std::string& path) {
  absl::StatusOr<CsvTable> table = ReadCsvTable(path, kColumns);
  if (!table.ok()) return table.status();
  const std::vector<CsvLine>& lines = table->lines;
  const std::vector<int>& index = table->columns;
  std::size_t columns = 0;
  for (int i : index) columns += i >= 0 ? 1 : 0;

  std::vector<TraceRequest> requests;
  requests.reserve(lines.size() - 1);
  std::vector<std::string_view> fields;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const int line = lines[i].number;
    SplitFields(lines[i].text, fields);
    if (fields.size() != columns) {
      return absl::InvalidArgumentError(
          fmt::format("{}:{}: {} fields, the header has {}", path, line, fields.size(), columns));
    }
    auto has = [&](Column column) { return index[column] >= 0; };
    auto field = [&](Column column) { return fields[index[column]]; };
    auto name = [](Column column) { return kColumns[column].name; };
    TraceRequest request;

    std::optional<double> arrival = ParseFiniteDouble(field(kArrival));
    if (!arrival) {
      return FieldError(path, line, name(kArrival),
                        fmt::format("'{}' is not a number", field(kArrival)));
    }
    if (*arrival < 0) return FieldError(path, line, name(kArrival), "is negative");
    if (!requests.empty() && *arrival < requests.back().arrival) {
      return FieldError(path, line, name(kArrival),
                        fmt::format("{} is before the previous request's {}", *arrival,
                                    requests.back().arrival));
    }
    request.arrival = *arrival;

    request.model = std::string(field(kModel));
    if (request.model.empty()) return FieldError(path, line, name(kModel), "is empty");

    for (auto [column, target] : {std::pair{kPrompt, &request.prompt_tokens},
                                  std::pair{kOutput, &request.output_tokens},
                                  std::pair{kMaxTokens, &request.max_tokens}}) {
      if (!has(column) || (column == kMaxTokens && field(column).empty())) continue;
      absl::StatusOr<std::uint64_t> value = ParseCount(path, line, name(column), field(column), kMaxCount);
      if (!value.ok()) return value.status();
      *target = static_cast<std::uint32_t>(*value);
    }

    if (has(kFim) && !field(kFim).empty()) {
      if (field(kFim) != "0" && field(kFim) != "1") {
        return FieldError(path, line, name(kFim), fmt::format("'{}' is not 0 or 1", field(kFim)));
      }
      request.fim = field(kFim) == "1";
    }
    if (has(kKind) && !field(kKind).empty()) {
      request.kind = KindByName(field(kKind));
      if (!request.kind) {
        return FieldError(path, line, name(kKind),
                          fmt::format("unknown kind '{}' (completion, chat, reasoning or empty)",
                                      field(kKind)));
      }
    }
    requests.push_back(std::move(request));
  }
  return requests;
}

absl::Status WriteTraceCsv(const std::string& path, std::span<const TraceRequest> requests) {
  // Check everything first so a bad request never leaves a half-written file behind.
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const TraceRequest& request = requests[i];
    if (!std::isfinite(request.arrival) || request.arrival < 0 ||
        (i > 0 && request.arrival < requests[i - 1].arrival)) {
      return absl::InvalidArgumentError(fmt::format(
          "{}: request {}: arrival {} is not a finite, non-negative, non-decreasing time", path, i,
          request.arrival));
    }
    if (!WritableName(request.model)) {
      return absl::InvalidArgumentError(fmt::format(
          "{}: request {}: model name '{}' is empty or holds a comma, quote, line break or "
          "leading '#' or blank", path, i, request.model));
    }
  }
  std::string text = "arrival_s,model,prompt_tokens,output_tokens,max_tokens,fim,kind\n";
  for (const TraceRequest& request : requests) {
    // fmt's "{}" prints the shortest text that reads back to the same double.
    fmt::format_to(std::back_inserter(text), "{},{},{},{},{},{},{}\n", request.arrival,
                   request.model, request.prompt_tokens, request.output_tokens,
                   request.max_tokens, request.fim ? 1 : 0,
                   request.kind ? TaskKindName(*request.kind) : std::string_view());
  }
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (file == nullptr) {
    return absl::PermissionDeniedError(fmt::format("{}: cannot open for writing", path));
  }
  if (std::fwrite(text.data(), 1, text.size(), file.get()) != text.size() ||
      std::fflush(file.get()) != 0) {
    return absl::DataLossError(fmt::format("{}: write failed", path));
  }
  return absl::OkStatus();
}

}  // namespace cace
