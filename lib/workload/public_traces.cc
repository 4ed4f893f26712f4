// Readers of the public traces in shared/traces (see its README for their origin and columns).
#include <array>
#include <cmath>
#include <limits>

#include "lib/workload/trace.h"
#include "fmt/format.h"
#include "lib/json/json.h"
#include "lib/workload/csv_lines.h"

namespace cace {
namespace {

constexpr std::uint64_t kMaxTokens = std::numeric_limits<std::uint32_t>::max();

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t DaysFromCivil(std::int64_t year, unsigned month, unsigned day) {
  year -= month <= 2 ? 1 : 0;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<std::int64_t>(day_of_era) - 719468;
}

struct Timestamp {
  std::int64_t day = 0;      // days since 1970-01-01
  double second = 0;         // seconds since that day's midnight, with the fraction
};

// "YYYY-MM-DD HH:MM:SS[.fraction]", in UTC. Parsed by hand: the fraction has up to 7 digits in
// the Azure files, more than strptime keeps, and sub-second arrivals matter in a burst.
std::optional<Timestamp> ParseTimestamp(std::string_view text) {
  std::size_t pos = 0;
  auto digits = [&](std::size_t count) -> std::optional<unsigned> {
    if (pos + count > text.size()) return std::nullopt;
    unsigned value = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const char c = text[pos + i];
      if (c < '0' || c > '9') return std::nullopt;
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    pos += count;
    return value;
  };
  auto expect = [&](char c) {
    if (pos >= text.size() || text[pos] != c) return false;
    ++pos;
    return true;
  };
  std::optional<unsigned> year = digits(4);
  if (!year || !expect('-')) return std::nullopt;
  std::optional<unsigned> month = digits(2);
  if (!month || !expect('-')) return std::nullopt;
  std::optional<unsigned> day = digits(2);
  if (!day || !(expect(' ') || expect('T'))) return std::nullopt;
  std::optional<unsigned> hour = digits(2);
  if (!hour || !expect(':')) return std::nullopt;
  std::optional<unsigned> minute = digits(2);
  if (!minute || !expect(':')) return std::nullopt;
  std::optional<unsigned> second = digits(2);
  if (!second) return std::nullopt;
  static constexpr std::array<unsigned, 12> kDaysInMonth = {31, 29, 31, 30, 31, 30,
                                                            31, 31, 30, 31, 30, 31};
  if (*month < 1 || *month > 12 || *day < 1 || *day > kDaysInMonth[*month - 1] || *hour > 23 ||
      *minute > 59 || *second > 60) {
    return std::nullopt;
  }
  // The fraction as an integer over a power of ten: one rounding, at the final division.
  double fraction = 0;
  if (expect('.')) {
    std::uint64_t numerator = 0;
    std::uint64_t denominator = 1;
    const std::size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (denominator < 1'000'000'000'000ULL) {  // digits past a picosecond change nothing
        numerator = numerator * 10 + static_cast<std::uint64_t>(text[pos] - '0');
        denominator *= 10;
      }
      ++pos;
    }
    if (pos == start) return std::nullopt;
    fraction = static_cast<double>(numerator) / static_cast<double>(denominator);
  }
  if (pos != text.size()) return std::nullopt;
  Timestamp stamp;
  stamp.day = DaysFromCivil(*year, *month, *day);
  stamp.second = *hour * 3600.0 + *minute * 60.0 + *second + fraction;
  return stamp;
}

}  // namespace

absl::StatusOr<std::vector<RawRequest>> ReadAzureTrace(const std::string& path) {
  enum Column { kTimestamp, kContext, kGenerated, kColumnCount };
  static constexpr std::array<ColumnSpec, kColumnCount> kColumns = {
      {{"TIMESTAMP"}, {"ContextTokens"}, {"GeneratedTokens"}}};
  absl::StatusOr<CsvTable> table = ReadCsvTable(path, kColumns);
  if (!table.ok()) return table.status();
  const std::vector<CsvLine>& lines = table->lines;
  const std::vector<int>& index = table->columns;

  std::vector<RawRequest> requests;
  requests.reserve(lines.size() - 1);
  std::int64_t first_day = 0;
  std::vector<std::string_view> fields;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const int line = lines[i].number;
    SplitFields(lines[i].text, fields);
    if (fields.size() != kColumns.size()) {
      return absl::InvalidArgumentError(fmt::format("{}:{}: {} fields, the header has {}", path,
                                                    line, fields.size(), kColumns.size()));
    }
    std::string_view stamp_text = fields[index[kTimestamp]];
    std::optional<Timestamp> stamp = ParseTimestamp(stamp_text);
    if (!stamp) {
      return FieldError(path, line, "TIMESTAMP",
                        fmt::format("'{}' is not 'YYYY-MM-DD HH:MM:SS.fraction'", stamp_text));
    }
    if (requests.empty()) first_day = stamp->day;
    RawRequest request;
    request.arrival = static_cast<double>(stamp->day - first_day) * 86400.0 + stamp->second;
    absl::StatusOr<std::uint64_t> context =
        ParseCount(path, line, "ContextTokens", fields[index[kContext]], kMaxTokens);
    if (!context.ok()) return context.status();
    absl::StatusOr<std::uint64_t> generated =
        ParseCount(path, line, "GeneratedTokens", fields[index[kGenerated]], kMaxTokens);
    if (!generated.ok()) return generated.status();
    request.prompt_tokens = static_cast<std::uint32_t>(*context);
    request.output_tokens = static_cast<std::uint32_t>(*generated);
    requests.push_back(request);
  }
  return requests;
}

absl::StatusOr<std::vector<RawRequest>> ReadMooncakeTrace(const std::string& path) {
  absl::StatusOr<std::string> text = ReadWholeFile(path);
  if (!text.ok()) return text.status();
  std::vector<CsvLine> lines = ContentLines(*text);
  std::vector<RawRequest> requests;
  requests.reserve(lines.size());
  for (const CsvLine& line : lines) {
    const std::string where = fmt::format("{}:{}", path, line.number);
    absl::StatusOr<JsonValue> value = ParseJson(line.text, where);
    if (!value.ok()) return value.status();
    if (!value->is_object()) {
      return absl::InvalidArgumentError(fmt::format("{}: not a JSON object", where));
    }
    auto field = [&](std::string_view key) -> absl::StatusOr<const JsonValue*> {
      const JsonValue* member = value->Find(key);
      if (member == nullptr) {
        return absl::InvalidArgumentError(fmt::format("{}: field '{}' is missing", where, key));
      }
      if (!member->is_number()) {
        return absl::InvalidArgumentError(fmt::format("{}: field '{}' is a {}, not a number", where,
                                                      key, JsonKindName(member->kind())));
      }
      return member;
    };
    absl::StatusOr<const JsonValue*> timestamp = field("timestamp");
    if (!timestamp.ok()) return timestamp.status();
    std::optional<double> milliseconds = (*timestamp)->AsDouble();
    if (!milliseconds || *milliseconds < 0) {
      return absl::InvalidArgumentError(fmt::format(
          "{}: field 'timestamp': '{}' is not a non-negative time", where, (*timestamp)->text()));
    }
    RawRequest request;
    request.arrival = *milliseconds / 1000.0;
    for (auto [key, target] : {std::pair{"input_length", &request.prompt_tokens},
                               std::pair{"output_length", &request.output_tokens}}) {
      absl::StatusOr<const JsonValue*> length = field(key);
      if (!length.ok()) return length.status();
      std::optional<std::uint64_t> count = (*length)->AsUint64();
      if (!count || *count > kMaxTokens) {
        return absl::InvalidArgumentError(fmt::format(
            "{}: field '{}': '{}' is not a token count", where, key, (*length)->text()));
      }
      *target = static_cast<std::uint32_t>(*count);
    }
    requests.push_back(request);
  }
  return requests;
}

}  // namespace cace
