// Chat templates without a Jinja engine (Debian packages none for C++): the model's template text
// (tokenizer_config.json's "chat_template", GGUF's tokenizer.chat_template) is recognised as one
// of the families below, the parts that differ between models of a family (the default system
// prompt) are read out of its string literals, and messages are formatted by the family's rule.
// A template of no known family is refused with an error naming what was looked for, never
// guessed at. tests/server/chat_template_reference.py renders the same templates with Python's
// jinja2 and compares.
#ifndef CACE_TOOLS_SERVER_CHAT_TEMPLATE_H_
#define CACE_TOOLS_SERVER_CHAT_TEMPLATE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace cace::server {

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

enum class ChatFamily : std::uint8_t {
  kChatMl,         // <|im_start|>role\n...<|im_end|>: SmolLM2, Qwen2 / Qwen2.5(-Coder), Yi, ...
  kLlama2,         // <s>[INST] <<SYS>>...<</SYS>> ... [/INST]: Llama-2-chat, CodeLlama-Instruct
  kLlama3,         // <|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|>: Llama 3.0
  kDeepSeekCoder,  // ### Instruction: / ### Response: ... <|EOT|>: DeepSeek-Coder-Instruct
};

std::string_view ChatFamilyName(ChatFamily family);

struct ChatTemplate {
  ChatFamily family = ChatFamily::kChatMl;
  // What the template adds when the conversation has no system message of its own (ChatML: the
  // text inside its literal system turn; DeepSeek-Coder: its literal preamble); empty for none.
  std::string default_system;
  std::string bos_token;  // the text of the model's BOS / EOS tokens, as the template's bos_token
  std::string eos_token;
};

// Recognises `template_text`; `bos_token` / `eos_token` are the model's token texts.
absl::StatusOr<ChatTemplate> RecognizeChatTemplate(std::string_view template_text,
                                                   std::string bos_token, std::string eos_token);

// The prompt text the template gives for `messages`, with the assistant turn opened when
// `add_generation_prompt`. InvalidArgument where the family's template would raise (Llama-2:
// roles must alternate user/assistant after an optional system message).
absl::StatusOr<std::string> RenderChat(const ChatTemplate& chat_template,
                                       const std::vector<ChatMessage>& messages,
                                       bool add_generation_prompt);

// The decoded string literals inside a template's {{ }} and {% %} tags, in order (exposed for the
// fuzz target and tests).
std::vector<std::string> TemplateStringLiterals(std::string_view template_text);

}  // namespace cace::server

#endif  // CACE_TOOLS_SERVER_CHAT_TEMPLATE_H_
