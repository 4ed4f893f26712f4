#include "examples/replay/real_flags.h"

#include <cstdlib>

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, work, "/tmp/cace-real", "folder the model files are written to (kept between runs)");
ABSL_FLAG(std::string, models, "full",
          "model set: full (four generated models of 30-170 MB in safetensors and GGUF, plus "
          "SmolLM2-135M when --smollm2 exists) or test (two models of about 1 MB)");
ABSL_FLAG(std::string, smollm2, "",
          "SmolLM2-135M GGUF (default: ~/.cache/cace/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf, where "
          "examples/replay/fetch_smollm2.sh and the runtime's reference test put it)");
ABSL_FLAG(int, threads, 0, "CPU threads per forward pass (0: one per hardware thread)");

namespace cace {

absl::StatusOr<std::vector<ModelFile>> ModelFilesFromFlags() {
  const std::string set = absl::GetFlag(FLAGS_models);
  if (set != "full" && set != "test") return absl::InvalidArgumentError("--models must be full or test");
  std::string smollm2 = absl::GetFlag(FLAGS_smollm2);
  if (smollm2.empty()) {
    const char* home = std::getenv("HOME");
    smollm2 = std::string(home != nullptr ? home : "") + "/.cache/cace/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf";
  }
  return MakeRealModels(set == "test" ? ModelSet::kTest : ModelSet::kFull, absl::GetFlag(FLAGS_work), smollm2);
}

}  // namespace cace
