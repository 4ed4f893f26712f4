#include "tools/server/chat_template.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

namespace cace::server {
namespace {

std::string ReadTemplate(const std::string& name) {
  std::ifstream in(std::string(CACE_SOURCE_DIR) + "/tests/server/templates/" + name);
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  if (!s.empty() && s.back() == '\n') s.pop_back();  // the file's own newline
  return s;
}

// SmolLM2-135M-Instruct's template, as its GGUF carries it (literal newlines inside the strings).
constexpr const char* kSmolLm2 =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ "
    "'<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
    "Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + "
    "'<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% "
    "endif %}";

TEST_CASE("ChatML: the default system prompt comes from the template, used only without a system message") {
  auto t = RecognizeChatTemplate(kSmolLm2, "<|im_start|>", "<|im_end|>");
  REQUIRE(t.ok());
  CHECK(t->family == ChatFamily::kChatMl);
  CHECK(t->default_system == "You are a helpful AI assistant named SmolLM, trained by Hugging Face");
  auto text = RenderChat(*t, {{"user", "Hi"}}, true);
  REQUIRE(text.ok());
  CHECK(*text ==
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  auto with_system = RenderChat(*t, {{"system", "S"}, {"user", "U"}, {"assistant", "A"}}, false);
  REQUIRE(with_system.ok());
  CHECK(*with_system == "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n"
                        "<|im_start|>assistant\nA<|im_end|>\n");
  auto qwen = RecognizeChatTemplate(ReadTemplate("qwen2_5_chatml.jinja"), "", "<|im_end|>");
  REQUIRE(qwen.ok());
  CHECK(qwen->default_system == "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.");
}

TEST_CASE("Llama-2: system folded into the first turn, content stripped, roles must alternate") {
  auto t = RecognizeChatTemplate(ReadTemplate("llama2.jinja"), "<s>", "</s>");
  REQUIRE(t.ok());
  CHECK(t->family == ChatFamily::kLlama2);
  auto text = RenderChat(*t, {{"system", "Sys"}, {"user", " Q1 "}, {"assistant", "A1"}, {"user", "Q2"}}, true);
  REQUIRE(text.ok());
  CHECK(*text == "<s>[INST] <<SYS>>\nSys\n<</SYS>>\n\n Q1 [/INST] A1 </s><s>[INST] Q2 [/INST]");
  auto bad = RenderChat(*t, {{"user", "a"}, {"user", "b"}}, true);
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Llama 3 and DeepSeek-Coder") {
  auto llama3 = RecognizeChatTemplate(ReadTemplate("llama3.jinja"), "<|begin_of_text|>", "<|eot_id|>");
  REQUIRE(llama3.ok());
  CHECK(llama3->family == ChatFamily::kLlama3);
  CHECK(*RenderChat(*llama3, {{"user", "Hi\n"}}, true) ==
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n");
  auto deepseek = RecognizeChatTemplate(ReadTemplate("deepseek_coder.jinja"), "<｜begin▁of▁sentence｜>", "<|EOT|>");
  REQUIRE(deepseek.ok());
  CHECK(deepseek->family == ChatFamily::kDeepSeekCoder);
  CHECK(deepseek->default_system.starts_with("You are an AI programming assistant"));
  CHECK(deepseek->default_system.ends_with("refuse to answer\n"));
  CHECK(*RenderChat(*deepseek, {{"system", "S\n"}, {"user", "Q"}, {"assistant", "A"}}, true) ==
        "<｜begin▁of▁sentence｜>S\n### Instruction:\nQ\n### Response:\nA\n<|EOT|>\n### Response:");
}

TEST_CASE("unknown and unsupported templates are refused, naming what was looked for") {
  auto unknown = RecognizeChatTemplate(ReadTemplate("unknown.jinja"), "", "");
  REQUIRE(!unknown.ok());
  CHECK(unknown.status().message().find("unknown family") != std::string::npos);
  CHECK(!RecognizeChatTemplate("", "", "").ok());
  CHECK(!RecognizeChatTemplate("{{ '[INST] ' + m + ' [/INST]' }}", "", "").ok());  // Mistral style
  CHECK(!RecognizeChatTemplate("<|im_start|>{{ '<think>' }}", "", "").ok());
  CHECK(!RecognizeChatTemplate("<|start_header_id|>Cutting Knowledge Date", "", "").ok());
}

TEST_CASE("string literals: both quotes, escapes, only inside tags, unterminated stops") {
  auto literals = TemplateStringLiterals(R"(text 'no' {{ 'a\n' + "b\"c" }}{% if x == 'd' %}{{ 'e)");
  REQUIRE(literals.size() == 3);
  CHECK(literals[0] == "a\n");
  CHECK(literals[1] == "b\"c");
  CHECK(literals[2] == "d");
}

}  // namespace
}  // namespace cace::server
