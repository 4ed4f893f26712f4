// The CPU backend's vector kernels (cpu_gemm.h, cpu_attention.h) against the plain reference
// (DotRow, DequantizeRow, kmath's online softmax), for every vector set this processor runs, every
// stored type, and sizes that leave tails everywhere (rows not a multiple of the row group, tokens
// not a multiple of the register tile, columns not a multiple of the vector width).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "lib/loader/quantize.h"
#include "lib/runtime/aligned_vector.h"
#include "lib/runtime/cpu_attention.h"
#include "lib/runtime/cpu_features.h"
#include "lib/runtime/cpu_gemm.h"
#include "lib/runtime/cpu_gemm_int8.h"
#include "lib/runtime/cpu_gemm_q4_k_int8.h"
#include "lib/runtime/cpu_gemm_q6_k_int8.h"
#include "lib/runtime/cpu_matmul.h"
#include "lib/runtime/kernels_math.h"
#include "lib/runtime/thread_pool.h"

namespace cace {
namespace {

std::vector<float> Random(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

std::vector<CpuIsa> IsasHere() {
  std::vector<CpuIsa> isas;
  for (int i = 0; i <= static_cast<int>(DetectedCpuIsa()); ++i) isas.push_back(static_cast<CpuIsa>(i));
  return isas;
}

struct Matrix {
  std::vector<std::byte> bytes;
  WeightMatrix w;
};

Matrix MakeMatrix(DType type, std::int64_t rows, std::int64_t cols) {
  Matrix m;
  m.bytes = *QuantizeFromF32(type, Random(static_cast<std::size_t>(rows * cols), 7));
  m.w = {type, m.bytes.data(), rows, cols};
  return m;
}

TEST_CASE("GemmRows equals DotRow for every vector set, stored type and tail", "[cpu_kernels]") {
  struct Case {
    DType type;
    std::int64_t cols;
  };
  // 100 = 6 x 16 + 4 (a tail after the AVX-512 and AVX2 loops); quantized types need whole blocks.
  const Case cases[] = {{DType::kF32, 100}, {DType::kF16, 100}, {DType::kBF16, 100}, {DType::kQ8_0, 96},
                        {DType::kQ4_K, 512}, {DType::kQ6_K, 512}};
  // 85 rows in ranges of 68 and 17: the prefill panels (64 rows on AVX-512, 16 on AVX2) whole and
  // cut short.
  constexpr std::int64_t kRows = 85;
  for (const Case& c : cases) {
    const Matrix m = MakeMatrix(c.type, kRows, c.cols);
    // 16 / 17 and 32 / 33: either side of where AVX-512 stops reading F32 and F16 rows as stored.
    for (std::int64_t tokens : {1, 2, 5, 6, 7, 13, 16, 17, 32, 33, 40}) {
      const std::vector<float> x = Random(static_cast<std::size_t>(tokens * c.cols), 11);
      std::vector<float> want(static_cast<std::size_t>(tokens * kRows));
      double max_abs = 0;
      for (std::int64_t t = 0; t < tokens; ++t) {
        for (std::int64_t r = 0; r < kRows; ++r) {
          want[static_cast<std::size_t>(t * kRows + r)] = DotRow(m.w, r, x.data() + t * c.cols);
          max_abs = std::max(max_abs, std::abs(double(want[static_cast<std::size_t>(t * kRows + r)])));
        }
      }
      for (CpuIsa isa : IsasHere()) {
        INFO(DTypeName(c.type) << " tokens " << tokens << " " << CpuIsaName(isa));
        AlignedVector<float> scratch(GemmScratchFloats(m.w));
        std::vector<float> y(want.size(), -1.0f);
        // Two ranges, the second starting mid-matrix, as the thread pool splits the rows.
        GemmRows(isa, m.w, x.data(), tokens, y.data(), kRows, 0, 68, scratch.data());
        GemmRows(isa, m.w, x.data(), tokens, y.data(), kRows, 68, kRows, scratch.data());
        for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(y[i] == Approx(want[i]).margin(1e-5 * max_abs));
      }
    }
  }
}

// kmath's int8 row dot (Q8_0, Q4_K or Q6_K) of every row of w with every token of q, [tokens][rows];
// *max_abs the largest magnitude (the scale of the tolerance).
std::vector<float> Int8RowDots(const WeightMatrix& w, const Int8Activations& q, double* max_abs) {
  std::vector<float> dots(static_cast<std::size_t>(q.n_tokens() * w.rows));
  for (std::int64_t t = 0; t < q.n_tokens(); ++t) {
    for (std::int64_t r = 0; r < w.rows; ++r) {
      const std::uint8_t* row = reinterpret_cast<const std::uint8_t*>(w.Row(r));
      float& d = dots[static_cast<std::size_t>(t * w.rows + r)];
      if (w.dtype == DType::kQ8_0) {
        d = kmath::DotQ8_0Int8Row(row, q.values(t), q.scales(t), q.blocks());
      } else {
        d = 0;
        for (std::int64_t b = 0; b < w.cols / quant::kQKValues; ++b) {  // eight activation blocks a K-quant block
          const std::int8_t* values = q.values(t) + b * quant::kQKValues;
          d += w.dtype == DType::kQ4_K
                   ? kmath::DotQ4_KInt8Block(row + b * quant::kQ4_KBlockBytes, values, q.scales(t) + 8 * b, q.sums(t) + 8 * b)
                   : kmath::DotQ6_KInt8Block(row + b * quant::kQ6_KBlockBytes, values, q.scales(t) + 8 * b);
        }
      }
      *max_abs = std::max(*max_abs, std::abs(double(d)));
    }
  }
  return dots;
}

TEST_CASE("GemmRowsInt8, GemmRowsQ4_KInt8 and GemmRowsQ6_KInt8, and GemmRows on RoundToQ8_0, equal kmath's int8 row dots for every vector set and tail", "[cpu_kernels]") {
  struct Case {
    DType type;
    std::int64_t cols;
  };
  // Q8_0: 96 = 3 blocks (an odd block after the VNNI kernel's pairs), 128 = 4; K-quants: 1 and 3 blocks.
  const Case cases[] = {{DType::kQ8_0, 96},  {DType::kQ8_0, 128}, {DType::kQ4_K, 256},
                        {DType::kQ4_K, 768}, {DType::kQ6_K, 256}, {DType::kQ6_K, 768}};
  constexpr std::int64_t kRows = 13;
  for (const Case& c : cases) {
    const Matrix m = MakeMatrix(c.type, kRows, c.cols);
    for (std::int64_t tokens : {1, 2, 3, 4, 5, 7, 13, 40}) {
      const std::vector<float> x = Random(static_cast<std::size_t>(tokens * c.cols), 11);
      Int8Activations q;
      q.Resize(tokens, static_cast<int>(c.cols));
      q.Quantize(x.data(), 0, tokens / 2);  // in two ranges, as the thread pool splits the tokens
      q.Quantize(x.data(), tokens / 2, tokens);
      double max_abs = 0;
      const std::vector<float> want = Int8RowDots(m.w, q, &max_abs);
      for (CpuIsa isa : IsasHere()) {
        INFO(DTypeName(c.type) << " cols " << c.cols << " tokens " << tokens << " " << CpuIsaName(isa));
        std::vector<float> y(want.size(), -1.0f);
        for (auto [begin, end] : {std::pair<std::int64_t, std::int64_t>{0, 8}, {8, kRows}}) {
          if (c.type == DType::kQ8_0) {
            GemmRowsInt8(isa, m.w, q, y.data(), kRows, begin, end);
          } else if (c.type == DType::kQ4_K) {
            GemmRowsQ4_KInt8(isa, m.w, q, y.data(), kRows, begin, end);
          } else {
            GemmRowsQ6_KInt8(isa, m.w, q, y.data(), kRows, begin, end);
          }
        }
        for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(y[i] == Approx(want[i]).margin(1e-5 * max_abs));
        // The same activations rounded in F32 and multiplied by GemmRows (the path of many tokens
        // where the panels do not run): Q8_0's rounding, one block a Q4_K sub-block.
        std::vector<float> rounded(x.size());
        RoundToQ8_0(x.data(), static_cast<int>(c.cols), 0, tokens, rounded.data());
        AlignedVector<float> scratch(GemmScratchFloats(m.w));
        GemmRows(isa, m.w, rounded.data(), tokens, y.data(), kRows, 0, kRows, scratch.data());
        for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(y[i] == Approx(want[i]).margin(1e-5 * max_abs));
      }
    }
  }
}

TEST_CASE("GemmPanelsInt8 equals kmath's int8 row dot for every vector set, token tile and row tail", "[cpu_kernels]") {
  // 37 rows = two panels of 16 and one of 5; the thread pool's ranges start at multiples of 16.
  constexpr std::int64_t kRows = 37;
  struct Case {
    std::int64_t cols;
    std::vector<std::int64_t> tokens;
  };
  // Token counts: within one tile, one past a tile (9), 2 tiles + 3; 4096 columns make tiles of
  // 40 KiB, so 300 tokens span two token blocks (each panel repacked twice).
  const Case cases[] = {{96, {1, 2, 3, 4, 5, 6, 7, 8, 9, 19}}, {128, {9, 16, 19}}, {4096, {300}}};
  for (const Case& c : cases) {
    const Matrix m = MakeMatrix(DType::kQ8_0, kRows, c.cols);
    for (std::int64_t tokens : c.tokens) {
      const std::vector<float> x = Random(static_cast<std::size_t>(tokens * c.cols), 11);
      Int8Activations q;
      q.Resize(tokens, static_cast<int>(c.cols));
      q.Quantize(x.data(), 0, tokens);
      Int8TokenTiles tiles;
      tiles.Resize(tokens, static_cast<int>(c.cols));
      tiles.Quantize(x.data(), 0, tokens / 2);  // in two ranges, as the thread pool splits the tokens
      tiles.Quantize(x.data(), tokens / 2, tokens);
      double max_abs = 0;
      const std::vector<float> want = Int8RowDots(m.w, q, &max_abs);
      for (CpuIsa isa : IsasHere()) {
        INFO("cols " << c.cols << " tokens " << tokens << " " << CpuIsaName(isa));
        AlignedVector<float> scratch(Int8PanelScratchFloats(m.w));
        std::vector<float> y(want.size(), -1.0f);
        GemmPanelsInt8(isa, m.w, tiles, y.data(), kRows, 0, 16, scratch.data());
        GemmPanelsInt8(isa, m.w, tiles, y.data(), kRows, 16, kRows, scratch.data());
        for (std::size_t i = 0; i < y.size(); ++i) REQUIRE(y[i] == Approx(want[i]).margin(1e-5 * max_abs));
      }
    }
  }
}

TEST_CASE("Int8 activations stay within their rounding bound of DotRow", "[cpu_kernels]") {
  // Each activation is off by at most half its block's step dx, so a product is off by at most
  // sum over blocks of dx / 2 * sum |w| (plus the F32 rounding of the sums).
  constexpr std::int64_t kRows = 9, kCols = 256, kTokens = 3;
  const Matrix m = MakeMatrix(DType::kQ8_0, kRows, kCols);
  const std::vector<float> x = Random(static_cast<std::size_t>(kTokens * kCols), 5);
  Int8Activations q;
  q.Resize(kTokens, kCols);
  q.Quantize(x.data(), 0, kTokens);
  std::vector<float> y(static_cast<std::size_t>(kTokens * kRows));
  GemmRowsInt8(DetectedCpuIsa(), m.w, q, y.data(), kRows, 0, kRows);
  std::vector<float> w(kCols);
  for (std::int64_t r = 0; r < kRows; ++r) {
    DequantizeRow(m.w, r, w.data());
    for (std::int64_t t = 0; t < kTokens; ++t) {
      double bound = 0, magnitude = 0;
      for (int c = 0; c < kCols; ++c) {
        bound += 0.5 * q.scales(t)[c / 32] * std::abs(double(w[c]));
        magnitude += std::abs(double(w[c]) * x[t * kCols + c]);
      }
      const double want = DotRow(m.w, r, x.data() + t * kCols);
      INFO("row " << r << " token " << t << " bound " << bound);
      REQUIRE(std::abs(y[t * kRows + r] - want) <= bound + 1e-5 * magnitude);
    }
  }
}

TEST_CASE("MultiplyShared gives exactly what one Multiply per matrix gives", "[cpu_kernels]") {
  // Row counts that are not multiples of the row group, so the one range over all the matrices
  // cuts groups at their seams; token counts for decode (one pass) and prefill (one product each).
  struct Set {
    const char* name;
    std::vector<std::pair<DType, std::int64_t>> matrices;  // type and rows
    std::int64_t cols;
  };
  const Set sets[] = {
      {"f16 q k v", {{DType::kF16, 37}, {DType::kF16, 13}, {DType::kF16, 13}}, 100},
      {"q4_k and q6_k in one pass", {{DType::kQ4_K, 13}, {DType::kQ6_K, 9}, {DType::kQ4_K, 6}}, 512},
      {"q8_0 beside f32: different kernels", {{DType::kQ8_0, 21}, {DType::kF32, 11}}, 96},
  };
  ThreadPool pool(2);
  for (const Set& set : sets) {
    std::vector<Matrix> matrices;
    for (const auto& [type, rows] : set.matrices) matrices.push_back(MakeMatrix(type, rows, set.cols));
    for (bool int8 : {false, true}) {
      CpuMatmul matmul(&pool, /*use_blas=*/false, int8);
      for (std::int64_t tokens : {1, 3, 8, 20}) {
        INFO(set.name << (int8 ? ", int8 activations" : "") << ", tokens " << tokens);
        const std::vector<float> x = Random(static_cast<std::size_t>(tokens * set.cols), 5);
        std::vector<std::vector<float>> want, got;
        std::vector<MatmulOutput> outputs;
        for (const Matrix& m : matrices) {
          want.emplace_back(static_cast<std::size_t>(tokens * m.w.rows), -1.0f);
          got.emplace_back(static_cast<std::size_t>(tokens * m.w.rows), -2.0f);
          matmul.Multiply(m.w, x.data(), tokens, want.back().data());
        }
        for (std::size_t i = 0; i < matrices.size(); ++i) outputs.push_back({&matrices[i].w, got[i].data()});
        matmul.MultiplyShared(outputs, x.data(), tokens);
        for (std::size_t i = 0; i < matrices.size(); ++i) REQUIRE(got[i] == want[i]);
      }
    }
  }
}

TEST_CASE("WidenRow gives exactly DequantizeRow's values", "[cpu_kernels]") {
  for (DType type : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_K, DType::kQ6_K}) {
    // Whole blocks of the quantized types; 300 leaves a tail after 8- and 16-lane loops.
    const std::int64_t cols = type == DType::kQ4_K || type == DType::kQ6_K ? 512 : type == DType::kQ8_0 ? 288 : 300;
    const Matrix m = MakeMatrix(type, 3, cols);
    std::vector<float> want(static_cast<std::size_t>(cols)), got(static_cast<std::size_t>(cols));
    for (CpuIsa isa : IsasHere()) {
      for (std::int64_t r = 0; r < 3; ++r) {
        DequantizeRow(m.w, r, want.data());
        WidenRow(isa, m.w, r, got.data());
        INFO(DTypeName(type) << " " << CpuIsaName(isa));
        REQUIRE(got == want);
      }
    }
  }
}

TEST_CASE("DotProducts equals the plain dot of every pair", "[cpu_kernels]") {
  // k = 70 and 9 rows of a: the 4-row tiles with tails; k = 32, 64 and 128 with 3 rows: the lane
  // kernel of few rows (4 and 8 vectors a row on AVX-512 and AVX2), 37 rows of b a tail of lanes.
  struct Case {
    int k;
    std::int64_t n_a, n_b;
  };
  for (const Case& cs : {Case{70, 9, 11}, Case{32, 3, 37}, Case{64, 3, 37}, Case{128, 3, 37}}) {
    const int k = cs.k;
    const std::int64_t n_a = cs.n_a, n_b = cs.n_b, lda = k + 5, ldb = k + 10, ldc = n_b + 2;
    const std::vector<float> a = Random(static_cast<std::size_t>(n_a * lda), 3), b = Random(static_cast<std::size_t>(n_b * ldb), 4);
    for (CpuIsa isa : IsasHere()) {
      std::vector<float> c(static_cast<std::size_t>(n_a * ldc), 0.0f);
      DotProducts(isa, a.data(), lda, n_a, b.data(), ldb, n_b, k, c.data(), ldc);
      for (std::int64_t i = 0; i < n_a; ++i) {
        for (std::int64_t j = 0; j < n_b; ++j) {
          INFO(CpuIsaName(isa) << " k " << k << " " << i << "," << j);
          REQUIRE(c[static_cast<std::size_t>(i * ldc + j)] ==
                  Approx(kmath::DotF32(a.data() + i * lda, b.data() + j * ldb, k)).margin(1e-5));
        }
      }
    }
  }
}

// The plain reference of attention: query q over positions 0..n_positions-1, kmath's online softmax.
std::vector<float> OnlineSoftmaxAttention(const float* q, const float* keys, const float* values, std::int64_t kv_stride,
                                          std::int64_t n_positions, int hd, float scale) {
  std::vector<float> out(static_cast<std::size_t>(hd), 0.0f);
  kmath::SoftmaxState state = kmath::SoftmaxInit();
  for (std::int64_t p = 0; p < n_positions; ++p) {
    float weight;
    const float score = kmath::DotF32(q, keys + p * kv_stride, hd) * scale;
    const float rescale = kmath::SoftmaxPush(&state, score, &weight);
    kmath::AttendAccumulate(out.data(), values + p * kv_stride, hd, rescale, weight);
  }
  kmath::AttendFinish(out.data(), hd, state);
  return out;
}

TEST_CASE("AttendRun equals the online softmax of every token over the positions it sees", "[cpu_kernels]") {
  const int hd = 24;
  const std::int64_t kv_stride = 2 * hd, q_stride = 3 * hd, first_pos = 5, n_tokens = 19;
  const std::int64_t positions = first_pos + n_tokens;
  const std::vector<float> keys = Random(static_cast<std::size_t>(positions * kv_stride), 5);
  const std::vector<float> values = Random(static_cast<std::size_t>(positions * kv_stride), 6);
  const std::vector<float> q = Random(static_cast<std::size_t>(n_tokens * q_stride), 8);
  const float scale = 0.4f;
  for (CpuIsa isa : IsasHere()) {
    std::vector<float> out(static_cast<std::size_t>(n_tokens * q_stride), 0.0f);
    AlignedVector<float> scratch(AttentionScratchFloats(positions));
    const AttentionRun run{.q = q.data(), .q_stride = q_stride, .keys = keys.data(), .values = values.data(),
                           .kv_stride = kv_stride, .first_pos = first_pos, .n_tokens = n_tokens, .out = out.data(),
                           .out_stride = q_stride};
    AttendRun(isa, run, hd, scale, scratch.data());
    for (std::int64_t i = 0; i < n_tokens; ++i) {
      const std::vector<float> want =
          OnlineSoftmaxAttention(q.data() + i * q_stride, keys.data(), values.data(), kv_stride, first_pos + i + 1, hd, scale);
      for (int d = 0; d < hd; ++d) {
        INFO(CpuIsaName(isa) << " token " << i << " dim " << d);
        REQUIRE(out[static_cast<std::size_t>(i * q_stride + d)] == Approx(want[static_cast<std::size_t>(d)]).margin(1e-5));
      }
    }
  }
}

TEST_CASE("AttendDecodeChunk over spans of the positions, merged, equals the online softmax of every query head", "[cpu_kernels]") {
  // 150 positions cross the chunk's blocks of 64; spans of 1 and of most positions, and spans of
  // some key/value heads; 37 query heads of one key/value head are more than a register tile or a
  // value tile holds.
  const int hd = 24;
  const std::int64_t positions = 150;
  struct Span {
    std::int64_t begin, end, kv_begin, kv_end;  // kv_end 0: every key/value head
  };
  const std::vector<std::vector<Span>> splits = {
      {{0, positions, 0, 0}}, {{0, 1, 0, 0}, {1, 70, 0, 0}, {70, positions, 0, 0}},
      {{0, positions, 0, 1}, {0, 70, 1, 0}, {70, positions, 1, 0}}};
  for (const auto& [n_heads, n_kv_heads] : {std::pair<std::int64_t, std::int64_t>{6, 2}, {37, 1}}) {
    const std::int64_t kv_stride = n_kv_heads * hd, group = n_heads / n_kv_heads;
    const std::vector<float> keys = Random(static_cast<std::size_t>(positions * kv_stride), 15);
    const std::vector<float> values = Random(static_cast<std::size_t>(positions * kv_stride), 16);
    const std::vector<float> q = Random(static_cast<std::size_t>(n_heads * hd), 18);
    const AttentionHeads heads{n_heads, n_kv_heads, hd, 0.3f};
    for (const auto& split : splits) {
      for (CpuIsa isa : IsasHere()) {
        std::vector<std::vector<float>> parts;
        std::vector<DecodeChunk> chunks;
        AlignedVector<float> scratch(DecodeChunkScratchFloats(positions, n_heads));
        for (const Span& span : split) {
          if (span.kv_begin >= n_kv_heads) continue;  // a split by key/value heads of a model with one
          parts.emplace_back(static_cast<std::size_t>(n_heads * (hd + 2)), -1.0f);
          float* part = parts.back().data();
          const std::int64_t kv_end = span.kv_end == 0 ? n_kv_heads : span.kv_end;
          chunks.push_back({q.data(), keys.data(), values.data(), kv_stride, span.begin, span.end, span.kv_begin, kv_end,
                            part, part + n_heads * hd, part + n_heads * (hd + 1)});
          AttendDecodeChunk(isa, chunks.back(), heads, scratch.data());
        }
        std::vector<float> out(static_cast<std::size_t>(n_heads * hd), 0.0f);
        MergeDecodeChunks(chunks, heads, out.data());
        for (std::int64_t h = 0; h < n_heads; ++h) {
          const std::int64_t kv = (h / group) * hd;
          const std::vector<float> want = OnlineSoftmaxAttention(q.data() + h * hd, keys.data() + kv, values.data() + kv,
                                                                 kv_stride, positions, hd, heads.scale);
          for (int d = 0; d < hd; ++d) {
            INFO(CpuIsaName(isa) << " heads " << n_heads << " spans " << split.size() << " head " << h << " dim " << d);
            REQUIRE(out[static_cast<std::size_t>(h * hd + d)] == Approx(want[static_cast<std::size_t>(d)]).margin(1e-5));
          }
        }
      }
    }
  }
}
}  // namespace
}  // namespace cace
