// Writes a tiny seeded Llama-family model in the real formats, for tests and examples:
//   cace_make_tiny_model --out DIR [--arch llama|qwen2] [--seed N] [--dtype F32|F16|BF16]
//                        [--gguf FILE --gguf-type F32|F16|BF16|Q8_0|Q4_0|Q4_1|Q4_K|Q6_K]
//                        [--hidden N --intermediate N --layers N --heads N --kv-heads N] [--positions N]
//                        [--tie]
// DIR receives config.json, model.safetensors, tokenizer.json and tokenizer_config.json (Hugging
// Face names); FILE, when given, the same weights as GGUF (llama.cpp names).
#include <cstdio>
#include <string>
#include <string_view>

#include "fmt/format.h"
#include "lib/loader/tiny_model_writer.h"

namespace {

std::optional<cace::DType> ParseDType(std::string_view name) {
  for (cace::DType d : {cace::DType::kF32, cace::DType::kF16, cace::DType::kBF16, cace::DType::kQ8_0,
                        cace::DType::kQ4_0, cace::DType::kQ4_1, cace::DType::kQ4_K, cace::DType::kQ6_K}) {
    if (cace::DTypeName(d) == name) return d;
  }
  return std::nullopt;
}

int Usage(const std::string& why) {
  std::fprintf(stderr, "cace_make_tiny_model: %s\nusage: cace_make_tiny_model --out DIR [--arch llama|qwen2] "
               "[--seed N] [--dtype F32|F16|BF16] [--gguf FILE] [--gguf-type TYPE] [--hidden N] [--intermediate N] "
               "[--layers N] [--heads N] [--kv-heads N] [--positions N] [--tie]\n", why.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  cace::TinyModelSpec spec;
  std::string out, gguf;
  cace::DType dtype = cace::DType::kF32, gguf_type = cace::DType::kF32;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--tie") {
      spec.tie_word_embeddings = true;
      continue;
    }
    if (i + 1 >= argc) return Usage(fmt::format("{} needs a value", arg));
    const std::string value = argv[++i];
    try {
      if (arg == "--out") out = value;
      else if (arg == "--gguf") gguf = value;
      else if (arg == "--seed") spec.seed = std::stoull(value);
      else if (arg == "--hidden") spec.hidden_size = std::stoll(value);
      else if (arg == "--intermediate") spec.intermediate_size = std::stoll(value);
      else if (arg == "--layers") spec.num_hidden_layers = std::stoll(value);
      else if (arg == "--heads") spec.num_attention_heads = std::stoll(value);
      else if (arg == "--kv-heads") spec.num_key_value_heads = std::stoll(value);
      else if (arg == "--positions") spec.max_position_embeddings = std::stoll(value);
      else if (arg == "--arch") {
        if (value == "llama") spec.architecture = cace::Architecture::kLlama;
        else if (value == "qwen2") spec.architecture = cace::Architecture::kQwen2;
        else return Usage("--arch must be llama or qwen2");
      } else if (arg == "--dtype" || arg == "--gguf-type") {
        std::optional<cace::DType> d = ParseDType(value);
        if (!d) return Usage(fmt::format("unknown type {}", value));
        (arg == "--dtype" ? dtype : gguf_type) = *d;
      } else {
        return Usage(fmt::format("unknown option {}", arg));
      }
    } catch (const std::exception&) {
      return Usage(fmt::format("{} needs a number, got {}", arg, value));
    }
  }
  if (out.empty() && gguf.empty()) return Usage("give --out and/or --gguf");
  if (!out.empty()) {
    if (absl::Status s = cace::WriteTinySafetensorsModel(spec, out, dtype); !s.ok()) {
      std::fprintf(stderr, "cace_make_tiny_model: %s\n", s.ToString().c_str());
      return 1;
    }
    std::printf("wrote %s/{config.json,model.safetensors,tokenizer.json,tokenizer_config.json}\n", out.c_str());
  }
  if (!gguf.empty()) {
    if (absl::Status s = cace::WriteTinyGgufModel(spec, gguf, gguf_type); !s.ok()) {
      std::fprintf(stderr, "cace_make_tiny_model: %s\n", s.ToString().c_str());
      return 1;
    }
    std::printf("wrote %s\n", gguf.c_str());
  }
  return 0;
}
