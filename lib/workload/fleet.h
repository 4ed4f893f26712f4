// The models a host serves and the accelerator they share, as the simulator's cost model sees
// them. Built-in figures come from public model cards and data sheets (see the README's table).
#ifndef CACE_LIB_WORKLOAD_FLEET_H_
#define CACE_LIB_WORKLOAD_FLEET_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace cace {

// Where a model's weights come from on a miss.
enum class WeightSource : std::uint8_t { kHostPinned, kHostPageable, kNvme, kNetwork };
std::string_view WeightSourceName(WeightSource source);
absl::StatusOr<WeightSource> ParseWeightSource(std::string_view name);  // "host-pinned", "nvme", ...

struct Accelerator {
  std::string name;
  std::uint64_t memory_bytes = 0;
  double memory_bandwidth = 0;     // bytes/s
  double bf16_flops = 0;           // dense FLOP/s
  double host_link_bandwidth = 0;  // bytes/s, achieved with pinned host memory
};

// "h100" (H100 SXM 80 GB), "l40s" (48 GB), "a10" (24 GB); case-insensitive. NotFound otherwise.
absl::StatusOr<Accelerator> AcceleratorByName(std::string_view name);
std::vector<Accelerator> KnownAccelerators();

// Which traffic a model takes in a generated enterprise workload.
enum class ModelRole : std::uint8_t { kCompletion, kConversation, kBoth };
std::string_view ModelRoleName(ModelRole role);
absl::StatusOr<ModelRole> ParseModelRole(std::string_view name);  // "completion", "conversation", "both"

struct FleetModel {
  std::string name;
  double params = 0;                  // parameters (count, not billions)
  std::uint64_t weight_bytes = 0;
  std::uint64_t kv_bytes_per_token = 0;
  WeightSource source = WeightSource::kNvme;
  ModelRole role = ModelRole::kBoth;
};

// The code models of the reference table (bf16), by name, e.g. "Qwen2.5-Coder-7B".
std::vector<FleetModel> KnownCodeModels();
absl::StatusOr<FleetModel> KnownCodeModel(std::string_view name);

// Sequential read bandwidth of a weight source into the accelerator, in bytes/s: pinned host
// memory at the link's speed, pageable at half of it, a local NVMe SSD at 5 GB/s (the middle of
// 3-7 GB/s), a network store at 1 GB/s; never faster than the link.
double SourceBandwidth(WeightSource source, const Accelerator& accelerator);

// A fleet file: CSV with the header `name,params,weight_bytes,kv_bytes_per_token,source,role`
// ('#' starts a comment line). Errors name the file, the line and the field.
absl::StatusOr<std::vector<FleetModel>> ReadFleetCsv(const std::string& path);

}  // namespace cace

#endif  // CACE_LIB_WORKLOAD_FLEET_H_
