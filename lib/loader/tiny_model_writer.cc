#include "lib/loader/tiny_model_writer.h"

#include <cmath>
#include <filesystem>
#include <fstream>

#include "fmt/format.h"
#include "lib/loader/gguf_writer.h"
#include "lib/loader/quantize.h"
#include "lib/loader/safetensors_writer.h"
#include "lib/loader/tensor_names.h"

namespace cace {
namespace {

constexpr const char* kSpecialTokens[] = {"<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>",
                                          "<|fim_pad|>"};
// Merges of the tiny tokenizer, in rank order, over GPT-2's byte alphabet (Ġ is the space byte).
constexpr std::pair<const char*, const char*> kMerges[] = {
    {"Ġ", "t"}, {"h", "e"}, {"i", "n"}, {"r", "e"}, {"o", "n"}, {"Ġt", "he"}, {"e", "r"}, {"Ġ", "a"},
    {"Ġ", "s"}, {"a", "t"}, {"Ġ", "f"}, {"e", "n"}, {"d", "e"}, {"Ġ", "i"}, {"Ġ", "r"}, {"Ġr", "e"}, {"i", "f"},
    {"Ġ", "("}, {"Ġ", "="}, {"r", "n"}, {"Ġre", "t"}, {"u", "rn"}, {"Ġret", "urn"}, {"de", "f"}, {"Ġ", "x"},
};

// GPT-2's byte-to-character table: printable bytes stand for themselves, the others for the code
// points from 256 up, in byte order.
std::string ByteToken(int byte) {
  const bool printable = (byte >= 33 && byte <= 126) || (byte >= 161 && byte <= 172) || (byte >= 174 && byte <= 255);
  int cp = byte;
  if (!printable) {
    int n = 0;
    for (int b = 0; b < byte; ++b) {
      if (!((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255))) ++n;
    }
    cp = 256 + n;
  }
  std::string out;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return out;
}

// splitmix64: a tiny seeded generator whose output is the same on every platform.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  float Uniform(float scale) {  // in [-scale, scale)
    state_ += 0x9E3779B97F4A7C15ull;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return scale * (static_cast<float>(z >> 40) / static_cast<float>(1 << 23) - 1.0f);
  }

 private:
  std::uint64_t state_;
};

std::vector<std::byte> AsBytes(const std::vector<float>& values, DType dtype) {
  return QuantizeFromF32(dtype, values).value();  // plain types never fail
}

absl::Status WriteText(const std::string& path, const std::string& text) {
  return WriteFileAtomically(path, std::span(reinterpret_cast<const std::byte*>(text.data()), text.size()));
}

// llama.cpp's converter reorders each head's rows of Llama's q/k projections from the
// rotate-half layout (first half, second half) to interleaved pairs: row 2i+j <- row j*hd/2+i.
std::vector<float> PermuteRotaryRows(const std::vector<float>& w, std::int64_t heads, std::int64_t cols) {
  const auto rows = static_cast<std::int64_t>(w.size()) / cols;
  const std::int64_t hd = rows / heads;
  std::vector<float> out(w.size());
  for (std::int64_t h = 0; h < heads; ++h) {
    for (std::int64_t i = 0; i < hd / 2; ++i) {
      for (std::int64_t j = 0; j < 2; ++j) {
        const std::int64_t to = h * hd + 2 * i + j, from = h * hd + j * (hd / 2) + i;
        std::copy_n(w.begin() + from * cols, cols, out.begin() + to * cols);
      }
    }
  }
  return out;
}

std::string ConfigJson(const TinyModelSpec& spec, const ModelConfig& c, DType dtype) {
  const bool qwen = c.architecture == Architecture::kQwen2;
  const std::string arch = qwen ? "Qwen2ForCausalLM" : "LlamaForCausalLM";
  return fmt::format(
      "{{\n  \"architectures\": [\"{}\"],\n  \"model_type\": \"{}\",\n  \"hidden_size\": {},\n"
      "  \"intermediate_size\": {},\n  \"num_hidden_layers\": {},\n  \"num_attention_heads\": {},\n"
      "  \"num_key_value_heads\": {},\n  \"head_dim\": {},\n  \"hidden_act\": \"silu\",\n  \"rms_norm_eps\": {},\n"
      "  \"rope_theta\": {},\n  \"vocab_size\": {},\n  \"max_position_embeddings\": {},\n"
      "  \"tie_word_embeddings\": {},\n  \"attention_bias\": {},\n  \"bos_token_id\": 256,\n  \"eos_token_id\": 256,\n"
      "  \"torch_dtype\": \"{}\",\n  \"use_sliding_window\": false\n}}\n",
      arch, ArchitectureName(c.architecture), c.hidden_size, c.intermediate_size, c.num_hidden_layers,
      c.num_attention_heads, c.num_key_value_heads, c.head_dim, spec.rms_norm_eps, spec.rope_theta, c.vocab_size,
      c.max_position_embeddings, c.tie_word_embeddings, c.attention_bias,
      dtype == DType::kF32 ? "float32" : (dtype == DType::kF16 ? "float16" : "bfloat16"));
}

std::string TokenizerJson() {
  const std::vector<std::string> vocab = TinyVocabulary();
  std::string added;
  for (std::size_t i = 0; i < std::size(kSpecialTokens); ++i) {
    added += fmt::format("{}{{\"id\":{},\"content\":{},\"single_word\":false,\"lstrip\":false,\"rstrip\":false,"
                         "\"normalized\":false,\"special\":true}}",
                         i ? "," : "", 256 + i, JsonQuote(kSpecialTokens[i]));
  }
  std::string vocab_json;
  for (std::size_t i = 0; i < vocab.size(); ++i) {
    if (i >= 256 && i < 256 + std::size(kSpecialTokens)) continue;  // specials live in added_tokens only
    vocab_json += fmt::format("{}{}:{}", vocab_json.empty() ? "" : ",", JsonQuote(vocab[i]), i);
  }
  std::string merges;
  for (const auto& [a, b] : TinyMerges()) merges += fmt::format("{}{}", merges.empty() ? "" : ",", JsonQuote(a + " " + b));
  return fmt::format(
      "{{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[{}],\"normalizer\":null,"
      "\"pre_tokenizer\":{{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":true}},"
      "\"post_processor\":null,\"decoder\":{{\"type\":\"ByteLevel\",\"add_prefix_space\":true,\"trim_offsets\":true,"
      "\"use_regex\":true}},\"model\":{{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":null,"
      "\"continuing_subword_prefix\":null,\"end_of_word_suffix\":null,\"fuse_unk\":false,\"byte_fallback\":false,"
      "\"vocab\":{{{}}},\"merges\":[{}]}}}}\n",
      added, vocab_json, merges);
}

}  // namespace

std::vector<std::string> TinyVocabulary() {
  std::vector<std::string> vocab;
  for (int b = 0; b < 256; ++b) vocab.push_back(ByteToken(b));
  for (const char* s : kSpecialTokens) vocab.emplace_back(s);
  for (const auto& [a, b] : kMerges) vocab.push_back(std::string(a) + b);
  return vocab;
}

std::vector<std::pair<std::string, std::string>> TinyMerges() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [a, b] : kMerges) out.emplace_back(a, b);
  return out;
}

ModelConfig TinyModelConfig(const TinyModelSpec& spec) {
  ModelConfig c;
  c.architecture = spec.architecture;
  c.hidden_size = spec.hidden_size;
  c.intermediate_size = spec.intermediate_size;
  c.num_hidden_layers = spec.num_hidden_layers;
  c.num_attention_heads = spec.num_attention_heads;
  c.num_key_value_heads = spec.num_key_value_heads;
  c.head_dim = spec.hidden_size / spec.num_attention_heads;
  c.rms_norm_eps = spec.rms_norm_eps;
  c.rope_theta = spec.rope_theta;
  c.vocab_size = static_cast<std::int64_t>(TinyVocabulary().size());
  c.max_position_embeddings = spec.max_position_embeddings;
  c.tie_word_embeddings = spec.tie_word_embeddings;
  c.attention_bias = spec.architecture == Architecture::kQwen2;
  return c;
}

std::map<std::string, std::vector<float>> TinyModelWeights(const TinyModelSpec& spec) {
  Rng rng(spec.seed);
  std::map<std::string, std::vector<float>> weights;
  for (const ExpectedTensor& t : ExpectedTensors(TinyModelConfig(spec), TensorNaming::kHuggingFace)) {
    std::int64_t n = 1;
    for (std::int64_t d : t.shape) n *= d;
    std::vector<float> values(static_cast<std::size_t>(n));
    const bool norm = t.name.find("norm") != std::string::npos;
    // Matrices scaled like a usual initialisation (1/sqrt(fan_in)) so activations stay O(1);
    // norm weights near 1; biases small.
    const float scale = t.is_matrix ? 1.0f / std::sqrt(static_cast<float>(t.shape.back())) : (norm ? 0.1f : 0.02f);
    for (float& v : values) v = (norm ? 1.0f : 0.0f) + rng.Uniform(scale);
    weights[t.name] = std::move(values);
  }
  return weights;
}

absl::Status WriteTinySafetensorsModel(const TinyModelSpec& spec, const std::string& dir, DType dtype) {
  if (dtype != DType::kF32 && dtype != DType::kF16 && dtype != DType::kBF16) {
    return absl::InvalidArgumentError(fmt::format("tiny safetensors model: dtype {} is not F32, F16 or BF16",
                                                  DTypeName(dtype)));
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(fmt::format("{}: cannot create: {}", dir, ec.message()));
  const ModelConfig config = TinyModelConfig(spec);
  std::map<std::string, std::vector<float>> weights = TinyModelWeights(spec);
  SafetensorsWriter writer;
  writer.AddMetadata("format", "pt");
  for (const ExpectedTensor& t : ExpectedTensors(config, TensorNaming::kHuggingFace)) {
    writer.AddTensor(t.name, dtype, t.shape, AsBytes(weights[t.name], dtype));
  }
  if (absl::Status s = writer.WriteFile(dir + "/model.safetensors"); !s.ok()) return s;
  if (absl::Status s = WriteText(dir + "/config.json", ConfigJson(spec, config, dtype)); !s.ok()) return s;
  if (absl::Status s = WriteText(dir + "/tokenizer.json", TokenizerJson()); !s.ok()) return s;
  return WriteText(dir + "/tokenizer_config.json",
                   "{\"tokenizer_class\": \"PreTrainedTokenizerFast\", \"bos_token\": \"<|endoftext|>\", "
                   "\"eos_token\": \"<|endoftext|>\", \"pad_token\": \"<|fim_pad|>\", \"add_bos_token\": false}\n");
}

absl::Status WriteTinyGgufModel(const TinyModelSpec& spec, const std::string& path, DType matrix_dtype) {
  const ModelConfig c = TinyModelConfig(spec);
  const std::string arch(ArchitectureName(c.architecture));
  GgufWriter writer;
  writer.AddString("general.architecture", arch);
  writer.AddString("general.name", fmt::format("cace tiny {} seed {}", arch, spec.seed));
  writer.AddUint32(arch + ".context_length", static_cast<std::uint32_t>(c.max_position_embeddings));
  writer.AddUint32(arch + ".embedding_length", static_cast<std::uint32_t>(c.hidden_size));
  writer.AddUint32(arch + ".feed_forward_length", static_cast<std::uint32_t>(c.intermediate_size));
  writer.AddUint32(arch + ".block_count", static_cast<std::uint32_t>(c.num_hidden_layers));
  writer.AddUint32(arch + ".attention.head_count", static_cast<std::uint32_t>(c.num_attention_heads));
  writer.AddUint32(arch + ".attention.head_count_kv", static_cast<std::uint32_t>(c.num_key_value_heads));
  writer.AddUint32(arch + ".rope.dimension_count", static_cast<std::uint32_t>(c.head_dim));
  writer.AddFloat32(arch + ".attention.layer_norm_rms_epsilon", static_cast<float>(c.rms_norm_eps));
  writer.AddFloat32(arch + ".rope.freq_base", static_cast<float>(c.rope_theta));
  writer.AddUint32(arch + ".vocab_size", static_cast<std::uint32_t>(c.vocab_size));

  const std::vector<std::string> vocab = TinyVocabulary();
  std::vector<std::int32_t> types(vocab.size(), 1);  // normal
  for (std::size_t i = 0; i < std::size(kSpecialTokens); ++i) types[256 + i] = 3;  // control
  std::vector<std::string> merges;
  for (const auto& [a, b] : TinyMerges()) merges.push_back(a + " " + b);
  writer.AddString("tokenizer.ggml.model", "gpt2");
  writer.AddString("tokenizer.ggml.pre", c.architecture == Architecture::kQwen2 ? "qwen2" : "default");
  writer.AddStringArray("tokenizer.ggml.tokens", vocab);
  writer.AddInt32Array("tokenizer.ggml.token_type", types);
  writer.AddStringArray("tokenizer.ggml.merges", merges);
  writer.AddUint32("tokenizer.ggml.bos_token_id", 256);
  writer.AddUint32("tokenizer.ggml.eos_token_id", 256);
  writer.AddUint32("tokenizer.ggml.padding_token_id", 260);
  writer.AddUint32("tokenizer.ggml.fim_pre_token_id", 257);
  writer.AddUint32("tokenizer.ggml.fim_mid_token_id", 258);
  writer.AddUint32("tokenizer.ggml.fim_suf_token_id", 259);
  writer.AddUint32("tokenizer.ggml.fim_pad_token_id", 260);
  writer.AddBool("tokenizer.ggml.add_bos_token", false);

  std::map<std::string, std::vector<float>> weights = TinyModelWeights(spec);
  const std::vector<ExpectedTensor> hf = ExpectedTensors(c, TensorNaming::kHuggingFace);
  const std::vector<ExpectedTensor> gguf = ExpectedTensors(c, TensorNaming::kGguf);
  for (std::size_t i = 0; i < hf.size(); ++i) {
    std::vector<float> values = weights[hf[i].name];
    if (c.architecture == Architecture::kLlama) {
      if (hf[i].name.ends_with("q_proj.weight")) values = PermuteRotaryRows(values, c.num_attention_heads, c.hidden_size);
      if (hf[i].name.ends_with("k_proj.weight")) values = PermuteRotaryRows(values, c.num_key_value_heads, c.hidden_size);
    }
    const DType dtype = gguf[i].is_matrix ? matrix_dtype : DType::kF32;
    absl::StatusOr<std::vector<std::byte>> bytes = QuantizeFromF32(dtype, values);
    if (!bytes.ok()) return bytes.status();
    if (DTypeIsQuantized(dtype) && gguf[i].shape.back() % DTypeBlockElements(dtype) != 0) {
      return absl::InvalidArgumentError(fmt::format("tiny GGUF model: tensor '{}' rows of {} are not whole {} blocks",
                                                    gguf[i].name, gguf[i].shape.back(), DTypeName(dtype)));
    }
    writer.AddTensor(gguf[i].name, dtype, gguf[i].shape, std::move(*bytes));
  }
  return writer.WriteFile(path);
}

}  // namespace cace
