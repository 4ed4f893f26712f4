// The test vectors beside the real vocabularies in data/tokenizers: each text of NAME.inp
// (separated by "\n__ggml_vocab_test__\n") and the ids its model's Hugging Face tokenizer gave,
// without BOS, one line of NAME.out per text.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "lib/tokenizer/stream_decoder.h"
#include "lib/tokenizer/tokenizer.h"
#include "lib/tokenizer/tokenizer_file.h"

namespace cace {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> ReadTexts(const std::string& path) {
  const std::string all = ReadFile(path);
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  std::size_t pos = 0;
  for (std::size_t hit; (hit = all.find(sep, pos)) != std::string::npos; pos = hit + sep.size()) {
    texts.push_back(all.substr(pos, hit - pos));
  }
  return texts;
}

std::vector<std::vector<TokenId>> ReadIds(const std::string& path) {
  std::istringstream in(ReadFile(path));
  std::vector<std::vector<TokenId>> lines;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::vector<TokenId> ids;
    for (TokenId id; words >> id;) ids.push_back(id);
    lines.push_back(ids);
  }
  return lines;
}

std::unique_ptr<Tokenizer> LoadVocab(const std::string& gguf_path) {
  auto tokenizer = LoadTokenizer(gguf_path);
  INFO(tokenizer.status().ToString());
  REQUIRE(tokenizer.ok());
  return *std::move(tokenizer);
}

void CheckVectors(const std::string& name) {
  const std::string base = std::string(CACE_DATA_DIR) + "/tokenizers/ggml-vocab-" + name + ".gguf";
  const auto tokenizer = LoadVocab(base);
  const auto texts = ReadTexts(base + ".inp");
  const auto expected = ReadIds(base + ".out");
  REQUIRE(texts.size() == expected.size());
  REQUIRE(texts.size() >= 40);
  std::size_t passed = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    INFO(name << " text " << i << ": \"" << texts[i] << "\"");
    const std::vector<TokenId> ids = tokenizer->Encode(texts[i]);
    CHECK(ids == expected[i]);
    passed += ids == expected[i];
    // Decoding the reference ids gives the text back, and so does streaming them.
    const auto text = tokenizer->Decode(expected[i]);
    REQUIRE(text.ok());
    CHECK(*text == texts[i]);
    StreamDecoder stream(*tokenizer);
    std::string streamed;
    for (TokenId id : expected[i]) streamed += *stream.Push(id);
    streamed += stream.Finish();
    CHECK(streamed == *text);
  }
  WARN(name << ": " << passed << " of " << texts.size() << " test vectors give the reference ids");
}

TEST_CASE("deepseek-coder vocabulary matches its test vectors") { CheckVectors("deepseek-coder"); }
TEST_CASE("starcoder vocabulary matches its test vectors") { CheckVectors("starcoder"); }
TEST_CASE("gpt-2 vocabulary matches its test vectors") { CheckVectors("gpt-2"); }
TEST_CASE("llama-spm vocabulary matches its test vectors") { CheckVectors("llama-spm"); }

TEST_CASE("Concurrent encodes give the ids of a single thread") {
  const auto tokenizer =
      LoadVocab(std::string(CACE_DATA_DIR) + "/tokenizers/ggml-vocab-deepseek-coder.gguf");
  const auto texts =
      ReadTexts(std::string(CACE_DATA_DIR) + "/tokenizers/ggml-vocab-deepseek-coder.gguf.inp");
  std::vector<std::vector<TokenId>> expected;
  for (const std::string& text : texts) expected.push_back(tokenizer->Encode(text));
  // Each thread walks the texts from its own start, so the shared BPE cache is read and filled
  // from all threads at once; a fresh tokenizer makes the cache start empty.
  const auto fresh =
      LoadVocab(std::string(CACE_DATA_DIR) + "/tokenizers/ggml-vocab-deepseek-coder.gguf");
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round) {
        for (std::size_t k = 0; k < texts.size(); ++k) {
          const std::size_t i = (k + static_cast<std::size_t>(t) * 11) % texts.size();
          mismatches[t] += fresh->Encode(texts[i]) != expected[i];
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  CHECK(mismatches == std::vector<int>(4, 0));
}

TEST_CASE("Vocabularies expose their FIM and special tokens") {
  const std::string dir = std::string(CACE_DATA_DIR) + "/tokenizers/ggml-vocab-";
  const auto deepseek = LoadVocab(dir + "deepseek-coder.gguf");
  CHECK(deepseek->fim().prefix == 32016);  // <｜fim▁begin｜>
  CHECK(deepseek->fim().suffix == 32015);  // <｜fim▁hole｜>
  CHECK(deepseek->fim().middle == 32017);  // <｜fim▁end｜>
  CHECK(deepseek->bos() == 32013);
  CHECK(deepseek->pre_tokenizer() == PreTokenizerKind::kDeepSeekCoder);
  const std::vector<TokenId> with_bos = deepseek->Encode("x", {.add_special = true});
  CHECK(with_bos.front() == 32013);

  const auto starcoder = LoadVocab(dir + "starcoder.gguf");
  CHECK(starcoder->fim().prefix == 1);
  CHECK(starcoder->fim().middle == 2);
  CHECK(starcoder->fim().suffix == 3);
  CHECK(starcoder->fim().pad == 4);
  CHECK(starcoder->fim().repo_name == 5);
  CHECK(starcoder->fim().file_sep == 6);
  CHECK(starcoder->Encode("<fim_prefix>def f(<fim_suffix>)<fim_middle>").front() == 1);

  const auto gpt2 = LoadVocab(dir + "gpt-2.gguf");
  CHECK_FALSE(gpt2->fim().complete());
  CHECK(gpt2->Encode("<|endoftext|>") == std::vector<TokenId>{50256});

  const auto llama = LoadVocab(dir + "llama-spm.gguf");
  CHECK(llama->model() == TokenizerModel::kSentencePiece);
  CHECK(llama->Encode("hi", {.add_special = true}).front() == 1);
}

}  // namespace
}  // namespace cace
