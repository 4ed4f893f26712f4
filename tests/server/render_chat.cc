// Test helper for chat_template_reference.py: reads {"template": ..., "model": ..., "bos": ...,
// "eos": ..., "conversations": [{"messages": [...], "add_generation_prompt": bool}]} on stdin,
// where "model" (a GGUF or Hugging Face folder) replaces template/bos/eos, and prints
// {"family": ..., "renders": [text or {"error": ...}]} or {"error": ...} when not recognised.
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tools/server/chat_template.h"
#include "tools/server/model_chat_template.h"

int main() {
  using nlohmann::json;
  std::stringstream input;
  input << std::cin.rdbuf();
  const json request = json::parse(input.str());
  absl::StatusOr<cace::server::ChatTemplate> chat_template;
  if (request.contains("model")) {
    chat_template = cace::server::LoadModelChatTemplate(request["model"].get<std::string>());
  } else {
    chat_template = cace::server::RecognizeChatTemplate(request["template"].get<std::string>(),
                                                        request.value("bos", ""), request.value("eos", ""));
  }
  if (!chat_template.ok()) {
    std::cout << json{{"error", std::string(chat_template.status().message())}}.dump() << "\n";
    return 0;
  }
  json renders = json::array();
  for (const json& conversation : request["conversations"]) {
    std::vector<cace::server::ChatMessage> messages;
    for (const json& m : conversation["messages"]) messages.push_back({m["role"], m["content"]});
    auto text = cace::server::RenderChat(*chat_template, messages, conversation["add_generation_prompt"]);
    renders.push_back(text.ok() ? json(*text) : json{{"error", std::string(text.status().message())}});
  }
  std::cout << json{{"family", std::string(cace::server::ChatFamilyName(chat_template->family))},
                    {"renders", renders}}.dump() << "\n";
  return 0;
}
