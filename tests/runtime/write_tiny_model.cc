// Writes one of the loader's tiny seeded models for the reference checks:
//   runtime_write_tiny_model DIR (llama|qwen2) [--tied] [--hidden N --ffn N] [--gguf TYPE]
// Without --gguf: DIR/config.json + DIR/model.safetensors (F32). With --gguf: DIR/model.gguf with
// matrices of TYPE (Q8_0, Q4_K, F16, ...). Exit 0 on success, 2 on error (the message says why).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "lib/loader/tiny_model_writer.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s DIR (llama|qwen2) [--tied] [--hidden N --ffn N] [--gguf TYPE]\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1], arch = argv[2];
  cace::TinyModelSpec spec;
  spec.architecture = arch == "qwen2" ? cace::Architecture::kQwen2 : cace::Architecture::kLlama;
  spec.seed = 7;
  std::string gguf_type;
  for (int i = 3; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--tied") spec.tie_word_embeddings = true;
    else if (arg == "--hidden" && i + 1 < argc) spec.hidden_size = std::atoll(argv[++i]);
    else if (arg == "--ffn" && i + 1 < argc) spec.intermediate_size = std::atoll(argv[++i]);
    else if (arg == "--gguf" && i + 1 < argc) gguf_type = argv[++i];
    else {
      std::fprintf(stderr, "unknown argument %s\n", arg.c_str());
      return 2;
    }
  }
  absl::Status st;
  if (gguf_type.empty()) {
    st = cace::WriteTinySafetensorsModel(spec, dir, cace::DType::kF32);
  } else {
    cace::DType type = cace::DType::kF32;
    bool found = false;
    for (cace::DType t : {cace::DType::kF32, cace::DType::kF16, cace::DType::kBF16, cace::DType::kQ8_0,
                          cace::DType::kQ4_0, cace::DType::kQ4_1, cace::DType::kQ4_K, cace::DType::kQ6_K}) {
      if (cace::DTypeName(t) == gguf_type) {
        type = t;
        found = true;
      }
    }
    if (!found) {
      std::fprintf(stderr, "unknown GGUF matrix type %s\n", gguf_type.c_str());
      return 2;
    }
    st = cace::WriteTinyGgufModel(spec, dir + "/model.gguf", type);
  }
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", std::string(st.message()).c_str());
    return 2;
  }
  return 0;
}
