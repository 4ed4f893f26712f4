#include "lib/loader/tokenizer_data.h"

#include <catch2/catch.hpp>

#include "lib/loader/gguf.h"
#include "tests/loader/test_files.h"

namespace cace {
namespace {

std::string Vocab(const char* name) { return std::string(CACE_DATA_DIR) + "/tokenizers/ggml-vocab-" + name + ".gguf"; }

TEST_CASE("tokenizer data of DeepSeek-Coder from GGUF") {
  auto file = GgufFile::Open(Vocab("deepseek-coder"));
  REQUIRE(file.ok());
  auto data = TokenizerDataFromGguf(*file);
  REQUIRE(data.ok());
  CHECK(data->model == "gpt2");
  CHECK(data->pre == "deepseek-coder");
  CHECK(data->tokens.size() == 32256);
  CHECK(data->merges.size() == 31757);
  CHECK(data->token_types.size() == 32256);
  CHECK(data->scores.empty());
  CHECK(data->bos_id == 32013);
  CHECK(data->eos_id == 32014);
  CHECK(data->padding_id == 32014);
  CHECK(data->add_bos == true);
  CHECK(data->tokens[32015] == "<\xEF\xBD\x9C" "fim\xE2\x96\x81hole\xEF\xBD\x9C>");
  CHECK(data->token_types[32013] == TokenType::kControl);
  CHECK_FALSE(data->merges[0].first.empty());
}

TEST_CASE("tokenizer data of the SentencePiece (llama-spm) vocabulary from GGUF") {
  auto file = GgufFile::Open(Vocab("llama-spm"));
  REQUIRE(file.ok());
  auto data = TokenizerDataFromGguf(*file);
  REQUIRE(data.ok());
  CHECK(data->model == "llama");
  CHECK(data->tokens.size() == 32000);
  CHECK(data->scores.size() == 32000);
  CHECK(data->merges.empty());
  CHECK(data->unknown_id == 0);
  CHECK(data->bos_id == 1);
  CHECK(data->eos_id == 2);
  CHECK(data->token_types[3] == TokenType::kByte);  // <0x00>
}

TEST_CASE("the other real vocabularies load") {
  for (const char* name : {"starcoder", "gpt-2"}) {
    auto file = GgufFile::Open(Vocab(name));
    REQUIRE(file.ok());
    auto data = TokenizerDataFromGguf(*file);
    INFO(name);
    REQUIRE(data.ok());
    CHECK(data->model == "gpt2");
    CHECK(data->merges.size() > 40000);
  }
}

constexpr const char* kTokenizerJson = R"({
  "version": "1.0",
  "added_tokens": [
    {"id": 5, "content": "<|endoftext|>", "special": true},
    {"id": 6, "content": "<|fim_prefix|>", "special": true},
    {"id": 7, "content": "<|fim_middle|>", "special": true},
    {"id": 8, "content": "<|fim_suffix|>", "special": true},
    {"id": 9, "content": "user word", "special": false}
  ],
  "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false},
  "model": {"type": "BPE", "byte_fallback": false, "unk_token": null,
            "vocab": {"a": 0, "b": 1, "ab": 2, "Ġ": 3, "Ġab": 4},
            "merges": MERGES}
})";

std::string WithMerges(const std::string& merges) {
  std::string text = kTokenizerJson;
  text.replace(text.find("MERGES"), 6, merges);
  return text;
}

TEST_CASE("tokenizer.json: vocab, both merge forms, added tokens, FIM ids") {
  for (const char* merges : {R"(["a b", "Ġ ab"])", R"([["a", "b"], ["Ġ", "ab"]])"}) {
    INFO(merges);
    auto data = ParseTokenizerJson(WithMerges(merges), "tokenizer.json");
    REQUIRE(data.ok());
    CHECK(data->model == "gpt2");
    CHECK(data->tokens.size() == 10);
    CHECK(data->tokens[4] == "Ġab");
    CHECK(data->tokens[9] == "user word");
    REQUIRE(data->merges.size() == 2);
    CHECK(data->merges[1] == std::pair<std::string, std::string>("Ġ", "ab"));
    CHECK(data->added_tokens.size() == 5);
    CHECK(data->token_types[5] == TokenType::kControl);
    CHECK(data->token_types[9] == TokenType::kUserDefined);
    CHECK(data->token_types[0] == TokenType::kNormal);
    CHECK(data->fim_prefix_id == 6);
    CHECK(data->fim_middle_id == 7);
    CHECK(data->fim_suffix_id == 8);
    CHECK_FALSE(data->fim_pad_id.has_value());
    CHECK(data->pre_tokenizer_json == R"({"type": "ByteLevel", "add_prefix_space": false})");
  }
}

TEST_CASE("tokenizer.json errors name the file and field") {
  struct Case {
    std::string text;
    const char* what;
  };
  for (const Case& c : {Case{WithMerges(R"(["ab"])"), "field 'model.merges'[0]"},
                        Case{WithMerges(R"([1])"), "field 'model.merges[0]'"},
                        Case{WithMerges(R"(["a b", ["a", "b"]])"), "mixes the string and pair forms"},
                        Case{R"({"model": {"type": "Unigram", "vocab": []}})", "field 'model.type'"},
                        Case{R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 0}}})", "token id 0 is given to both"},
                        Case{R"({"model": {"type": "BPE", "vocab": {"a": -1}}})", "out of range"},
                        Case{R"({"model": {"type": "BPE"}})", "field 'model.vocab'"},
                        Case{R"({"model": {"type": "BPE", "vocab": {}}})", "no tokens"}}) {
    INFO(c.text);
    auto data = ParseTokenizerJson(c.text, "dir/tokenizer.json");
    REQUIRE_FALSE(data.ok());
    const std::string message(data.status().message());
    CHECK(message.rfind("dir/tokenizer.json", 0) == 0);
    CHECK(message.find(c.what) != std::string::npos);
  }
}

TEST_CASE("tokenizer_config.json beside tokenizer.json gives BOS/EOS") {
  testing::TempDir dir("tokenizer_config");
  testing::WriteBytes(dir.File("tokenizer.json"), testing::Bytes(WithMerges("[]")));
  testing::WriteBytes(dir.File("tokenizer_config.json"),
                      testing::Bytes(R"({"bos_token": {"content": "<|endoftext|>"}, "eos_token": "<|endoftext|>",
                                         "add_bos_token": false})"));
  auto data = ReadTokenizerJsonFile(dir.File("tokenizer.json"));
  REQUIRE(data.ok());
  CHECK(data->bos_id == 5);
  CHECK(data->eos_id == 5);
  CHECK(data->add_bos == false);
  testing::WriteBytes(dir.File("tokenizer_config.json"), testing::Bytes(R"({"eos_token": "</s>"})"));
  auto bad = ReadTokenizerJsonFile(dir.File("tokenizer.json"));
  REQUIRE_FALSE(bad.ok());
  CHECK(std::string(bad.status().message()).find("field 'eos_token'") != std::string::npos);
}

}  // namespace
}  // namespace cace
