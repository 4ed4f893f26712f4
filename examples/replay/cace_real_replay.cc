// cace_real_replay: the replay for real. A scaled-down piece of the default traffic is served on
// the wall clock by the Engine (CPU backend) from model files made here, with a memory budget
// that holds only some of them and every load cold from disk; each policy's table from measured
// times is printed, then the simulator's prediction for the same requests and files with the cost
// model measured on this machine (cace_calibrate), then both means side by side.
//
//   cace_real_replay [--costs costs.csv] [--policies lru,cace,ollama] [--requests 300]
//                    [--compress 4] [--budget_mb 0] [--host_cache_mb 0] [--models full|test] [--work DIR]
#include <algorithm>
#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_split.h"
#include "examples/replay/machine_calibration.h"
#include "examples/replay/real_flags.h"
#include "examples/replay/real_replay.h"
#include "fmt/format.h"
#include "lib/report/text_file.h"

ABSL_FLAG(std::string, costs, "",
          "cost-model file from cace_calibrate (default: calibrate now and write WORK/costs.csv)");
ABSL_FLAG(std::string, policies, "lru,cace,ollama", "comma-separated policies");
ABSL_FLAG(std::string, data, CACE_DATA_DIR, "folder holding traces/ (data/ of the repository)");
ABSL_FLAG(std::string, fleet, CACE_SOURCE_DIR "/examples/fleets/l40s_code_fleet.csv",
          "the default traffic's fleet, whose models are mapped onto the files by size rank");
ABSL_FLAG(double, start_s, 0, "where in the default traffic (seconds) the piece begins");
ABSL_FLAG(std::size_t, requests, 300, "requests replayed");
ABSL_FLAG(double, compress, 4, "arrivals come this many times faster than in the default traffic");
ABSL_FLAG(double, length_scale, 0.25, "prompt and output lengths are multiplied by this");
ABSL_FLAG(std::uint32_t, max_prompt, 96, "prompt tokens at most");
ABSL_FLAG(std::uint32_t, max_output, 48, "output tokens at most");
ABSL_FLAG(double, budget_mb, 0,
          "memory budget in MB (0: 45 % of the models' weights, at least the largest model with "
          "room for a full batch)");
ABSL_FLAG(double, host_cache_mb, 0,
          "host memory for evicted weights in MB (EngineOptions::host_cache_bytes; 0: none), the "
          "simulator's host cache the same");
ABSL_FLAG(int, max_batch, 8, "sequences of one model decoded together");
ABSL_FLAG(double, tolerance, 0.25, "how far a prediction may be from the measured mean");
ABSL_FLAG(bool, page_cache, false, "let loads come from the page cache (not cold)");
ABSL_FLAG(bool, decode_with_prefill, true,
          "the simulator's step as the Engine's: new requests' prefill and the running ones' decode "
          "in one forward pass (false: the prefill alone, as the accelerator replay charges it)");
ABSL_FLAG(bool, trace_only, false, "print the scaled trace's requests per model and kind, then stop");

namespace cace {
namespace {

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "cace_real_replay: %s\n", std::string(s.message()).c_str());
  return 1;
}

absl::StatusOr<std::vector<MeasuredModelCosts>> Costs(const std::vector<ModelFile>& models, int threads) {
  if (const std::string path = absl::GetFlag(FLAGS_costs); !path.empty()) return ReadMeasuredCosts(path);
  std::vector<MeasuredModelCosts> costs;
  for (const ModelFile& m : models) {
    std::fprintf(stderr, "calibrating %s\n", m.name.c_str());
    absl::StatusOr<MeasuredModelCosts> c = MeasureModel(m, CalibrationOptions{threads, 3});
    if (!c.ok()) return c.status();
    costs.push_back(*std::move(c));
  }
  const std::string path = absl::GetFlag(FLAGS_work) + "/costs.csv";
  if (absl::Status s = WriteTextFile(path, FormatMeasuredCosts(costs, "measured by cace_real_replay; " + MachineLine()),
                                     "cost-model file");
      !s.ok()) {
    return s;
  }
  std::fprintf(stderr, "wrote %s\n", path.c_str());
  return costs;
}

std::uint64_t DefaultBudget(const std::vector<MeasuredModelCosts>& costs, const std::vector<ModelFile>& models,
                            int max_batch, std::uint32_t max_tokens_per_request) {
  std::uint64_t total = 0, largest = 0;
  for (const MeasuredModelCosts& c : costs) {
    total += c.weight_bytes;
    largest = std::max(largest, c.weight_bytes);
  }
  (void)models;
  // The largest model with a batch of KV: kv bytes are small beside the weights here; a fifth of
  // the largest model is ample for max_batch x (prompt + output) tokens of these models.
  const std::uint64_t floor = largest + largest / 5 + static_cast<std::uint64_t>(max_batch) * max_tokens_per_request * 0;
  return std::max<std::uint64_t>(total * 45 / 100, floor);
}

int Main() {
  absl::StatusOr<std::vector<ModelFile>> models = ModelFilesFromFlags();
  if (!models.ok()) return Fail(models.status());
  const int threads = absl::GetFlag(FLAGS_threads);
  absl::StatusOr<std::vector<MeasuredModelCosts>> costs = Costs(*models, threads);
  if (!costs.ok()) return Fail(costs.status());

  RealTraceOptions trace_options;
  trace_options.scenario.data_dir = absl::GetFlag(FLAGS_data);
  trace_options.scenario.fleet_path = absl::GetFlag(FLAGS_fleet);
  trace_options.start_seconds = absl::GetFlag(FLAGS_start_s);
  trace_options.requests = absl::GetFlag(FLAGS_requests);
  trace_options.time_compression = absl::GetFlag(FLAGS_compress);
  trace_options.length_scale = absl::GetFlag(FLAGS_length_scale);
  trace_options.max_prompt_tokens = absl::GetFlag(FLAGS_max_prompt);
  trace_options.max_output_tokens = absl::GetFlag(FLAGS_max_output);
  absl::StatusOr<std::vector<RealRequest>> trace = MakeRealTrace(trace_options, models->size());
  if (!trace.ok()) return Fail(trace.status());

  std::string per_model;
  for (std::size_t m = 0; m < models->size(); ++m) {
    PerKind<int> kinds{};
    double tokens = 0;
    for (const RealRequest& r : *trace) {
      if (r.model != m) continue;
      ++kinds[KindIndex(r.kind)];
      tokens += r.prompt_tokens + r.max_tokens;
    }
    per_model += fmt::format("{}{}: {} completion, {} chat, {} reasoning ({:.0f} tokens)", per_model.empty() ? "" : "; ",
                             (*models)[m].name, kinds[0], kinds[1], kinds[2], tokens);
  }
  std::fprintf(stderr, "requests per model: %s; last arrival %.1f s\n", per_model.c_str(), trace->back().arrival);
  if (absl::GetFlag(FLAGS_trace_only)) return 0;

  RealRunOptions run;
  run.models = *models;
  run.costs = *costs;
  run.compute_threads = threads;
  run.max_batch = absl::GetFlag(FLAGS_max_batch);
  run.cold_loads = !absl::GetFlag(FLAGS_page_cache);
  run.decode_with_prefill = absl::GetFlag(FLAGS_decode_with_prefill);
  run.memory_budget_bytes =
      absl::GetFlag(FLAGS_budget_mb) > 0
          ? static_cast<std::uint64_t>(absl::GetFlag(FLAGS_budget_mb) * 1e6)
          : DefaultBudget(*costs, *models, run.max_batch, trace_options.max_prompt_tokens + trace_options.max_output_tokens);
  run.host_cache_bytes = static_cast<std::uint64_t>(std::max(0.0, absl::GetFlag(FLAGS_host_cache_mb)) * 1e6);

  ScenarioInfo info;
  info.name = "real replay";
  info.accelerator = "this machine's CPU (measured)";
  info.memory_budget_bytes = static_cast<double>(run.memory_budget_bytes);
  info.trace = fmt::format("default traffic from {} s: {} requests, arrivals x{} faster, lengths x{} (prompt <= {}, output <= {})",
                           trace_options.start_seconds, trace->size(), trace_options.time_compression,
                           trace_options.length_scale, trace_options.max_prompt_tokens, trace_options.max_output_tokens);
  std::string files;
  for (const ModelFile& m : *models) files += (files.empty() ? "" : ", ") + m.name;
  info.fleet = files;
  info.seed = 1;
  info.rate_scale = trace_options.time_compression;
  info.slo_ttft_seconds = run.slo_ttft;
  info.notes.push_back("requests per model: " + per_model);
  info.notes.push_back(std::string(run.cold_loads ? "every load from disk cold (pages dropped)" : "loads may hit the page cache"));
  if (run.host_cache_bytes > 0) {
    info.notes.push_back(fmt::format("host cache of evicted weights: {:.0f} MB (a cached reload copies from memory)",
                                     static_cast<double>(run.host_cache_bytes) / 1e6));
  }
  const std::string start_line = MachineLine();

  std::vector<RealPolicyRun> runs;
  for (absl::string_view name : absl::StrSplit(absl::GetFlag(FLAGS_policies), ',', absl::SkipEmpty())) {
    std::fprintf(stderr, "serving %zu requests with %s (%s)\n", trace->size(), std::string(name).c_str(),
                 MachineLine().c_str());
    absl::StatusOr<RealPolicyRun> r = RunRealPolicy(std::string(name), *trace, run);
    if (!r.ok()) return Fail(r.status());
    std::fprintf(stderr, "  done in %.1f s\n", r->measured.replay_wall_seconds);
    runs.push_back(*std::move(r));
  }
  std::vector<PolicyResult> measured, predicted;
  for (const RealPolicyRun& r : runs) {
    measured.push_back(r.measured);
    predicted.push_back(r.predicted);
  }
  const std::string baseline = runs.front().measured.policy;
  info.notes.push_back("machine at the start: " + start_line + "; at the end: " + MachineLine());
  fmt::print("== Measured (Engine, wall clock)\n{}\n", FormatResultsTable(info, measured, baseline));
  info.name = "simulator's prediction (calibrated cost model)";
  fmt::print("== Predicted (simulator)\n{}\n", FormatResultsTable(info, predicted, baseline));
  fmt::print("{}", FormatPredictionTable(runs, absl::GetFlag(FLAGS_tolerance)));
  return 0;
}

}  // namespace
}  // namespace cace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return cace::Main();
}
