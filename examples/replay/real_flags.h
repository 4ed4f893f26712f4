// The flags cace_calibrate and cace_real_replay share: which model files, where they are made,
// the CPU threads a forward pass uses.
#ifndef CACE_EXAMPLES_REPLAY_REAL_FLAGS_H_
#define CACE_EXAMPLES_REPLAY_REAL_FLAGS_H_

#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "examples/replay/real_models.h"

ABSL_DECLARE_FLAG(std::string, work);
ABSL_DECLARE_FLAG(std::string, models);
ABSL_DECLARE_FLAG(std::string, smollm2);
ABSL_DECLARE_FLAG(int, threads);

namespace cace {

// The flags' model files, made in --work when missing.
absl::StatusOr<std::vector<ModelFile>> ModelFilesFromFlags();

}  // namespace cace

#endif  // CACE_EXAMPLES_REPLAY_REAL_FLAGS_H_
