// cace_calibrate: measures this machine for the simulator's calibrated cost model. Per model
// file (made in --work when missing): a cold load from disk (pages dropped from the page cache),
// a warm load (from the page cache), prefill and decode step times on the CPU backend; writes the
// cost-model file (lib/sim/calibrated_cost_model.h) and prints it.
//
//   cace_calibrate --out costs.csv [--models full|test] [--work DIR] [--threads N] [--repeats N]
#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "examples/replay/machine_calibration.h"
#include "examples/replay/real_flags.h"
#include "fmt/format.h"
#include "lib/report/text_file.h"

ABSL_FLAG(std::string, out, "", "cost-model file to write (CSV)");
ABSL_FLAG(int, repeats, 3, "each measurement is the median of this many");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  auto fail = [](const absl::Status& s) {
    std::fprintf(stderr, "cace_calibrate: %s\n", std::string(s.message()).c_str());
    return 1;
  };
  absl::StatusOr<std::vector<cace::ModelFile>> models = cace::ModelFilesFromFlags();
  if (!models.ok()) return fail(models.status());
  const cace::CalibrationOptions options{absl::GetFlag(FLAGS_threads), absl::GetFlag(FLAGS_repeats)};
  std::vector<cace::MeasuredModelCosts> costs;
  for (const cace::ModelFile& m : *models) {
    absl::StatusOr<cace::MeasuredModelCosts> c = cace::MeasureModel(m, options);
    if (!c.ok()) return fail(c.status());
    const double mb = static_cast<double>(c->weight_bytes) / 1e6;
    std::fprintf(stderr, "%-16s %7.1f MB: cold load %.3f s (%.2f GB/s) idle, %.3f s (%.2f GB/s) beside a decode loop; "
                 "warm %.3f s (%.2f GB/s); from the host cache %.3f s (%.2f GB/s)\n", m.name.c_str(), mb, c->cold_load_seconds,
                 mb / 1e3 / c->cold_load_seconds, c->busy_cold_load_seconds, mb / 1e3 / c->busy_cold_load_seconds,
                 c->warm_load_seconds, mb / 1e3 / c->warm_load_seconds, c->host_cache_load_seconds,
                 mb / 1e3 / c->host_cache_load_seconds);
    costs.push_back(*std::move(c));
  }
  const std::string text = cace::FormatMeasuredCosts(costs, "measured by cace_calibrate; " + cace::MachineLine());
  std::fputs(text.c_str(), stdout);
  if (const std::string out = absl::GetFlag(FLAGS_out); !out.empty()) {
    if (absl::Status s = cace::WriteTextFile(out, text, "cost-model file"); !s.ok()) return fail(s);
  }
  return 0;
}
