// Built-in figures of fleet.md: vendors' data sheets and the models' config.json, with GB = 10^9
// bytes as the data sheets count them.
#include "lib/workload/fleet.h"

#include <algorithm>
#include <array>

#include "fmt/format.h"

namespace cace {
namespace {

constexpr double kGB = 1e9;
constexpr double kTB = 1e12;
constexpr double kTFlop = 1e12;

// A local NVMe SSD reads 3-7 GB/s sequentially; the middle of that range.
constexpr double kNvmeBandwidth = 5 * kGB;
constexpr double kNetworkBandwidth = 1 * kGB;

// ASCII case-insensitive equality (names here are ASCII).
bool SameName(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return lower(x) == lower(y); });
}

struct SourceEntry {
  WeightSource source;
  std::string_view name;
};
constexpr std::array<SourceEntry, 4> kSources = {{
    {WeightSource::kHostPinned, "host-pinned"},
    {WeightSource::kHostPageable, "host-pageable"},
    {WeightSource::kNvme, "nvme"},
    {WeightSource::kNetwork, "network"},
}};

struct RoleEntry {
  ModelRole role;
  std::string_view name;
};
constexpr std::array<RoleEntry, 3> kRoles = {{
    {ModelRole::kCompletion, "completion"},
    {ModelRole::kConversation, "conversation"},
    {ModelRole::kBoth, "both"},
}};

struct CodeModelEntry {
  std::string_view name;
  double params_billions;
  double weight_gb;  // bf16, as rounded in the table
  std::uint64_t kv_bytes_per_token;
};
// KV bytes a token = 2 (K and V) x layers x KV heads x head dim x 2 bytes.
constexpr std::array<CodeModelEntry, 16> kCodeModels = {{
    {"Qwen2.5-Coder-0.5B", 0.49, 0.99, 12'288},
    {"Qwen2.5-Coder-1.5B", 1.54, 3.1, 28'672},
    {"Qwen2.5-Coder-3B", 3.09, 6.2, 36'864},
    {"Qwen2.5-Coder-7B", 7.61, 15.2, 57'344},
    {"Qwen2.5-Coder-14B", 14.7, 29.5, 196'608},
    {"Qwen2.5-Coder-32B", 32.5, 65.5, 262'144},
    {"DeepSeek-Coder-1.3B", 1.35, 2.7, 196'608},
    {"DeepSeek-Coder-6.7B", 6.74, 13.5, 524'288},
    {"DeepSeek-Coder-33B", 33.3, 66.7, 253'952},
    {"CodeLlama-7B", 6.74, 13.5, 524'288},
    {"CodeLlama-13B", 13.0, 26.0, 819'200},
    {"CodeLlama-34B", 33.7, 67.5, 196'608},
    {"Codestral-22B", 22.2, 44.5, 229'376},
    {"StarCoder2-3B", 3.03, 6.1, 30'720},
    {"StarCoder2-7B", 7.17, 14.3, 65'536},
    {"StarCoder2-15B", 16.0, 32.0, 81'920},
}};

FleetModel MakeModel(const CodeModelEntry& entry) {
  FleetModel model;
  model.name = std::string(entry.name);
  model.params = entry.params_billions * 1e9;
  // Rounded to whole bytes: 0.99 * 1e9 is not exact in binary.
  model.weight_bytes = static_cast<std::uint64_t>(entry.weight_gb * kGB + 0.5);
  model.kv_bytes_per_token = entry.kv_bytes_per_token;
  return model;
}

}  // namespace

std::string_view WeightSourceName(WeightSource source) {
  for (const SourceEntry& entry : kSources) {
    if (entry.source == source) return entry.name;
  }
  return "unknown";
}

absl::StatusOr<WeightSource> ParseWeightSource(std::string_view name) {
  for (const SourceEntry& entry : kSources) {
    if (SameName(entry.name, name)) return entry.source;
  }
  return absl::InvalidArgumentError(fmt::format(
      "unknown weight source '{}' (host-pinned, host-pageable, nvme or network)", name));
}

std::string_view ModelRoleName(ModelRole role) {
  for (const RoleEntry& entry : kRoles) {
    if (entry.role == role) return entry.name;
  }
  return "unknown";
}

absl::StatusOr<ModelRole> ParseModelRole(std::string_view name) {
  for (const RoleEntry& entry : kRoles) {
    if (SameName(entry.name, name)) return entry.role;
  }
  return absl::InvalidArgumentError(
      fmt::format("unknown model role '{}' (completion, conversation or both)", name));
}

std::vector<Accelerator> KnownAccelerators() {
  // Host links are PCIe Gen5 x16 (H100) and Gen4 x16 (L40S, A10) as achieved with pinned memory.
  return {
      {"H100 SXM", static_cast<std::uint64_t>(80 * kGB), 3.35 * kTB, 989 * kTFlop, 50 * kGB},
      {"L40S", static_cast<std::uint64_t>(48 * kGB), 0.86 * kTB, 362 * kTFlop, 25 * kGB},
      {"A10", static_cast<std::uint64_t>(24 * kGB), 0.60 * kTB, 125 * kTFlop, 25 * kGB},
  };
}

absl::StatusOr<Accelerator> AcceleratorByName(std::string_view name) {
  // The short key a command line uses ("h100") or the full name a report prints ("H100 SXM").
  static constexpr std::array<std::string_view, 3> kKeys = {"h100", "l40s", "a10"};
  std::vector<Accelerator> known = KnownAccelerators();
  for (std::size_t i = 0; i < known.size(); ++i) {
    if (SameName(kKeys[i], name) || SameName(known[i].name, name)) {
      return std::move(known[i]);
    }
  }
  return absl::NotFoundError(fmt::format("unknown accelerator '{}' (h100, l40s or a10)", name));
}

std::vector<FleetModel> KnownCodeModels() {
  std::vector<FleetModel> models;
  models.reserve(kCodeModels.size());
  for (const CodeModelEntry& entry : kCodeModels) models.push_back(MakeModel(entry));
  return models;
}

absl::StatusOr<FleetModel> KnownCodeModel(std::string_view name) {
  for (const CodeModelEntry& entry : kCodeModels) {
    if (SameName(entry.name, name)) return MakeModel(entry);
  }
  return absl::NotFoundError(fmt::format("unknown code model '{}'", name));
}

double SourceBandwidth(WeightSource source, const Accelerator& accelerator) {
  const double link = accelerator.host_link_bandwidth;
  switch (source) {
    case WeightSource::kHostPinned: return link;
    // Pageable memory goes through a bounce buffer in the driver: about half the pinned rate.
    case WeightSource::kHostPageable: return link / 2;
    case WeightSource::kNvme: return std::min(kNvmeBandwidth, link);
    case WeightSource::kNetwork: return std::min(kNetworkBandwidth, link);
  }
  return link;
}

}  // namespace cace
