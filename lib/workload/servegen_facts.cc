// Reads the ServeGen derived tables and computes the facts of servegen_facts.h, then the
// assignment parameters by the rules stated there.
#include "lib/workload/servegen_facts.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include "fmt/format.h"
#include "lib/workload/csv_lines.h"

namespace cace {
namespace {

constexpr double kWindowSeconds = 600;  // ServeGen's windows are 10 minutes
constexpr double kHour = 3600;
// An hour of a model under this fraction of its median hour is a collection gap (the README of
// the data: windows with near-zero rate are gaps in collection, not in demand).
constexpr double kGapFraction = 0.2;

struct Window {
  double start = 0;
  double requests = 0;
  double client_cv = NAN;  // absent when the window is inactive
};

absl::StatusOr<double> Number(const std::string& path, int line, std::string_view column,
                              std::string_view field) {
  std::optional<double> value = ParseFiniteDouble(field);
  if (!value || *value < 0) return FieldError(path, line, column, "not a finite number >= 0");
  return *value;
}

// model -> its windows, in file order.
absl::StatusOr<std::map<std::string, std::vector<Window>>> ReadModelWindows(const std::string& path) {
  enum { kModel, kStart, kRequests, kCv };
  static constexpr std::array<ColumnSpec, 6> kColumns = {{{"model"},
                                                          {"window_start_s"},
                                                          {"est_requests"},
                                                          {"ratew_mean_client_cv"},
                                                          {"rate_rps"},
                                                          {"active_clients"}}};
  absl::StatusOr<CsvTable> table = ReadCsvTable(path, kColumns);
  if (!table.ok()) return table.status();
  std::map<std::string, std::vector<Window>> windows;
  std::vector<std::string_view> fields;
  for (std::size_t i = 1; i < table->lines.size(); ++i) {
    const int line = table->lines[i].number;
    SplitFields(table->lines[i].text, fields);
    if (fields.size() != kColumns.size()) {
      return absl::InvalidArgumentError(fmt::format("{}:{}: {} fields, the header has {}", path,
                                                    line, fields.size(), kColumns.size()));
    }
    const auto& index = table->columns;
    Window window;
    absl::StatusOr<double> start = Number(path, line, "window_start_s", fields[index[kStart]]);
    if (!start.ok()) return start.status();
    absl::StatusOr<double> requests = Number(path, line, "est_requests", fields[index[kRequests]]);
    if (!requests.ok()) return requests.status();
    window.start = *start;
    window.requests = *requests;
    if (std::string_view cv = fields[index[kCv]]; !cv.empty()) {
      absl::StatusOr<double> value = Number(path, line, "ratew_mean_client_cv", cv);
      if (!value.ok()) return value.status();
      window.client_cv = *value;
    }
    windows[std::string(fields[index[kModel]])].push_back(window);
  }
  if (windows.empty()) return absl::InvalidArgumentError(fmt::format("{}: no windows", path));
  return windows;
}

absl::StatusOr<std::map<std::string, std::vector<double>>> ReadClientShares(const std::string& path) {
  enum { kModel, kShare };
  static constexpr std::array<ColumnSpec, 4> kColumns = {
      {{"model"}, {"share_of_model"}, {"client"}, {"est_requests"}}};
  absl::StatusOr<CsvTable> table = ReadCsvTable(path, kColumns);
  if (!table.ok()) return table.status();
  std::map<std::string, std::vector<double>> shares;
  std::vector<std::string_view> fields;
  for (std::size_t i = 1; i < table->lines.size(); ++i) {
    const int line = table->lines[i].number;
    SplitFields(table->lines[i].text, fields);
    if (fields.size() != kColumns.size()) {
      return absl::InvalidArgumentError(fmt::format("{}:{}: {} fields, the header has {}", path,
                                                    line, fields.size(), kColumns.size()));
    }
    absl::StatusOr<double> share = Number(path, line, "share_of_model", fields[table->columns[kShare]]);
    if (!share.ok()) return share.status();
    if (*share > 0) shares[std::string(fields[table->columns[kModel]])].push_back(*share);
  }
  for (auto& [model, list] : shares) std::sort(list.rbegin(), list.rend());
  return shares;
}

double Median(std::vector<double> values) {
  if (values.empty()) return NAN;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// Hourly volumes of each model over [0, hours).
std::vector<double> HourlyVolumes(const std::vector<Window>& windows, int hours) {
  std::vector<double> volume(static_cast<std::size_t>(hours), 0.0);
  for (const Window& w : windows) {
    const auto hour = static_cast<std::size_t>(w.start / kHour);
    if (hour < volume.size()) volume[hour] += w.requests;
  }
  return volume;
}

void MeasureDrift(const std::map<std::string, std::vector<Window>>& windows, double span_seconds,
                  ServeGenFacts& facts) {
  const int hours = static_cast<int>(span_seconds / kHour);
  std::vector<std::vector<double>> volume;
  for (const auto& [name, list] : windows) {
    if (list.back().start + kWindowSeconds < span_seconds) continue;  // not the whole record
    facts.drift_models.push_back(name);
    volume.push_back(HourlyVolumes(list, hours));
  }
  const std::size_t m = volume.size();
  if (m < 2) return;
  std::vector<double> median(m);
  for (std::size_t k = 0; k < m; ++k) median[k] = Median(volume[k]);
  std::vector<bool> kept(static_cast<std::size_t>(hours));
  std::vector<std::vector<double>> log_share(m, std::vector<double>(static_cast<std::size_t>(hours)));
  for (std::size_t h = 0; h < kept.size(); ++h) {
    double total = 0;
    bool gap = false;
    for (std::size_t k = 0; k < m; ++k) {
      total += volume[k][h];
      gap = gap || volume[k][h] < kGapFraction * median[k];
    }
    kept[h] = !gap;
    facts.drift_hours += gap ? 0 : 1;
    facts.gap_hours += gap ? 1 : 0;
    for (std::size_t k = 0; k < m && !gap; ++k) log_share[k][h] = std::log(volume[k][h] / total);
  }
  double change_sq = 0, level_sq = 0;
  std::size_t changes = 0, levels = 0;
  for (std::size_t k = 0; k < m; ++k) {
    double sum = 0;
    std::size_t n = 0;
    for (std::size_t h = 0; h < kept.size(); ++h) {
      if (!kept[h]) continue;
      sum += log_share[k][h];
      ++n;
      if (h + 1 < kept.size() && kept[h + 1]) {
        const double d = log_share[k][h + 1] - log_share[k][h];
        change_sq += d * d;
        ++changes;
      }
    }
    const double mean = n ? sum / static_cast<double>(n) : 0;
    for (std::size_t h = 0; h < kept.size(); ++h) {
      if (!kept[h]) continue;
      level_sq += (log_share[k][h] - mean) * (log_share[k][h] - mean);
      ++levels;
    }
  }
  if (changes > 0) facts.hourly_log_share_change_sd = std::sqrt(change_sq / static_cast<double>(changes));
  if (levels > 0) facts.log_share_level_sd = std::sqrt(level_sq / static_cast<double>(levels));
}

}  // namespace

absl::StatusOr<ServeGenFacts> ReadServeGenFacts(const std::string& servegen_dir) {
  auto windows = ReadModelWindows(servegen_dir + "/derived/model_rate_10min.csv");
  if (!windows.ok()) return windows.status();
  auto clients = ReadClientShares(servegen_dir + "/derived/client_totals.csv");
  if (!clients.ok()) return clients.status();

  ServeGenFacts facts;
  double shared_end = INFINITY, record_end = 0;
  for (const auto& [name, list] : *windows) {
    double end = 0;
    for (const Window& w : list) end = std::max(end, w.start + kWindowSeconds);
    shared_end = std::min(shared_end, end);
    record_end = std::max(record_end, end);
  }
  facts.shared_span_hours = shared_end / kHour;
  double total = 0;
  for (const auto& [name, list] : *windows) {
    ServeGenModel model{.name = name};
    std::vector<double> cvs;
    for (const Window& w : list) {
      if (w.start < shared_end) model.share += w.requests;
      if (w.requests > 0 && std::isfinite(w.client_cv)) cvs.push_back(w.client_cv);
    }
    model.client_cv = Median(std::move(cvs));
    total += model.share;
    auto found = clients->find(name);
    if (found == clients->end()) {
      return absl::InvalidArgumentError(
          fmt::format("{}: model '{}' has no clients in client_totals.csv", servegen_dir, name));
    }
    model.client_shares = found->second;
    facts.models.push_back(std::move(model));
  }
  if (!(total > 0)) return absl::InvalidArgumentError(fmt::format("{}: no requests", servegen_dir));
  for (ServeGenModel& model : facts.models) model.share /= total;
  std::sort(facts.models.begin(), facts.models.end(),
            [](const ServeGenModel& a, const ServeGenModel& b) { return a.share > b.share; });
  MeasureDrift(*windows, record_end, facts);
  return facts;
}

absl::StatusOr<ServeGenAssignmentParameters> DeriveAssignmentParameters(const ServeGenFacts& facts) {
  if (facts.models.size() < 2) {
    return absl::InvalidArgumentError("ServeGen facts: fewer than two models");
  }
  const double change = facts.hourly_log_share_change_sd;
  const double level = facts.log_share_level_sd;
  if (!(change > 0) || !(level > 0)) {
    return absl::InvalidArgumentError("ServeGen facts: no drift measured (need two models over the whole record)");
  }
  ServeGenAssignmentParameters params;
  for (const ServeGenModel& model : facts.models) {
    if (!(model.client_cv > 0)) {
      return absl::InvalidArgumentError(fmt::format("ServeGen facts: model '{}' has no client CV", model.name));
    }
    double clients = 0;
    for (double s : model.client_shares) clients += s;
    std::vector<double> shares = model.client_shares;
    for (double& s : shares) s /= clients;  // the listed clients are the model's whole volume
    params.ranks.push_back({model.name, model.share, std::move(shares), model.client_cv});
  }
  // An AR(1) x' = phi x + e with stationary sd `level` changes by sd level * sqrt(2 (1 - phi)) per
  // step; phi is clamped to keep the process stationary when the change exceeds the level's range.
  params.drift_phi_per_hour = std::clamp(1 - change * change / (2 * level * level), 0.0, 0.999);
  params.log_share_level_sd = level;
  return params;
}

std::vector<std::string> DescribeAssignmentParameters(const ServeGenFacts& facts,
                                                      const ServeGenAssignmentParameters& params) {
  std::vector<std::string> lines;
  lines.push_back(fmt::format(
      "model shares by rank within a class (measured share of the r-th largest ServeGen model "
      "over the {:.0f} h every model covers, model_rate_10min.csv):",
      facts.shared_span_hours));
  for (std::size_t r = 0; r < params.ranks.size(); ++r) {
    const ServeGenRank& rank = params.ranks[r];
    lines.push_back(fmt::format(
        "  rank {}: share {:.4f} <- {}; {} clients, largest {:.3f}, top 5 {:.3f} of its volume "
        "(client_totals.csv); client inter-arrival CV {:.2f} (median over its windows of the "
        "rate-weighted client CV)",
        r + 1, rank.share, rank.source_model, rank.client_shares.size(),
        rank.client_shares.front(),
        [&] {
          double top = 0;
          for (std::size_t i = 0; i < std::min<std::size_t>(5, rank.client_shares.size()); ++i) {
            top += rank.client_shares[i];
          }
          return top;
        }(),
        rank.client_cv));
  }
  lines.push_back(
      "  ranks beyond those: the last two shares' ratio continued; a class takes its first n "
      "shares, renormalised; which model holds which rank is drawn once per seed");
  lines.push_back(fmt::format(
      "drift: each model's log share is an AR(1) process stepped every {:.0f} s, phi {:.3f} per "
      "hour, stationary sd {:.3f} <- measured over {} ({} hours, {} gap hours dropped): hourly "
      "change of log share sd {:.3f}, log share around its mean sd {:.3f}",
      params.drift_window_seconds, params.drift_phi_per_hour, params.log_share_level_sd,
      fmt::join(facts.drift_models, ", "), facts.drift_hours, facts.gap_hours,
      facts.hourly_log_share_change_sd, facts.log_share_level_sd));
  lines.push_back(
      "clients: each client keeps its model (the sticky unit); each request of a class goes to "
      "the client whose next request is due first, each client's gaps (counted in the class's "
      "requests) drawn from a Gamma law with its measured CV and a mean of 1 / its share");
  return lines;
}

}  // namespace cace
