#include "lib/sim/calibrated_cost_model.h"

#include <utility>

#include "fmt/format.h"
#include "lib/workload/csv_lines.h"

namespace cace {

namespace {

constexpr ColumnSpec kColumns[] = {
    {"model"},         {"weight_bytes"},  {"cold_load_s"}, {"busy_cold_load_s"}, {"warm_load_s"},        {"host_cache_load_s"},
    {"prefill_base_s"}, {"prefill_per_token_s"}, {"decode_base_s"}, {"decode_per_sequence_s"}, {"decode_per_kv_token_s"}};

// The accelerator a measured machine stands for: only its name is read (the times come from the
// measurements).
Accelerator MeasuredMachine() { return Accelerator{.name = "this machine (calibrated)"}; }

}  // namespace

absl::StatusOr<std::vector<MeasuredModelCosts>> ReadMeasuredCosts(const std::string& path) {
  absl::StatusOr<CsvTable> table = ReadCsvTable(path, kColumns);
  if (!table.ok()) return table.status();
  std::vector<MeasuredModelCosts> costs;
  std::vector<std::string_view> fields;
  for (std::size_t i = 1; i < table->lines.size(); ++i) {
    const CsvLine& line = table->lines[i];
    SplitFields(line.text, fields);
    auto field = [&](int column) -> std::string_view {
      const int index = table->columns[column];
      return index < static_cast<int>(fields.size()) ? fields[index] : std::string_view();
    };
    MeasuredModelCosts c;
    c.model = std::string(field(0));
    if (c.model.empty()) return FieldError(path, line.number, "model", "empty");
    absl::StatusOr<std::uint64_t> bytes =
        ParseCount(path, line.number, "weight_bytes", field(1), std::uint64_t{1} << 50);
    if (!bytes.ok()) return bytes.status();
    c.weight_bytes = *bytes;
    Seconds* seconds[] = {&c.cold_load_seconds, &c.busy_cold_load_seconds, &c.warm_load_seconds, &c.host_cache_load_seconds, &c.prefill_base, &c.prefill_per_token,
                          &c.decode_base,       &c.decode_per_sequence, &c.decode_per_kv_token};
    for (int k = 0; k < 9; ++k) {
      const std::optional<double> v = ParseFiniteDouble(field(k + 2));
      if (!v || *v < 0) {
        return FieldError(path, line.number, kColumns[k + 2].name, "must be a non-negative number of seconds");
      }
      *seconds[k] = *v;
    }
    for (const MeasuredModelCosts& earlier : costs) {
      if (earlier.model == c.model) return FieldError(path, line.number, "model", "measured twice");
    }
    costs.push_back(std::move(c));
  }
  return costs;
}

std::string FormatMeasuredCosts(std::span<const MeasuredModelCosts> costs, const std::string& comment) {
  std::string out;
  if (!comment.empty()) out += fmt::format("# {}\n", comment);
  out +=
      "model,weight_bytes,cold_load_s,busy_cold_load_s,warm_load_s,host_cache_load_s,prefill_base_s,prefill_per_token_s,decode_base_s,"
      "decode_per_sequence_s,decode_per_kv_token_s\n";
  for (const MeasuredModelCosts& c : costs) {
    out += fmt::format("{},{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g}\n", c.model, c.weight_bytes,
                       c.cold_load_seconds, c.busy_cold_load_seconds, c.warm_load_seconds, c.host_cache_load_seconds, c.prefill_base, c.prefill_per_token, c.decode_base,
                       c.decode_per_sequence, c.decode_per_kv_token);
  }
  return out;
}

absl::StatusOr<CalibratedCostModel> CalibratedCostModel::ForFleet(std::span<const MeasuredModelCosts> costs,
                                                                  std::span<const FleetModel> fleet) {
  std::unordered_map<std::string, MeasuredModelCosts> by_name;
  for (const MeasuredModelCosts& c : costs) by_name[c.model] = c;
  for (const FleetModel& m : fleet) {
    if (!by_name.contains(m.name)) {
      return absl::NotFoundError(fmt::format("the cost-model file has no measurement of model '{}'", m.name));
    }
  }
  return CalibratedCostModel(std::move(by_name));
}

CalibratedCostModel::CalibratedCostModel(std::unordered_map<std::string, MeasuredModelCosts> by_name)
    : CostModel(MeasuredMachine()), by_name_(std::move(by_name)) {}

const MeasuredModelCosts& CalibratedCostModel::Of(const FleetModel& model) const {
  return by_name_.at(model.name);  // ForFleet checked every model of the fleet
}

Seconds CalibratedCostModel::LoadSeconds(const FleetModel& model) const { return Of(model).cold_load_seconds; }

Seconds CalibratedCostModel::LoadSeconds(const FleetModel& model, LoadTier tier) const {
  return tier == LoadTier::kDisk ? Of(model).cold_load_seconds : Of(model).host_cache_load_seconds;
}

Seconds CalibratedCostModel::PrefillSeconds(const FleetModel& model, std::uint64_t prompt_tokens) const {
  const MeasuredModelCosts& c = Of(model);
  return c.prefill_base + c.prefill_per_token * static_cast<double>(prompt_tokens);
}

Seconds CalibratedCostModel::DecodeStepSeconds(const FleetModel& model, std::uint64_t batch_kv_tokens) const {
  return DecodeStepSeconds(model, 1, batch_kv_tokens);
}

Seconds CalibratedCostModel::DecodeStepSeconds(const FleetModel& model, std::uint64_t sequences,
                                               std::uint64_t batch_kv_tokens) const {
  const MeasuredModelCosts& c = Of(model);
  return c.decode_base + c.decode_per_sequence * static_cast<double>(sequences) +
         c.decode_per_kv_token * static_cast<double>(batch_kv_tokens);
}

}  // namespace cace
