#include "lib/loader/model_config.h"

#include <fstream>
#include <sstream>

#include "fmt/format.h"
#include "lib/json/json.h"
#include "lib/loader/gguf.h"

namespace cace {
namespace {

// Bounds far above any real model that keep every byte figure below 2^63, so a hostile config
// cannot make the size arithmetic overflow.
constexpr std::int64_t kMaxWidth = std::int64_t{1} << 20;   // hidden, intermediate, heads x head_dim
constexpr std::int64_t kMaxLayers = 4096;
constexpr std::int64_t kMaxVocab = std::int64_t{1} << 24;
constexpr std::int64_t kMaxPositions = std::int64_t{1} << 28;

absl::Status Invalid(std::string_view file, std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(fmt::format("{}: field '{}': {}", file, field, what));
}

absl::Status CheckRange(std::string_view file, std::string_view field, std::int64_t v, std::int64_t max) {
  if (v <= 0 || v > max) return Invalid(file, field, fmt::format("{} is outside 1..{}", v, max));
  return absl::OkStatus();
}

// Fills derived defaults and checks every size, so later arithmetic is safe.
absl::Status Finish(ModelConfig& c, std::string_view file, std::string_view prefix) {
  auto f = [&](std::string_view field) { return fmt::format("{}{}", prefix, field); };
  if (c.num_key_value_heads == 0) c.num_key_value_heads = c.num_attention_heads;
  if (c.head_dim == 0 && c.num_attention_heads > 0) c.head_dim = c.hidden_size / c.num_attention_heads;
  for (auto [name, value, max] : {std::tuple{"hidden_size", c.hidden_size, kMaxWidth},
                                  std::tuple{"intermediate_size", c.intermediate_size, kMaxWidth},
                                  std::tuple{"num_hidden_layers", c.num_hidden_layers, kMaxLayers},
                                  std::tuple{"num_attention_heads", c.num_attention_heads, kMaxWidth},
                                  std::tuple{"num_key_value_heads", c.num_key_value_heads, kMaxWidth},
                                  std::tuple{"head_dim", c.head_dim, kMaxWidth},
                                  std::tuple{"vocab_size", c.vocab_size, kMaxVocab},
                                  std::tuple{"max_position_embeddings", c.max_position_embeddings, kMaxPositions}}) {
    if (absl::Status s = CheckRange(file, f(name), value, max); !s.ok()) return s;
  }
  if (c.num_attention_heads * c.head_dim > kMaxWidth) {
    return Invalid(file, f("head_dim"), "num_attention_heads x head_dim is too large");
  }
  if (c.num_attention_heads % c.num_key_value_heads != 0) {
    return Invalid(file, f("num_key_value_heads"),
                   fmt::format("{} does not divide num_attention_heads {}", c.num_key_value_heads, c.num_attention_heads));
  }
  if (!(c.rms_norm_eps > 0 && c.rms_norm_eps < 1)) return Invalid(file, f("rms_norm_eps"), "must lie in (0, 1)");
  if (!(c.rope_theta > 0 && c.rope_theta < 1e12)) return Invalid(file, f("rope_theta"), "must be positive");
  return absl::OkStatus();
}

// Reads one field of a config.json object into `out`, leaving it unchanged when absent or null.
absl::Status ReadInt(const JsonValue& root, std::string_view file, std::string_view key, bool required,
                     std::int64_t& out) {
  const JsonValue* v = root.Find(key);
  if (v == nullptr || v->is_null()) {
    if (required) return Invalid(file, key, "is missing");
    return absl::OkStatus();
  }
  std::optional<std::int64_t> i = v->AsInt64();
  if (!i) return Invalid(file, key, fmt::format("is a {}, not an integer", JsonKindName(v->kind())));
  out = *i;
  return absl::OkStatus();
}

absl::Status ReadDouble(const JsonValue& root, std::string_view file, std::string_view key, double& out) {
  const JsonValue* v = root.Find(key);
  if (v == nullptr || v->is_null()) return absl::OkStatus();
  std::optional<double> d = v->AsDouble();
  if (!d) return Invalid(file, key, fmt::format("is a {}, not a number", JsonKindName(v->kind())));
  out = *d;
  return absl::OkStatus();
}

absl::Status ReadBool(const JsonValue& root, std::string_view file, std::string_view key, bool& out) {
  const JsonValue* v = root.Find(key);
  if (v == nullptr || v->is_null()) return absl::OkStatus();
  std::optional<bool> b = v->AsBool();
  if (!b) return Invalid(file, key, fmt::format("is a {}, not a bool", JsonKindName(v->kind())));
  out = *b;
  return absl::OkStatus();
}

std::optional<Architecture> ArchitectureFromHf(std::string_view name) {
  if (name == "LlamaForCausalLM" || name == "llama") return Architecture::kLlama;
  if (name == "Qwen2ForCausalLM" || name == "qwen2") return Architecture::kQwen2;
  if (name == "MistralForCausalLM" || name == "mistral") return Architecture::kMistral;
  return std::nullopt;
}

}  // namespace

std::string_view ArchitectureName(Architecture arch) {
  switch (arch) {
    case Architecture::kLlama: return "llama";
    case Architecture::kQwen2: return "qwen2";
    case Architecture::kMistral: return "mistral";
  }
  return "unknown";
}

std::uint64_t ModelConfig::ParameterCount() const {
  const auto h = static_cast<std::uint64_t>(hidden_size);
  const auto q = static_cast<std::uint64_t>(num_attention_heads * head_dim);
  const auto kv = static_cast<std::uint64_t>(num_key_value_heads * head_dim);
  const auto ff = static_cast<std::uint64_t>(intermediate_size);
  const auto vocab = static_cast<std::uint64_t>(vocab_size);
  std::uint64_t layer = h * q + 2 * h * kv + q * h  // q, k, v, o projections
                        + 3 * h * ff                 // gate, up, down
                        + 2 * h;                     // the two RMSNorm weights
  if (attention_bias) layer += q + 2 * kv;
  const std::uint64_t embeddings = vocab * h * (tie_word_embeddings ? 1 : 2);
  return embeddings + static_cast<std::uint64_t>(num_hidden_layers) * layer + h;
}

std::uint64_t ModelConfig::WeightBytes(DType dtype) const {
  return ParameterCount() * static_cast<std::uint64_t>(DTypeBlockBytes(dtype) / DTypeBlockElements(dtype));
}

std::uint64_t ModelConfig::KvBytesPerToken(std::uint64_t element_bytes) const {
  return 2 * static_cast<std::uint64_t>(num_hidden_layers * num_key_value_heads * head_dim) * element_bytes;
}

absl::StatusOr<ModelConfig> ParseHfConfig(std::string_view json_text, std::string_view name) {
  absl::StatusOr<JsonValue> root = ParseJson(json_text, name, JsonLimits{.max_depth = 32, .max_bytes = 16 << 20});
  if (!root.ok()) return root.status();
  if (!root->is_object()) return absl::InvalidArgumentError(fmt::format("{}: config is not a JSON object", name));

  ModelConfig c;
  std::optional<Architecture> arch;
  std::string seen;
  if (const JsonValue* list = root->Find("architectures"); list != nullptr && list->is_array()) {
    for (const JsonValue& a : list->items()) {
      if (!a.is_string()) continue;
      seen = a.text();
      if ((arch = ArchitectureFromHf(a.text()))) break;
    }
  }
  if (const JsonValue* type = root->Find("model_type"); !arch && type != nullptr && type->is_string()) {
    seen = type->text();
    arch = ArchitectureFromHf(type->text());
  }
  if (!arch) {
    return Invalid(name, "architectures",
                   seen.empty() ? std::string("missing (and no model_type)")
                                : fmt::format("unsupported architecture \"{}\" (cace runs Llama, Qwen2, Mistral)", seen));
  }
  c.architecture = *arch;
  // Qwen2 always has q/k/v biases; Llama-family configs say so with attention_bias.
  c.attention_bias = c.architecture == Architecture::kQwen2;
  c.max_position_embeddings = 2048;

  for (auto [key, out, required] : {std::tuple{"hidden_size", &c.hidden_size, true},
                                    std::tuple{"intermediate_size", &c.intermediate_size, true},
                                    std::tuple{"num_hidden_layers", &c.num_hidden_layers, true},
                                    std::tuple{"num_attention_heads", &c.num_attention_heads, true},
                                    std::tuple{"num_key_value_heads", &c.num_key_value_heads, false},
                                    std::tuple{"head_dim", &c.head_dim, false},
                                    std::tuple{"vocab_size", &c.vocab_size, true},
                                    std::tuple{"max_position_embeddings", &c.max_position_embeddings, false}}) {
    if (absl::Status s = ReadInt(*root, name, key, required, *out); !s.ok()) return s;
  }
  if (absl::Status s = ReadDouble(*root, name, "rms_norm_eps", c.rms_norm_eps); !s.ok()) return s;
  if (absl::Status s = ReadDouble(*root, name, "rope_theta", c.rope_theta); !s.ok()) return s;
  if (absl::Status s = ReadBool(*root, name, "tie_word_embeddings", c.tie_word_embeddings); !s.ok()) return s;
  if (c.architecture != Architecture::kQwen2) {
    if (absl::Status s = ReadBool(*root, name, "attention_bias", c.attention_bias); !s.ok()) return s;
  }
  if (absl::Status s = Finish(c, name, ""); !s.ok()) return s;
  return c;
}

absl::StatusOr<ModelConfig> ReadHfConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(fmt::format("{}: cannot open config", path));
  std::ostringstream text;
  text << in.rdbuf();
  return ParseHfConfig(text.str(), path);
}

absl::StatusOr<ModelConfig> ModelConfigFromGguf(const GgufFile& file) {
  absl::StatusOr<std::string> arch_name = file.GetString("general.architecture");
  if (!arch_name.ok()) return arch_name.status();
  ModelConfig c;
  if (*arch_name == "llama") {
    c.architecture = Architecture::kLlama;
  } else if (*arch_name == "qwen2") {
    c.architecture = Architecture::kQwen2;
  } else {
    return absl::InvalidArgumentError(fmt::format("{}: field 'general.architecture': unsupported architecture \"{}\"",
                                                  file.name(), *arch_name));
  }
  const std::string p = *arch_name + ".";
  auto get_int = [&](std::string_view key, std::int64_t& out, bool required) -> absl::Status {
    absl::StatusOr<std::int64_t> v = file.GetInt(p + std::string(key));
    if (v.ok()) {
      out = *v;
      return absl::OkStatus();
    }
    if (!required && absl::IsNotFound(v.status())) return absl::OkStatus();
    return v.status();
  };
  auto get_float = [&](std::string_view key, double& out) -> absl::Status {
    absl::StatusOr<double> v = file.GetFloat(p + std::string(key));
    if (v.ok()) out = *v;
    return v.ok() || absl::IsNotFound(v.status()) ? absl::OkStatus() : v.status();
  };
  for (auto [key, out, required] : {std::tuple{"embedding_length", &c.hidden_size, true},
                                    std::tuple{"feed_forward_length", &c.intermediate_size, true},
                                    std::tuple{"block_count", &c.num_hidden_layers, true},
                                    std::tuple{"attention.head_count", &c.num_attention_heads, true},
                                    std::tuple{"attention.head_count_kv", &c.num_key_value_heads, false},
                                    std::tuple{"attention.key_length", &c.head_dim, false},
                                    std::tuple{"context_length", &c.max_position_embeddings, true},
                                    std::tuple{"vocab_size", &c.vocab_size, false}}) {
    if (absl::Status s = get_int(key, *out, required); !s.ok()) return s;
  }
  if (absl::Status s = get_float("attention.layer_norm_rms_epsilon", c.rms_norm_eps); !s.ok()) return s;
  if (absl::Status s = get_float("rope.freq_base", c.rope_theta); !s.ok()) return s;
  if (c.vocab_size == 0) {
    if (const GgufValue* tokens = file.Find("tokenizer.ggml.tokens")) {
      if (const auto* array = std::get_if<GgufArray>(&tokens->value)) {
        c.vocab_size = static_cast<std::int64_t>(array->items.size());
      }
    }
  }
  c.tie_word_embeddings = file.FindTensor("output.weight") == nullptr;
  c.attention_bias = c.architecture == Architecture::kQwen2 || file.FindTensor("blk.0.attn_q.bias") != nullptr;
  if (absl::Status s = Finish(c, file.name(), p); !s.ok()) return s;
  return c;
}

}  // namespace cace
