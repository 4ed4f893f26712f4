// cace_calibrate's measurements of this machine, for the simulator's calibrated cost model
// (lib/sim/calibrated_cost_model.h): per model file, a cold load from disk (the file's pages
// dropped from the page cache first), a warm load (the file in the page cache, i.e. from host
// memory), and the CPU backend's prefill and decode step times at several prompt lengths, batch
// sizes and KV lengths, fitted to lines.
#ifndef CACE_EXAMPLES_REPLAY_MACHINE_CALIBRATION_H_
#define CACE_EXAMPLES_REPLAY_MACHINE_CALIBRATION_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/sim/calibrated_cost_model.h"

namespace cace {

struct ModelFile {
  std::string name;  // the id the engine, the fleet and the trace give it
  std::string path;  // a Hugging Face folder or a .gguf file
};

struct CalibrationOptions {
  int compute_threads = 0;  // as the engine's EngineOptions::compute_threads
  int repeats = 3;          // each measurement's median over this many
};

// Drops the pages of every file of the model at `path` (the folder's files, or the GGUF) from
// the page cache (written back first, then posix_fadvise POSIX_FADV_DONTNEED), so that the next
// read comes from the disk. Pages mapped by a process stay: a load under way keeps its own.
absl::Status DropFromPageCache(const std::string& path);

absl::StatusOr<MeasuredModelCosts> MeasureModel(const ModelFile& model, const CalibrationOptions& options);

// The load average and the CPUs, for the file's comment line.
std::string MachineLine();

}  // namespace cace

#endif  // CACE_EXAMPLES_REPLAY_MACHINE_CALIBRATION_H_
