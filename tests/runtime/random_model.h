// A tiny Llama-family model with seeded random weights, assembled in memory (no files), for the
// CPU tests and the CUDA-vs-CPU test.
#ifndef CACE_TESTS_RUNTIME_RANDOM_MODEL_H_
#define CACE_TESTS_RUNTIME_RANDOM_MODEL_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "lib/loader/quant_blocks.h"
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
    w->embedding = Matrix(w.get(), s.vocab_size, s.dim, 1.0f);
    w->lm_head = o_.tied ? w->embedding : Matrix(w.get(), s.vocab_size, s.dim, 0.2f);
    w->final_norm = Vector(w.get(), s.dim, 1.0f, 0.1f);
    for (std::int64_t i = 0; i < s.n_layers; ++i) {
      LayerWeights l;
      l.attn_norm = Vector(w.get(), s.dim, 1.0f, 0.1f);
      l.wq = Matrix(w.get(), s.q_dim(), s.dim, 0.2f);
      l.wk = Matrix(w.get(), s.kv_dim(), s.dim, 0.2f);
      l.wv = Matrix(w.get(), s.kv_dim(), s.dim, 0.2f);
      if (o_.qkv_bias) {
        l.bq = Vector(w.get(), s.q_dim(), 0.0f, 0.1f);
        l.bk = Vector(w.get(), s.kv_dim(), 0.0f, 0.1f);
        l.bv = Vector(w.get(), s.kv_dim(), 0.0f, 0.1f);
      }
      l.wo = Matrix(w.get(), s.dim, s.q_dim(), 0.2f);
      l.ffn_norm = Vector(w.get(), s.dim, 1.0f, 0.1f);
      l.w_gate = Matrix(w.get(), s.ffn_dim, s.dim, 0.2f);
      l.w_up = Matrix(w.get(), s.ffn_dim, s.dim, 0.2f);
      l.w_down = Matrix(w.get(), s.dim, s.ffn_dim, 0.2f);
      w->layers.push_back(l);
    }
    return w;
  }

 private:
  float Uniform(float scale) { return std::uniform_real_distribution<float>(-scale, scale)(rng_); }

  const float* Vector(ModelWeights* w, std::int64_t n, float center, float spread) {
    auto v = std::make_unique<float[]>(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = center + Uniform(spread);
    const float* p = v.get();
    w->owned.push_back(std::move(v));
    return p;
  }

  // Values are drawn in F32 and stored in the requested type (Q8_0: per-block absmax scale).
  WeightMatrix Matrix(ModelWeights* w, std::int64_t rows, std::int64_t cols, float scale) {
    const std::size_t count = static_cast<std::size_t>(rows * cols);
    std::vector<float> values(count);
    for (float& v : values) v = Uniform(scale);
    std::size_t bytes = count * 4;
    if (o_.matrix_type == DType::kF16 || o_.matrix_type == DType::kBF16) bytes = count * 2;
    if (o_.matrix_type == DType::kQ8_0) bytes = count / 32 * 34;
    auto storage = std::make_unique<float[]>((bytes + 3) / 4);
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
    w->owned.push_back(std::move(storage));
    return m;
  }

  RandomModelOptions o_;
  std::mt19937 rng_;
};

inline std::shared_ptr<ModelWeights> MakeRandomModel(const RandomModelOptions& o) { return RandomModelMaker(o).Make(); }

}  // namespace cace::testing

#endif  // CACE_TESTS_RUNTIME_RANDOM_MODEL_H_
