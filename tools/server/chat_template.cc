#include "tools/server/chat_template.h"

#include <utility>

#include "absl/status/status.h"

namespace cace::server {
namespace {

constexpr std::string_view kImStartSystem = "<|im_start|>system\n";
constexpr std::string_view kImEnd = "<|im_end|>";

bool Contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

void Append(std::string& out, std::initializer_list<std::string_view> parts) {
  for (std::string_view part : parts) out.append(part);
}

// Python's str.strip() (and Jinja's trim) on ASCII whitespace, which is what the templates'
// content.strip() meets in practice.
std::string_view Strip(std::string_view text) {
  constexpr std::string_view kSpace = " \t\n\r\f\v";
  const std::size_t begin = text.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  const std::size_t end = text.find_last_not_of(kSpace);
  return text.substr(begin, end - begin + 1);
}

// Reads the Python/Jinja string literal opening at text[pos] (a quote) into `out`; returns the
// position after its closing quote, or npos when it does not close.
std::size_t ReadLiteral(std::string_view text, std::size_t pos, std::string& out) {
  const char quote = text[pos];
  for (std::size_t i = pos + 1; i < text.size(); ++i) {
    const char c = text[i];
    if (c == quote) return i + 1;
    if (c != '\\' || i + 1 == text.size()) {
      out.push_back(c);
      continue;
    }
    const char escaped = text[++i];
    switch (escaped) {
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case 'r': out.push_back('\r'); break;
      case '\\': case '\'': case '"': out.push_back(escaped); break;
      default: out.push_back('\\'); out.push_back(escaped); break;
    }
  }
  return std::string_view::npos;
}

absl::StatusOr<ChatTemplate> Recognize(std::string_view text, ChatTemplate result) {
  const std::vector<std::string> literals = TemplateStringLiterals(text);
  if (Contains(text, "<|im_start|>")) {
    if (Contains(text, "<think>")) {
      return absl::InvalidArgumentError(
          "chat template: a ChatML template with reasoning (<think>) sections is not supported");
    }
    result.family = ChatFamily::kChatMl;
    for (const std::string& literal : literals) {
      if (!literal.starts_with(kImStartSystem)) continue;
      const std::size_t end = literal.find(kImEnd);
      if (end == std::string::npos) continue;
      result.default_system = literal.substr(kImStartSystem.size(), end - kImStartSystem.size());
      break;
    }
    return result;
  }
  if (Contains(text, "<|start_header_id|>")) {
    if (Contains(text, "Cutting Knowledge") || Contains(text, "tools")) {
      return absl::InvalidArgumentError(
          "chat template: Llama 3.1+ templates (dates, tools) are not supported, only Llama 3.0's");
    }
    result.family = ChatFamily::kLlama3;
    return result;
  }
  if (Contains(text, "[INST]")) {
    if (!Contains(text, "<<SYS>>")) {
      return absl::InvalidArgumentError(
          "chat template: an [INST] template without <<SYS>> (Mistral-style) is not supported");
    }
    result.family = ChatFamily::kLlama2;
    return result;
  }
  if (Contains(text, "### Instruction:") && Contains(text, "### Response:")) {
    result.family = ChatFamily::kDeepSeekCoder;
    for (const std::string& literal : literals) {
      if (literal.starts_with("You are")) {
        result.default_system = literal;
        break;
      }
    }
    return result;
  }
  return absl::InvalidArgumentError(
      "chat template of an unknown family (looked for ChatML <|im_start|>, Llama-2 [INST] <<SYS>>, "
      "Llama 3 <|start_header_id|>, DeepSeek-Coder ### Instruction:); use /v1/completions with "
      "your own prompt");
}

absl::StatusOr<std::string> RenderLlama2(const ChatTemplate& t, const std::vector<ChatMessage>& messages) {
  std::size_t first = 0;
  std::string system;
  bool has_system = false;
  if (!messages.empty() && messages[0].role == "system") {
    system = messages[0].content;
    has_system = true;
    first = 1;
  }
  std::string out;
  for (std::size_t i = first; i < messages.size(); ++i) {
    const ChatMessage& message = messages[i];
    const bool expect_user = (i - first) % 2 == 0;
    if ((message.role == "user") != expect_user) {
      return absl::InvalidArgumentError(
          "Conversation roles must alternate user/assistant/user/assistant/...");
    }
    std::string content = message.content;
    if (i == first && has_system) content = "<<SYS>>\n" + system + "\n<</SYS>>\n\n" + content;
    if (message.role == "user") {
      Append(out, {t.bos_token, "[INST] ", Strip(content), " [/INST]"});
    } else if (message.role == "assistant") {
      Append(out, {" ", Strip(content), " ", t.eos_token});
    }
  }
  return out;
}

}  // namespace

std::string_view ChatFamilyName(ChatFamily family) {
  switch (family) {
    case ChatFamily::kChatMl: return "chatml";
    case ChatFamily::kLlama2: return "llama2";
    case ChatFamily::kLlama3: return "llama3";
    case ChatFamily::kDeepSeekCoder: return "deepseek-coder";
  }
  return "unknown";
}

std::vector<std::string> TemplateStringLiterals(std::string_view text) {
  std::vector<std::string> literals;
  std::size_t pos = 0;
  while (true) {
    const std::size_t open = text.find('{', pos);
    if (open == std::string_view::npos || open + 1 >= text.size()) break;
    const char kind = text[open + 1];
    if (kind != '{' && kind != '%') {
      pos = open + 1;
      continue;
    }
    const std::string_view close = kind == '{' ? "}}" : "%}";
    std::size_t i = open + 2;
    while (i < text.size() && text.substr(i, 2) != close) {
      if (text[i] == '\'' || text[i] == '"') {
        std::string literal;
        i = ReadLiteral(text, i, literal);
        if (i == std::string_view::npos) return literals;
        literals.push_back(std::move(literal));
      } else {
        ++i;
      }
    }
    pos = i + 2;
    if (pos >= text.size()) break;
  }
  return literals;
}

absl::StatusOr<ChatTemplate> RecognizeChatTemplate(std::string_view template_text,
                                                   std::string bos_token, std::string eos_token) {
  if (template_text.empty()) return absl::InvalidArgumentError("the model has no chat template");
  ChatTemplate result;
  result.bos_token = std::move(bos_token);
  result.eos_token = std::move(eos_token);
  return Recognize(template_text, std::move(result));
}

absl::StatusOr<std::string> RenderChat(const ChatTemplate& t, const std::vector<ChatMessage>& messages,
                                       bool add_generation_prompt) {
  std::string out;
  switch (t.family) {
    case ChatFamily::kChatMl:
      for (std::size_t i = 0; i < messages.size(); ++i) {
        if (i == 0 && messages[0].role != "system" && !t.default_system.empty()) {
          Append(out, {kImStartSystem, t.default_system, kImEnd, "\n"});
        }
        Append(out, {"<|im_start|>", messages[i].role, "\n", messages[i].content, kImEnd, "\n"});
      }
      if (add_generation_prompt) Append(out, {"<|im_start|>assistant\n"});
      return out;
    case ChatFamily::kLlama2:
      return RenderLlama2(t, messages);
    case ChatFamily::kLlama3:
      for (std::size_t i = 0; i < messages.size(); ++i) {
        if (i == 0) Append(out, {t.bos_token});
        Append(out, {"<|start_header_id|>", messages[i].role, "<|end_header_id|>\n\n",
                        Strip(messages[i].content), "<|eot_id|>"});
      }
      if (add_generation_prompt) Append(out, {"<|start_header_id|>assistant<|end_header_id|>\n\n"});
      return out;
    case ChatFamily::kDeepSeekCoder: {
      out = t.bos_token;
      bool has_system = false;
      for (const ChatMessage& message : messages) has_system |= message.role == "system";
      if (!has_system) out += t.default_system;
      for (const ChatMessage& message : messages) {
        if (message.role == "system") {
          out += message.content;
        } else if (message.role == "user") {
          Append(out, {"### Instruction:\n", message.content, "\n"});
        } else {
          Append(out, {"### Response:\n", message.content, "\n<|EOT|>\n"});
        }
      }
      if (add_generation_prompt) out += "### Response:";
      return out;
    }
  }
  return absl::InternalError("unknown chat family");
}

}  // namespace cace::server
