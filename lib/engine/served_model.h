// What AddModel reads from a model's files, fixed for the model's life in the engine: the plan of
// what a load will take (lib/runtime/model_instance.h) and the tokenizer, which host threads use
// to encode prompts before the model is ever loaded (hence immutable and shared).
#ifndef CACE_LIB_ENGINE_SERVED_MODEL_H_
#define CACE_LIB_ENGINE_SERVED_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cace/memory_pool.h"
#include "lib/runtime/model_instance.h"
#include "lib/tokenizer/tokenizer.h"

namespace cace {

struct ModelFiles {
  std::string path;
  ModelFootprint footprint;  // weight bytes and KV bytes per token in the engine's pool
  std::shared_ptr<const Tokenizer> tokenizer;
  std::vector<std::int32_t> stop_tokens;  // the tokenizer's EOS, when it has one
};

// Validates the files for a pool of `memory` and reads the tokenizer: `path` is a folder with
// config.json, model.safetensors and tokenizer.json, or a .gguf file.
absl::StatusOr<std::shared_ptr<const ModelFiles>> ReadModelFiles(const std::string& path, MemoryKind memory);

}  // namespace cace

#endif  // CACE_LIB_ENGINE_SERVED_MODEL_H_
