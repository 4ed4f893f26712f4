// The hyper-parameters of a Llama-family decoder (Llama, Qwen2, Mistral), read from a Hugging
// Face config.json or from GGUF metadata (llama.* / qwen2.* keys), and the byte figures the pool
// and the policy account with.
#ifndef CACE_LIB_LOADER_MODEL_CONFIG_H_
#define CACE_LIB_LOADER_MODEL_CONFIG_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/loader/dtype.h"

namespace cace {

class GgufFile;

enum class Architecture : std::uint8_t { kLlama, kQwen2, kMistral };
std::string_view ArchitectureName(Architecture arch);  // "llama", "qwen2", "mistral"

struct ModelConfig {
  Architecture architecture = Architecture::kLlama;
  std::int64_t hidden_size = 0;
  std::int64_t intermediate_size = 0;
  std::int64_t num_hidden_layers = 0;
  std::int64_t num_attention_heads = 0;
  std::int64_t num_key_value_heads = 0;  // equals num_attention_heads when the file omits it
  std::int64_t head_dim = 0;             // hidden_size / num_attention_heads when omitted
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  std::int64_t vocab_size = 0;
  std::int64_t max_position_embeddings = 0;
  bool tie_word_embeddings = false;  // lm_head shares model.embed_tokens.weight
  bool attention_bias = false;       // q/k/v projections carry biases (always for Qwen2)

  // Parameters of the decoder (embeddings, attention, MLP, norms, lm_head unless tied, biases).
  std::uint64_t ParameterCount() const;
  // Weight bytes when every tensor is stored as `dtype` (plain types only).
  std::uint64_t WeightBytes(DType dtype = DType::kBF16) const;
  // K and V of one token over all layers: 2 x layers x kv heads x head_dim x element bytes.
  std::uint64_t KvBytesPerToken(std::uint64_t element_bytes = 2) const;
};

// Parses the text of a config.json; `name` (usually the path) appears in errors, which name the
// field. Unsupported architectures and missing or non-positive sizes are InvalidArgument.
absl::StatusOr<ModelConfig> ParseHfConfig(std::string_view json_text, std::string_view name);
absl::StatusOr<ModelConfig> ReadHfConfigFile(const std::string& path);

// From general.architecture and the <arch>.* keys of a GGUF file. vocab_size comes from
// <arch>.vocab_size or the length of tokenizer.ggml.tokens; tie_word_embeddings is true when
// the file has no output.weight tensor.
absl::StatusOr<ModelConfig> ModelConfigFromGguf(const GgufFile& file);

}  // namespace cace

#endif  // CACE_LIB_LOADER_MODEL_CONFIG_H_
