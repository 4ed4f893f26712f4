#include "tools/server/model_chat_template.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/loader/gguf.h"

namespace cace::server {
namespace {

absl::StatusOr<ModelChatTemplateText> FromGguf(const std::string& path) {
  auto file = GgufFile::Open(path);
  if (!file.ok()) return file.status();
  ModelChatTemplateText result;
  if (auto text = file->GetString("tokenizer.chat_template"); text.ok()) result.text = *std::move(text);
  auto tokens = file->GetStringArray("tokenizer.ggml.tokens");
  if (!tokens.ok()) return tokens.status();
  auto token_text = [&](const char* key) -> std::string {
    auto id = file->GetUint(key);
    return id.ok() && *id < tokens->size() ? (*tokens)[*id] : std::string();
  };
  result.bos_token = token_text("tokenizer.ggml.bos_token_id");
  result.eos_token = token_text("tokenizer.ggml.eos_token_id");
  return result;
}

// tokenizer_config.json writes a special token as a string or as {"content": ...}.
std::string TokenText(const nlohmann::json& config, const char* key) {
  auto it = config.find(key);
  if (it == config.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object()) {
    auto content = it->find("content");
    if (content != it->end() && content->is_string()) return content->get<std::string>();
  }
  return {};
}

absl::StatusOr<ModelChatTemplateText> FromTokenizerConfig(const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / "tokenizer_config.json").string();
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot be read"));
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json config = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded() || !config.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a JSON object"));
  }
  ModelChatTemplateText result;
  auto it = config.find("chat_template");
  if (it != config.end() && it->is_string()) {
    result.text = it->get<std::string>();
  } else if (it != config.end() && it->is_array()) {
    // Named templates: [{"name": "default", "template": ...}, {"name": "tool_use", ...}].
    for (const auto& named : *it) {
      if (named.is_object() && named.value("name", "") == "default" && named.contains("template") &&
          named["template"].is_string()) {
        result.text = named["template"].get<std::string>();
      }
    }
  }
  result.bos_token = TokenText(config, "bos_token");
  result.eos_token = TokenText(config, "eos_token");
  return result;
}

}  // namespace

absl::StatusOr<ModelChatTemplateText> ReadModelChatTemplate(const std::string& model_path) {
  std::error_code error;
  if (std::filesystem::is_directory(model_path, error)) return FromTokenizerConfig(model_path);
  return FromGguf(model_path);
}

absl::StatusOr<ChatTemplate> LoadModelChatTemplate(const std::string& model_path,
                                                   const std::string& template_file) {
  auto text = ReadModelChatTemplate(model_path);
  if (!text.ok()) return text.status();
  if (!template_file.empty()) {
    std::ifstream in(template_file, std::ios::binary);
    if (!in) return absl::NotFoundError(absl::StrCat(template_file, ": cannot be read"));
    std::stringstream file_text;
    file_text << in.rdbuf();
    text->text = file_text.str();
    while (!text->text.empty() && text->text.back() == '\n') text->text.pop_back();  // the file's own newline
  }
  if (text->text.empty()) {
    return absl::NotFoundError(absl::StrCat(model_path, ": the model has no chat template (a config can name one "
                                            "with chat_template_file)"));
  }
  auto recognized = RecognizeChatTemplate(text->text, text->bos_token, text->eos_token);
  if (!recognized.ok()) {
    return absl::Status(recognized.status().code(),
                        absl::StrCat(model_path, ": ", recognized.status().message()));
  }
  return recognized;
}

}  // namespace cace::server
