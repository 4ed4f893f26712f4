// The CPU forward pass against a plain reference written here with no shared kernels (full
// softmax, angles in double, weights widened up front), and the batching invariants: a prompt
// prefilled at once equals the same prompt fed token by token, and sequences decoded in one batch
// equal the same sequences run alone.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "lib/runtime/cpu_backend.h"
#include "lib/runtime/cpu_matmul.h"
#include "tests/runtime/random_model.h"

namespace cace {
namespace {

using testing::MakeRandomModel;
using testing::RandomModelOptions;

std::vector<float> Widen(const WeightMatrix& m) {
  std::vector<float> out(static_cast<std::size_t>(m.rows * m.cols));
  for (std::int64_t r = 0; r < m.rows; ++r) DequantizeRow(m, r, out.data() + r * m.cols);
  return out;
}

// x rounded as GGUF's Q8_0 rounds: blocks of 32, step max|x| / 127, to the nearest step.
std::vector<float> RoundToQ8_0(const std::vector<float>& x) {
  std::vector<float> out(x.size());
  for (std::size_t b = 0; b < x.size(); b += 32) {
    float amax = 0;
    for (std::size_t i = b; i < b + 32; ++i) amax = std::max(amax, std::abs(x[i]));
    const float d = amax / 127.0f;
    for (std::size_t i = b; i < b + 32; ++i) out[i] = d == 0.0f ? 0.0f : std::nearbyint(x[i] * (1.0f / d)) * d;
  }
  return out;
}

// int8_activations: Q8_0 matrices take x rounded to Q8_0 (the CPU backend's int8 products).
std::vector<float> MatVec(const WeightMatrix& m, const std::vector<float>& x_in, bool int8_activations) {
  const std::vector<float> x = int8_activations && m.dtype == DType::kQ8_0 ? RoundToQ8_0(x_in) : x_in;
  const std::vector<float> w = Widen(m);
  std::vector<float> y(static_cast<std::size_t>(m.rows));
  for (std::int64_t r = 0; r < m.rows; ++r) {
    double acc = 0;
    for (std::int64_t c = 0; c < m.cols; ++c) acc += double(w[r * m.cols + c]) * x[c];
    y[r] = static_cast<float>(acc);
  }
  return y;
}

std::vector<float> RmsNorm(const std::vector<float>& x, const float* weight, float eps) {
  double ss = 0;
  for (float v : x) ss += double(v) * v;
  const double inv = 1.0 / std::sqrt(ss / static_cast<double>(x.size()) + eps);
  std::vector<float> y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = static_cast<float>(x[i] * inv * weight[i]);
  return y;
}

void Rope(float* head, std::int64_t hd, std::int64_t pos, const LlamaShape& s) {
  for (std::int64_t p = 0; p < hd / 2; ++p) {
    const double angle = double(pos) * std::pow(double(s.rope_theta), -2.0 * double(p) / double(hd));
    const std::int64_t i0 = s.rope_style == kmath::RopeStyle::kHalf ? p : 2 * p;
    const std::int64_t i1 = s.rope_style == kmath::RopeStyle::kHalf ? p + hd / 2 : 2 * p + 1;
    const double a = head[i0], b = head[i1];
    head[i0] = static_cast<float>(a * std::cos(angle) - b * std::sin(angle));
    head[i1] = static_cast<float>(a * std::sin(angle) + b * std::cos(angle));
  }
}

// Logits after every token of `tokens`, recomputing everything from scratch.
std::vector<std::vector<float>> ReferenceForward(const ModelWeights& w, const std::vector<std::int32_t>& tokens,
                                                 bool int8_activations = false) {
  const LlamaShape& s = w.shape;
  const std::int64_t n = static_cast<std::int64_t>(tokens.size()), hd = s.head_dim;
  const std::vector<float> emb = Widen(w.embedding);
  std::vector<std::vector<float>> x(tokens.size());
  for (std::int64_t t = 0; t < n; ++t) x[t].assign(emb.begin() + tokens[t] * s.dim, emb.begin() + (tokens[t] + 1) * s.dim);
  for (const LayerWeights& l : w.layers) {
    std::vector<std::vector<float>> q(n), k(n), v(n);
    for (std::int64_t t = 0; t < n; ++t) {
      const std::vector<float> h = RmsNorm(x[t], l.attn_norm, s.rms_eps);
      q[t] = MatVec(l.wq, h, int8_activations);
      k[t] = MatVec(l.wk, h, int8_activations);
      v[t] = MatVec(l.wv, h, int8_activations);
      for (std::int64_t i = 0; l.bq && i < s.q_dim(); ++i) q[t][i] += l.bq[i];
      for (std::int64_t i = 0; l.bk && i < s.kv_dim(); ++i) k[t][i] += l.bk[i];
      for (std::int64_t i = 0; l.bv && i < s.kv_dim(); ++i) v[t][i] += l.bv[i];
      for (std::int64_t hh = 0; hh < s.n_heads; ++hh) Rope(q[t].data() + hh * hd, hd, t, s);
      for (std::int64_t hh = 0; hh < s.n_kv_heads; ++hh) Rope(k[t].data() + hh * hd, hd, t, s);
    }
    for (std::int64_t t = 0; t < n; ++t) {
      std::vector<float> att(static_cast<std::size_t>(s.q_dim()), 0.0f);
      for (std::int64_t hh = 0; hh < s.n_heads; ++hh) {
        const std::int64_t kvh = hh / (s.n_heads / s.n_kv_heads);
        std::vector<double> scores(static_cast<std::size_t>(t + 1));
        double mx = -1e300, sum = 0;
        for (std::int64_t p = 0; p <= t; ++p) {
          double d = 0;
          for (std::int64_t i = 0; i < hd; ++i) d += double(q[t][hh * hd + i]) * k[p][kvh * hd + i];
          scores[p] = d / std::sqrt(double(hd));
          mx = std::max(mx, scores[p]);
        }
        for (double& sc : scores) sum += (sc = std::exp(sc - mx));
        for (std::int64_t p = 0; p <= t; ++p) {
          for (std::int64_t i = 0; i < hd; ++i) att[hh * hd + i] += static_cast<float>(scores[p] / sum * v[p][kvh * hd + i]);
        }
      }
      const std::vector<float> o = MatVec(l.wo, att, int8_activations);
      for (std::int64_t i = 0; i < s.dim; ++i) x[t][i] += o[i];
      const std::vector<float> h = RmsNorm(x[t], l.ffn_norm, s.rms_eps);
      std::vector<float> g = MatVec(l.w_gate, h, int8_activations);
      const std::vector<float> u = MatVec(l.w_up, h, int8_activations);
      for (std::size_t i = 0; i < g.size(); ++i) g[i] = static_cast<float>(g[i] / (1.0 + std::exp(-double(g[i]))) * u[i]);
      const std::vector<float> d = MatVec(l.w_down, g, int8_activations);
      for (std::int64_t i = 0; i < s.dim; ++i) x[t][i] += d[i];
    }
  }
  std::vector<std::vector<float>> logits(tokens.size());
  for (std::int64_t t = 0; t < n; ++t) logits[t] = MatVec(w.lm_head, RmsNorm(x[t], w.final_norm, s.rms_eps), int8_activations);
  return logits;
}

void RequireClose(const float* got, const std::vector<float>& want, double rel_tol) {
  double max_abs = 0, max_diff = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    max_abs = std::max(max_abs, std::abs(double(want[i])));
    max_diff = std::max(max_diff, std::abs(double(got[i]) - want[i]));
  }
  INFO("max |diff| = " << max_diff << ", max |logit| = " << max_abs);
  REQUIRE(max_diff <= rel_tol * max_abs);
}

const std::vector<std::int32_t> kPrompt = {3, 17, 42, 5, 63, 0, 28, 11, 9};

TEST_CASE("CPU forward matches the plain reference for every model variant", "[forward]") {
  struct Variant {
    const char* name;
    RandomModelOptions options;
    double tol;
    bool int8_activations = false;  // F32 activations: the reference's arithmetic
  };
  std::vector<Variant> variants;
  variants.push_back({"f32 GQA", {}, 1e-5});
  RandomModelOptions o;
  o.qkv_bias = true;
  o.tied = true;
  variants.push_back({"f32 qwen2 biases, tied", o, 1e-5});
  o = {};
  o.rope_style = kmath::RopeStyle::kInterleaved;
  o.kv_heads = 4;
  variants.push_back({"f32 interleaved rope, MHA", o, 1e-5});
  o = {};
  o.matrix_type = DType::kF16;
  variants.push_back({"f16", o, 1e-5});
  o.matrix_type = DType::kBF16;
  variants.push_back({"bf16", o, 1e-5});
  o.matrix_type = DType::kQ8_0;
  variants.push_back({"q8_0", o, 1e-5});
  // Activations rounded to Q8_0 before every Q8_0 product, in the reference too.
  variants.push_back({"q8_0 int8 activations", o, 1e-5, true});
  for (const Variant& variant : variants) {
    SECTION(variant.name) {
      auto weights = MakeRandomModel(variant.options);
      const auto want = ReferenceForward(*weights, kPrompt, variant.int8_activations);
      for (bool blas : {true, false}) {  // prefill products by OpenBLAS (where built in) and by own kernels
        auto backend = CpuBackend::Create(
            weights, {.threads = 2, .use_blas = blas, .int8_activations = variant.int8_activations});
        REQUIRE(backend.ok());
        auto cache = (*backend)->NewSequence(32, nullptr);
        REQUIRE(cache.ok());
        std::vector<float> logits;
        SequenceStep step{cache->get(), kPrompt};
        REQUIRE((*backend)->Forward({&step, 1}, LogitsMode::kAll, &logits).ok());
        REQUIRE(logits.size() == kPrompt.size() * 64);
        for (std::size_t t = 0; t < kPrompt.size(); ++t) RequireClose(logits.data() + t * 64, want[t], variant.tol);
        REQUIRE((*cache)->length() == static_cast<std::int64_t>(kPrompt.size()));
      }
    }
  }
}

TEST_CASE("Prefill at once equals token-by-token decode", "[forward]") {
  RandomModelOptions o;
  // F16: both the widened-row and the direct product; Q8_0: the int8 product for 1 and 9 tokens.
  o.matrix_type = GENERATE(DType::kF16, DType::kQ8_0);
  INFO(DTypeName(o.matrix_type));
  auto backend = *CpuBackend::Create(MakeRandomModel(o), {.threads = 2});
  auto a = *backend->NewSequence(16, nullptr);
  auto b = *backend->NewSequence(16, nullptr);
  std::vector<float> all, one;
  SequenceStep step{a.get(), kPrompt};
  REQUIRE(backend->Forward({&step, 1}, LogitsMode::kLast, &all).ok());
  for (std::int32_t token : kPrompt) {
    SequenceStep s{b.get(), std::span<const std::int32_t>(&token, 1)};
    REQUIRE(backend->Forward({&s, 1}, LogitsMode::kLast, &one).ok());
  }
  REQUIRE(all.size() == one.size());
  for (std::size_t i = 0; i < all.size(); ++i) REQUIRE(all[i] == Approx(one[i]).margin(1e-4));
}

TEST_CASE("A prompt of several attention blocks and token tiles matches the plain reference", "[forward]") {
  RandomModelOptions o;
  o.matrix_type = DType::kF16;
  auto weights = MakeRandomModel(o);
  std::vector<std::int32_t> prompt;
  for (int i = 0; i < 45; ++i) prompt.push_back((i * 37 + 5) % 64);  // 45 = 32 + 13 queries
  const auto want = ReferenceForward(*weights, prompt);
  auto backend = *CpuBackend::Create(weights, {.threads = 2});
  auto cache = *backend->NewSequence(64, nullptr);
  SequenceStep step{cache.get(), prompt};
  std::vector<float> logits;
  REQUIRE(backend->Forward({&step, 1}, LogitsMode::kAll, &logits).ok());
  for (std::size_t t = 0; t < prompt.size(); ++t) RequireClose(logits.data() + t * 64, want[t], 1e-5);
}

TEST_CASE("Sequences in one batch give the same logits as alone", "[forward]") {
  auto backend = *CpuBackend::Create(MakeRandomModel({}), {.threads = 2});
  const std::vector<std::int32_t> p1 = {1, 2, 3}, p2 = {7, 8, 9, 10, 11};
  auto a = *backend->NewSequence(16, nullptr);
  auto b = *backend->NewSequence(16, nullptr);
  SequenceStep steps[] = {{a.get(), p1}, {b.get(), p2}};
  std::vector<float> batched;
  REQUIRE(backend->Forward(steps, LogitsMode::kLast, &batched).ok());
  REQUIRE(batched.size() == 2 * 64);
  for (int i = 0; i < 2; ++i) {
    auto c = *backend->NewSequence(16, nullptr);
    SequenceStep alone{c.get(), i == 0 ? p1 : p2};
    std::vector<float> logits;
    REQUIRE(backend->Forward({&alone, 1}, LogitsMode::kLast, &logits).ok());
    for (std::size_t j = 0; j < 64; ++j) REQUIRE(batched[i * 64 + j] == Approx(logits[j]).margin(1e-5));
  }
}

TEST_CASE("Forward rejects bad steps and leaves caches unchanged", "[forward]") {
  auto backend = *CpuBackend::Create(MakeRandomModel({}), {.threads = 1});
  auto other = *CpuBackend::Create(MakeRandomModel({}), {.threads = 1});
  auto cache = *backend->NewSequence(4, nullptr);
  auto foreign = *other->NewSequence(4, nullptr);
  std::vector<float> logits;
  const std::vector<std::int32_t> bad_id = {1, 64}, too_long = {1, 2, 3, 4, 5}, ok = {1};
  SequenceStep s1{cache.get(), bad_id};
  CHECK(backend->Forward({&s1, 1}, LogitsMode::kLast, &logits).code() == absl::StatusCode::kInvalidArgument);
  SequenceStep s2{cache.get(), too_long};
  CHECK(backend->Forward({&s2, 1}, LogitsMode::kLast, &logits).code() == absl::StatusCode::kOutOfRange);
  SequenceStep s3{foreign.get(), ok};
  CHECK(backend->Forward({&s3, 1}, LogitsMode::kLast, &logits).code() == absl::StatusCode::kInvalidArgument);
  SequenceStep twice[] = {{cache.get(), ok}, {cache.get(), ok}};
  CHECK(backend->Forward(twice, LogitsMode::kLast, &logits).code() == absl::StatusCode::kInvalidArgument);
  CHECK(cache->length() == 0);
  CHECK(backend->NewSequence(65, nullptr).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Weights that disagree with the shape are refused", "[forward]") {
  auto weights = MakeRandomModel({});
  weights->layers[1].wk.rows = 8;
  auto backend = CpuBackend::Create(weights, {});
  REQUIRE(backend.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(backend.status().message()).find("layer 1 k") != std::string::npos);
}

}  // namespace
}  // namespace cace

namespace cace {
namespace {

TEST_CASE("DotRow of every stored type equals the dot of the widened row", "[forward][matmul]") {
  for (DType type : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0}) {
    RandomModelOptions o;
    o.matrix_type = type;
    o.dim = 96;  // not a multiple of 64: exercises the vector loops' tails
    o.heads = 3;
    o.kv_heads = 3;
    auto weights = MakeRandomModel(o);
    const WeightMatrix& m = weights->layers[0].w_gate;  // [96 wide]
    std::vector<float> x(static_cast<std::size_t>(m.cols)), row(static_cast<std::size_t>(m.cols));
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37f * static_cast<float>(i));
    for (std::int64_t r = 0; r < m.rows; ++r) {
      DequantizeRow(m, r, row.data());
      double want = 0;
      for (std::size_t i = 0; i < x.size(); ++i) want += double(row[i]) * x[i];
      REQUIRE(DotRow(m, r, x.data()) == Approx(want).margin(1e-5));
    }
  }
}

}  // namespace
}  // namespace cace
