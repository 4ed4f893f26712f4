// Where a model's chat template comes from: GGUF metadata (tokenizer.chat_template, with the
// BOS / EOS token texts from tokenizer.ggml.tokens) or, for a Hugging Face directory, its
// tokenizer_config.json ("chat_template", "bos_token", "eos_token").
#ifndef CACE_TOOLS_SERVER_MODEL_CHAT_TEMPLATE_H_
#define CACE_TOOLS_SERVER_MODEL_CHAT_TEMPLATE_H_

#include <string>

#include "absl/status/statusor.h"
#include "tools/server/chat_template.h"

namespace cace::server {

struct ModelChatTemplateText {
  std::string text;
  std::string bos_token;
  std::string eos_token;
};

// `model_path`: a .gguf file or a directory holding tokenizer_config.json; `text` is empty when the
// model carries no template.
absl::StatusOr<ModelChatTemplateText> ReadModelChatTemplate(const std::string& model_path);

// ReadModelChatTemplate then RecognizeChatTemplate; `template_file`, when not empty, replaces the
// model's template text (for models that carry none). NotFound when there is no template.
absl::StatusOr<ChatTemplate> LoadModelChatTemplate(const std::string& model_path,
                                                   const std::string& template_file = {});

}  // namespace cace::server

#endif  // CACE_TOOLS_SERVER_MODEL_CHAT_TEMPLATE_H_
