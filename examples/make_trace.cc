// cace_make_trace: writes a replayable trace in cace's CSV format (see lib/workload/trace.h),
// either the public traces assigned to a fleet by a seeded rule, or synthetic traffic.
//
//   cace_make_trace --out trace.csv                       # Azure code + conversation hour, models
//                                                         # by the ServeGen-derived rule
//   cace_make_trace --assignment collapsed --out t.csv    # ... by the earlier Zipf rule
//   cace_make_trace --mooncake PATH --out trace.csv        # Mooncake as the conversation traffic
//   cace_make_trace --synthetic --duration 600 --seed 3 --out trace.csv
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "lib/workload/fleet.h"
#include "lib/workload/trace.h"
#include "fmt/format.h"
#include "lib/workload/client_assignment.h"
#include "lib/workload/servegen_facts.h"

namespace {

constexpr std::string_view kUsage =
    "usage: cace_make_trace --out PATH [--fleet PATH] [--seed N] [--rate-scale X] [--sessions N]\n"
    "                       [--azure-code PATH] [--azure-conv PATH | --mooncake PATH]\n"
    "                       [--assignment servegen|collapsed] [--servegen DIR]\n"
    "                       [--synthetic [--duration S]]\n"
    "  Public traces (default): completion traffic from --azure-code, conversation traffic from\n"
    "  --azure-conv, or from --mooncake instead; traces of different services are each shifted\n"
    "  to start at 0. --synthetic generates Azure-shaped traffic for --duration seconds.\n"
    "  --assignment: servegen (default; parameters derived from the ServeGen tables in --servegen,\n"
    "  see cace_replay --assignment_facts) or collapsed (Zipf popularity reshuffled every 15 min,\n"
    "  sessions; --synthetic always uses it). --rate-scale defaults to 1 (the whole trace).\n"
    "  --sessions (collapsed only): open sessions per traffic class (default 16; 0: each class's\n"
    "  request rate x the time between one user's requests, 10 s for completions and 60 s for chat).\n";

struct Flags {
  std::string out;
  std::string fleet = CACE_SOURCE_DIR "/examples/fleets/l40s_code_fleet.csv";
  std::string azure_code = CACE_DATA_DIR "/traces/azure_llm_2023_code.csv";
  std::string azure_conv = CACE_DATA_DIR "/traces/azure_llm_2023_conv.csv";
  std::string mooncake;
  std::string assignment_rule = "servegen";
  std::string servegen = CACE_DATA_DIR "/traces/servegen";
  bool synthetic = false;
  double duration = 3600;
  cace::AssignmentOptions assignment;
};

std::optional<double> ParseNumber(const std::string& text) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size()) return std::nullopt;
  return value;
}

// Returns an error message, or nothing when the flags are good.
std::optional<std::string> ParseFlags(int argc, char** argv, Flags& flags) {
  std::map<std::string_view, std::string*> paths = {
      {"--out", &flags.out},           {"--fleet", &flags.fleet},
      {"--azure-code", &flags.azure_code}, {"--azure-conv", &flags.azure_conv},
      {"--mooncake", &flags.mooncake},     {"--assignment", &flags.assignment_rule},
      {"--servegen", &flags.servegen}};
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--synthetic") {
      flags.synthetic = true;
      continue;
    }
    if (flag == "--help" || flag == "-h") return std::string();
    if (i + 1 >= argc) return fmt::format("{} needs a value", flag);
    const std::string value = argv[++i];
    if (auto it = paths.find(flag); it != paths.end()) {
      *it->second = value;
      continue;
    }
    std::optional<double> number = ParseNumber(value);
    if (!number) return fmt::format("{}: '{}' is not a number", flag, value);
    if (flag == "--seed") {
      if (*number < 0 || *number != static_cast<double>(static_cast<std::uint64_t>(*number))) {
        return fmt::format("--seed: '{}' is not a whole number >= 0", value);
      }
      flags.assignment.seed = static_cast<std::uint64_t>(*number);
    } else if (flag == "--rate-scale") {
      flags.assignment.rate_scale = *number;
    } else if (flag == "--sessions") {
      if (!(*number >= 0 && *number <= 1'000'000) || *number != std::floor(*number)) {
        return fmt::format("--sessions: '{}' is not a whole number in [0, 1000000]", value);
      }
      flags.assignment.sessions = static_cast<int>(*number);
    } else if (flag == "--duration") {
      flags.duration = *number;
    } else {
      return fmt::format("unknown flag {}", flag);
    }
  }
  if (flags.out.empty()) return std::string("--out is required");
  if (flags.assignment_rule != "servegen" && flags.assignment_rule != "collapsed") {
    return fmt::format("--assignment: '{}' is neither servegen nor collapsed", flags.assignment_rule);
  }
  return std::nullopt;
}

// Traces of different services share no clock: each is moved to start at 0.
void ShiftToZero(std::vector<cace::RawRequest>& requests) {
  if (requests.empty()) return;
  const double start = requests.front().arrival;
  for (cace::RawRequest& request : requests) request.arrival -= start;
}

absl::StatusOr<std::vector<cace::TraceRequest>> MakeTrace(const Flags& flags,
                                                          const std::vector<cace::FleetModel>& fleet) {
  if (flags.synthetic) {
    cace::SyntheticOptions options;
    options.assignment = flags.assignment;
    options.duration = flags.duration;
    return cace::GenerateSynthetic(fleet, options);
  }
  absl::StatusOr<std::vector<cace::RawRequest>> code = cace::ReadAzureTrace(flags.azure_code);
  if (!code.ok()) return code.status();
  absl::StatusOr<std::vector<cace::RawRequest>> conv =
      flags.mooncake.empty() ? cace::ReadAzureTrace(flags.azure_conv)
                             : cace::ReadMooncakeTrace(flags.mooncake);
  if (!conv.ok()) return conv.status();
  if (!flags.mooncake.empty()) {
    ShiftToZero(*code);
    ShiftToZero(*conv);
  }
  if (flags.assignment_rule == "collapsed") {
    return cace::AssignModels(*code, *conv, fleet, flags.assignment);
  }
  absl::StatusOr<cace::ServeGenFacts> facts = cace::ReadServeGenFacts(flags.servegen);
  if (!facts.ok()) return facts.status();
  absl::StatusOr<cace::ServeGenAssignmentParameters> params = cace::DeriveAssignmentParameters(*facts);
  if (!params.ok()) return params.status();
  return cace::AssignModelsByClients(
      *code, *conv, fleet,
      cace::ClientAssignmentOptions{.seed = flags.assignment.seed,
                                    .rate_scale = flags.assignment.rate_scale,
                                    .parameters = *params});
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (std::optional<std::string> error = ParseFlags(argc, argv, flags)) {
    if (!error->empty()) fmt::print(stderr, "cace_make_trace: {}\n", *error);
    fmt::print(stderr, "{}", kUsage);
    return error->empty() ? 0 : 2;
  }
  absl::StatusOr<std::vector<cace::FleetModel>> fleet = cace::ReadFleetCsv(flags.fleet);
  if (!fleet.ok()) {
    fmt::print(stderr, "cace_make_trace: {}\n", std::string(fleet.status().message()));
    return 1;
  }
  absl::StatusOr<std::vector<cace::TraceRequest>> trace = MakeTrace(flags, *fleet);
  if (!trace.ok()) {
    fmt::print(stderr, "cace_make_trace: {}\n", std::string(trace.status().message()));
    return 1;
  }
  if (absl::Status written = cace::WriteTraceCsv(flags.out, *trace); !written.ok()) {
    fmt::print(stderr, "cace_make_trace: {}\n", std::string(written.message()));
    return 1;
  }
  const double span = trace->empty() ? 0 : trace->back().arrival;
  fmt::print("{}: {} requests over {:.1f} s, {} models, seed {}, rate scale {}\n", flags.out,
             trace->size(), span, fleet->size(), flags.assignment.seed, flags.assignment.rate_scale);
  return 0;
}
