#include "lib/engine/served_model.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/tokenizer/tokenizer_file.h"

namespace cace {

absl::StatusOr<std::shared_ptr<const ModelFiles>> ReadModelFiles(const std::string& path, MemoryKind memory) {
  absl::StatusOr<ModelFootprint> footprint = PlanModelInstance(path, memory);
  if (!footprint.ok()) return footprint.status();
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = LoadTokenizer(ModelTokenizerPath(path));
  if (!tokenizer.ok()) return tokenizer.status();
  if (static_cast<std::int64_t>((*tokenizer)->vocab_size()) > footprint->config.vocab_size) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": the tokenizer has ", (*tokenizer)->vocab_size(),
                                                   " tokens, the model only ", footprint->config.vocab_size));
  }
  auto files = std::make_shared<ModelFiles>();
  files->path = path;
  files->footprint = *std::move(footprint);
  files->tokenizer = *std::move(tokenizer);
  if (files->tokenizer->eos()) files->stop_tokens.push_back(*files->tokenizer->eos());
  return std::shared_ptr<const ModelFiles>(std::move(files));
}

}  // namespace cace
