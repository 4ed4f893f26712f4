#include <array>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "lib/workload/fleet.h"
#include "fmt/format.h"
#include "lib/workload/csv_lines.h"

namespace cace {
namespace {

enum Column { kName, kParams, kWeightBytes, kKvBytes, kSource, kRole, kColumnCount };
constexpr std::array<ColumnSpec, kColumnCount> kColumns = {{
    {"name"}, {"params"}, {"weight_bytes"}, {"kv_bytes_per_token"}, {"source"}, {"role"}}};

absl::StatusOr<std::uint64_t> PositiveBytes(const std::string& path, int line, Column column,
                                            std::string_view field) {
  absl::StatusOr<std::uint64_t> value = ParseCount(path, line, kColumns[column].name, field,
                                                   std::numeric_limits<std::uint64_t>::max());
  if (value.ok() && *value == 0) return FieldError(path, line, kColumns[column].name, "is zero");
  return value;
}

}  // namespace

absl::StatusOr<std::vector<FleetModel>> ReadFleetCsv(const std::string& path) {
  absl::StatusOr<CsvTable> table = ReadCsvTable(path, kColumns);
  if (!table.ok()) return table.status();
  const std::vector<CsvLine>& lines = table->lines;
  const std::vector<int>& index = table->columns;

  std::vector<FleetModel> fleet;
  absl::flat_hash_map<std::string, int> line_of_name;
  std::vector<std::string_view> fields;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const int line = lines[i].number;
    SplitFields(lines[i].text, fields);
    if (fields.size() != kColumns.size()) {
      return absl::InvalidArgumentError(fmt::format("{}:{}: {} fields, the header has {}", path,
                                                    line, fields.size(), kColumns.size()));
    }
    auto field = [&](Column column) { return fields[index[column]]; };
    FleetModel model;
    model.name = std::string(field(kName));
    if (model.name.empty()) return FieldError(path, line, "name", "is empty");
    auto [previous, inserted] = line_of_name.emplace(model.name, line);
    if (!inserted) {
      return FieldError(path, line, "name",
                        fmt::format("'{}' already named on line {}", model.name, previous->second));
    }
    std::optional<double> params = ParseFiniteDouble(field(kParams));
    if (!params) {
      return FieldError(path, line, "params", fmt::format("'{}' is not a number", field(kParams)));
    }
    if (*params <= 0) return FieldError(path, line, "params", "must be positive");
    model.params = *params;
    absl::StatusOr<std::uint64_t> weight = PositiveBytes(path, line, kWeightBytes, field(kWeightBytes));
    if (!weight.ok()) return weight.status();
    model.weight_bytes = *weight;
    absl::StatusOr<std::uint64_t> kv = PositiveBytes(path, line, kKvBytes, field(kKvBytes));
    if (!kv.ok()) return kv.status();
    model.kv_bytes_per_token = *kv;
    absl::StatusOr<WeightSource> source = ParseWeightSource(field(kSource));
    if (!source.ok()) return FieldError(path, line, "source", std::string(source.status().message()));
    model.source = *source;
    absl::StatusOr<ModelRole> role = ParseModelRole(field(kRole));
    if (!role.ok()) return FieldError(path, line, "role", std::string(role.status().message()));
    model.role = *role;
    fleet.push_back(std::move(model));
  }
  if (fleet.empty()) return absl::InvalidArgumentError(fmt::format("{}: no models", path));
  return fleet;
}

}  // namespace cace
