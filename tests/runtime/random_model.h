// A tiny Llama-family model with seeded random weights, assembled in host memory (no files, no
// pool) through the loader's tensor table, for the CPU backend's tests and benchmarks.
#ifndef CACE_TESTS_RUNTIME_RANDOM_MODEL_H_
#define CACE_TESTS_RUNTIME_RANDOM_MODEL_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <memory>
#include <random>
#include <vector>

#include "lib/loader/quant_blocks.h"
#include "lib/loader/tensor_names.h"
#include "lib/runtime/model_weights.h"

namespace cace::testing {

struct RandomModelOptions {
  std::int64_t vocab = 64, dim = 64, ffn = 96, layers = 2, heads = 4, kv_heads = 2, max_positions = 64;
  bool qkv_bias = false;
  bool tied = false;
  DType matrix_type = DType::kF32;  // F32, F16, BF16 or Q8_0
  kmath::RopeStyle rope_style = kmath::RopeStyle::kHalf;
  std::uint32_t seed = 1;
};

class RandomModelMaker {
 public:
  explicit RandomModelMaker(const RandomModelOptions& o) : o_(o), rng_(o.seed) {}

  // Walks the loader's tensor table (the shapes and roles every model has) and binds each tensor.
  std::shared_ptr<ModelWeights> Make() {
    auto w = std::make_shared<ModelWeights>();
    LlamaShape& s = w->shape;
    s.vocab_size = o_.vocab;
    s.dim = o_.dim;
    s.ffn_dim = o_.ffn;
    s.n_layers = o_.layers;
    s.n_heads = o_.heads;
    s.n_kv_heads = o_.kv_heads;
    s.head_dim = o_.dim / o_.heads;
    s.max_positions = o_.max_positions;
    s.rms_eps = 1e-5f;
    s.rope_theta = 10000.0f;
    s.rope_style = o_.rope_style;
    w->layers.resize(static_cast<std::size_t>(s.n_layers));
    ModelConfig c;
    c.vocab_size = s.vocab_size;
    c.hidden_size = s.dim;
    c.intermediate_size = s.ffn_dim;
    c.num_hidden_layers = s.n_layers;
    c.num_attention_heads = s.n_heads;
    c.num_key_value_heads = s.n_kv_heads;
    c.head_dim = s.head_dim;
    c.tie_word_embeddings = o_.tied;
    c.attention_bias = o_.qkv_bias;
    for (const ExpectedTensor& t : ExpectedTensors(c, TensorNaming::kHuggingFace)) {
      const std::int64_t rows = t.shape.front();
      if (t.is_matrix) {
        const float scale = t.role == TensorRole::kEmbedding ? 1.0f : 0.2f;
        const WeightMatrix m = Matrix(w.get(), rows, t.shape.back(), scale);
        Bind(BindTensor(*w, t.role, t.layer, m.dtype, m.data, rows, m.cols));
      } else {
        const bool norm = t.role == TensorRole::kAttnNorm || t.role == TensorRole::kFfnNorm ||
                          t.role == TensorRole::kFinalNorm;
        const float* v = Vector(w.get(), rows, norm ? 1.0f : 0.0f, 0.1f);
        Bind(BindTensor(*w, t.role, t.layer, DType::kF32, reinterpret_cast<const std::byte*>(v), rows, 1));
      }
    }
    if (o_.tied) w->lm_head = w->embedding;
    return w;
  }

 private:
  // The table and the shape come from the same options, so binding cannot fail but by a bug here.
  static void Bind(const absl::Status& status) {
    if (!status.ok()) {
      std::fprintf(stderr, "random model: %s\n", std::string(status.message()).c_str());
      std::abort();
    }
  }

  float Uniform(float scale) { return std::uniform_real_distribution<float>(-scale, scale)(rng_); }

  const float* Vector(ModelWeights* w, std::int64_t n, float center, float spread) {
    std::shared_ptr<float[]> v(new float[static_cast<std::size_t>(n)]);
    for (std::int64_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = center + Uniform(spread);
    w->held_bytes += static_cast<std::uint64_t>(n) * sizeof(float);
    w->keep_alive.push_back(v);
    return v.get();
  }

  // Values are drawn in F32 and stored in the requested type (Q8_0: per-block absmax scale).
  WeightMatrix Matrix(ModelWeights* w, std::int64_t rows, std::int64_t cols, float scale) {
    const std::size_t count = static_cast<std::size_t>(rows * cols);
    std::vector<float> values(count);
    for (float& v : values) v = Uniform(scale);
    std::size_t bytes = count * 4;
    if (o_.matrix_type == DType::kF16 || o_.matrix_type == DType::kBF16) bytes = count * 2;
    if (o_.matrix_type == DType::kQ8_0) bytes = count / 32 * 34;
    std::shared_ptr<float[]> storage(new float[(bytes + 3) / 4]);
    auto* out = reinterpret_cast<std::uint8_t*>(storage.get());
    for (std::size_t i = 0; i < count; ++i) {
      if (o_.matrix_type == DType::kF32) std::memcpy(out + 4 * i, &values[i], 4);
      if (o_.matrix_type == DType::kF16 || o_.matrix_type == DType::kBF16) {
        const std::uint16_t h = o_.matrix_type == DType::kF16 ? quant::FloatToHalf(values[i]) : quant::FloatToBf16(values[i]);
        std::memcpy(out + 2 * i, &h, 2);
      }
    }
    if (o_.matrix_type == DType::kQ8_0) {
      for (std::size_t b = 0; b < count / 32; ++b) {
        float amax = 0.0f;
        for (int j = 0; j < 32; ++j) amax = std::max(amax, std::abs(values[b * 32 + j]));
        const std::uint16_t d16 = quant::FloatToHalf(amax / 127.0f);
        const float d = quant::HalfToFloat(d16);
        std::memcpy(out + b * 34, &d16, 2);
        for (int j = 0; j < 32; ++j) {
          const float q = d == 0.0f ? 0.0f : std::round(values[b * 32 + j] / d);
          out[b * 34 + 2 + j] = static_cast<std::uint8_t>(static_cast<std::int8_t>(std::clamp(q, -127.0f, 127.0f)));
        }
      }
    }
    WeightMatrix m{o_.matrix_type, reinterpret_cast<const std::byte*>(storage.get()), rows, cols};
    w->held_bytes += bytes;
    w->keep_alive.push_back(storage);
    return m;
  }

  RandomModelOptions o_;
  std::mt19937 rng_;
};

inline std::shared_ptr<ModelWeights> MakeRandomModel(const RandomModelOptions& o) { return RandomModelMaker(o).Make(); }

}  // namespace cace::testing

#endif  // CACE_TESTS_RUNTIME_RANDOM_MODEL_H_
