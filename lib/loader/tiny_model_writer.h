// Writes tiny Llama-family models with seeded weights in the real formats: a Hugging Face folder
// (config.json, model.safetensors with HF tensor names, tokenizer.json, tokenizer_config.json) and
// a GGUF file (llama.cpp tensor names and metadata, tokenizer.ggml.*), for tests and examples. The
// same spec and seed give the same weights in both; as llama.cpp's converter does, the GGUF of a
// Llama (not Qwen2) model stores q_proj and k_proj rows permuted so that rotary pairs are
// adjacent. The tokenizer is a small byte-level BPE: 256 byte tokens, a few merges, and the
// special tokens <|endoftext|> and <|fim_prefix|>, <|fim_middle|>, <|fim_suffix|>, <|fim_pad|>.
#ifndef CACE_LIB_LOADER_TINY_MODEL_WRITER_H_
#define CACE_LIB_LOADER_TINY_MODEL_WRITER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "lib/loader/dtype.h"
#include "lib/loader/model_config.h"

namespace cace {

struct TinyModelSpec {
  Architecture architecture = Architecture::kLlama;
  std::int64_t hidden_size = 64;
  std::int64_t intermediate_size = 128;
  std::int64_t num_hidden_layers = 2;
  std::int64_t num_attention_heads = 4;
  std::int64_t num_key_value_heads = 2;
  std::int64_t max_position_embeddings = 512;
  double rms_norm_eps = 1e-5;
  double rope_theta = 10000.0;
  bool tie_word_embeddings = false;
  std::uint64_t seed = 1;
};

// The ModelConfig the files describe (vocab_size is the tiny tokenizer's).
ModelConfig TinyModelConfig(const TinyModelSpec& spec);

// The tiny tokenizer's vocabulary (index = id) and merges.
std::vector<std::string> TinyVocabulary();
std::vector<std::pair<std::string, std::string>> TinyMerges();

// The seeded f32 weights by Hugging Face name, shapes as in ExpectedTensors (unpermuted).
std::map<std::string, std::vector<float>> TinyModelWeights(const TinyModelSpec& spec);

// Writes config.json, model.safetensors (every tensor as `dtype`: F32, F16 or BF16),
// tokenizer.json and tokenizer_config.json into `dir` (created if missing).
absl::Status WriteTinySafetensorsModel(const TinyModelSpec& spec, const std::string& dir, DType dtype = DType::kF32);

// Writes a GGUF file: matrices as `matrix_dtype` (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q6_K;
// the row lengths must be multiples of its block size), norms and biases as F32.
absl::Status WriteTinyGgufModel(const TinyModelSpec& spec, const std::string& path, DType matrix_dtype = DType::kF32);

}  // namespace cace

#endif  // CACE_LIB_LOADER_TINY_MODEL_WRITER_H_
