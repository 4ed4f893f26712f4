#include "lib/loader/model_config.h"

#include <catch2/catch.hpp>

#include "lib/loader/gguf.h"
#include "lib/loader/gguf_writer.h"

namespace cace {
namespace {

// Qwen2.5-Coder-7B's config.json (abridged to the fields cace reads).
constexpr const char* kQwen7B = R"({
  "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 3584,
  "intermediate_size": 18944, "num_hidden_layers": 28, "num_attention_heads": 28,
  "num_key_value_heads": 4, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "vocab_size": 152064,
  "max_position_embeddings": 32768, "tie_word_embeddings": false, "torch_dtype": "bfloat16"})";

TEST_CASE("config.json of Qwen2.5-Coder-7B: fields, derived head_dim, byte figures of fleet.md") {
  auto c = ParseHfConfig(kQwen7B, "config.json");
  REQUIRE(c.ok());
  CHECK(c->architecture == Architecture::kQwen2);
  CHECK(c->head_dim == 128);
  CHECK(c->attention_bias);
  CHECK(c->rope_theta == 1e6);
  CHECK(c->KvBytesPerToken() == 57344);  // fleet.md: 57,344
  // fleet.md: 7.61 B parameters, 15.2 GB of bf16 weights.
  CHECK(c->ParameterCount() == Approx(7.61e9).epsilon(0.01));
  CHECK(c->WeightBytes(DType::kBF16) == 2 * c->ParameterCount());
}

TEST_CASE("config.json of CodeLlama-7B and Mistral-family defaults") {
  auto llama = ParseHfConfig(R"({"architectures":["LlamaForCausalLM"],"hidden_size":4096,"intermediate_size":11008,
      "num_hidden_layers":32,"num_attention_heads":32,"vocab_size":32016,"max_position_embeddings":16384,
      "rope_theta":1000000,"rms_norm_eps":1e-5})", "config.json");
  REQUIRE(llama.ok());
  CHECK(llama->num_key_value_heads == 32);  // defaults to the attention heads
  CHECK(llama->KvBytesPerToken() == 524288);
  CHECK_FALSE(llama->attention_bias);
  CHECK(llama->ParameterCount() == Approx(6.74e9).epsilon(0.01));
  auto mistral = ParseHfConfig(R"({"model_type":"mistral","hidden_size":4096,"intermediate_size":14336,
      "num_hidden_layers":32,"num_attention_heads":32,"num_key_value_heads":8,"head_dim":null,"vocab_size":32768})",
                               "config.json");
  REQUIRE(mistral.ok());
  CHECK(mistral->architecture == Architecture::kMistral);
  CHECK(mistral->head_dim == 128);
}

TEST_CASE("config.json errors name the file and the field") {
  struct Case {
    const char* json;
    const char* what;
  };
  for (const Case& c : {
           Case{R"({"architectures":["GPT2LMHeadModel"]})", "field 'architectures': unsupported architecture \"GPT2LMHeadModel\""},
           Case{R"({})", "field 'architectures'"},
           Case{R"({"model_type":"llama"})", "field 'hidden_size': is missing"},
           Case{R"({"model_type":"llama","hidden_size":"big","intermediate_size":1,"num_hidden_layers":1,
                    "num_attention_heads":1,"vocab_size":1})", "field 'hidden_size': is a string"},
           Case{R"({"model_type":"llama","hidden_size":64,"intermediate_size":1,"num_hidden_layers":1,
                    "num_attention_heads":3,"num_key_value_heads":2,"vocab_size":1})", "field 'num_key_value_heads'"},
           Case{R"({"model_type":"llama","hidden_size":99999999999,"intermediate_size":1,"num_hidden_layers":1,
                    "num_attention_heads":1,"vocab_size":1})", "field 'hidden_size': 99999999999 is outside"},
           Case{R"({"model_type":"llama","hidden_size":64,"intermediate_size":1,"num_hidden_layers":-1,
                    "num_attention_heads":1,"vocab_size":1})", "field 'num_hidden_layers'"},
           Case{R"([1, 2])", "not a JSON object"},
           Case{R"({"model_type": )", "JSON error"},
       }) {
    auto config = ParseHfConfig(c.json, "dir/config.json");
    INFO(c.json);
    REQUIRE_FALSE(config.ok());
    const std::string message(config.status().message());
    CHECK(message.rfind("dir/config.json", 0) == 0);
    CHECK(message.find(c.what) != std::string::npos);
  }
}

TEST_CASE("ModelConfig from GGUF llama.* and qwen2.* keys") {
  GgufWriter w;
  w.AddString("general.architecture", "qwen2");
  w.AddUint32("qwen2.embedding_length", 896);
  w.AddUint32("qwen2.feed_forward_length", 4864);
  w.AddUint32("qwen2.block_count", 24);
  w.AddUint32("qwen2.attention.head_count", 14);
  w.AddUint32("qwen2.attention.head_count_kv", 2);
  w.AddUint32("qwen2.context_length", 32768);
  w.AddFloat32("qwen2.attention.layer_norm_rms_epsilon", 1e-6f);
  w.AddFloat32("qwen2.rope.freq_base", 1e6f);
  w.AddStringArray("tokenizer.ggml.tokens", std::vector<std::string>(151936, "t"));
  auto bytes = w.Serialize();
  REQUIRE(bytes.ok());
  auto file = GgufFile::Parse(*bytes, "q.gguf");
  REQUIRE(file.ok());
  auto c = ModelConfigFromGguf(*file);
  REQUIRE(c.ok());
  CHECK(c->architecture == Architecture::kQwen2);
  CHECK(c->vocab_size == 151936);
  CHECK(c->head_dim == 64);
  CHECK(c->KvBytesPerToken() == 12288);  // fleet.md: Qwen2.5-Coder-0.5B
  CHECK(c->tie_word_embeddings);         // no output.weight tensor
  CHECK(c->attention_bias);

  GgufWriter bad;
  bad.AddString("general.architecture", "llama");
  bad.AddUint32("llama.embedding_length", 64);
  const auto bad_bytes = bad.Serialize();
  REQUIRE(bad_bytes.ok());
  auto bad_file = GgufFile::Parse(*bad_bytes, "l.gguf");
  REQUIRE(bad_file.ok());
  auto missing = ModelConfigFromGguf(*bad_file);
  REQUIRE(absl::IsNotFound(missing.status()));
  CHECK(std::string(missing.status().message()).find("'llama.feed_forward_length'") != std::string::npos);
}

}  // namespace
}  // namespace cace
