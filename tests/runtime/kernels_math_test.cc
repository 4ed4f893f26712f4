// Each kernel function of kernels_math.h (shared with the CUDA kernels) against a straightforward
// loop written here.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "lib/loader/quant_blocks.h"
#include "lib/runtime/kernels_math.h"

namespace cace {
namespace {

std::vector<float> RandomVector(std::size_t n, std::uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

double RefDot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += double(a[i]) * b[i];
  return s;
}

TEST_CASE("F32, F16 and BF16 dot products match a double loop", "[kernels]") {
  for (int n : {1, 7, 8, 9, 64, 1000}) {
    const auto w = RandomVector(n, 1), x = RandomVector(n, 2);
    std::vector<std::uint16_t> h(n), b(n);
    std::vector<float> wh(n), wb(n);
    for (int i = 0; i < n; ++i) {
      h[i] = quant::FloatToHalf(w[i]);
      b[i] = quant::FloatToBf16(w[i]);
      wh[i] = quant::HalfToFloat(h[i]);
      wb[i] = quant::Bf16ToFloat(b[i]);
    }
    CHECK(kmath::DotF32(w.data(), x.data(), n) == Approx(RefDot(w, x)).margin(1e-5));
    CHECK(kmath::DotF16(h.data(), x.data(), n) == Approx(RefDot(wh, x)).margin(1e-5));
    CHECK(kmath::DotBf16(b.data(), x.data(), n) == Approx(RefDot(wb, x)).margin(1e-5));
  }
}

TEST_CASE("Q8_0 block dot equals the dot of its dequantized values", "[kernels]") {
  std::mt19937 rng(3);
  std::vector<std::uint8_t> block(quant::kQ8_0BlockBytes);
  for (auto& byte : block) byte = static_cast<std::uint8_t>(rng());
  const std::uint16_t d = quant::FloatToHalf(0.0123f);
  std::memcpy(block.data(), &d, 2);
  std::vector<float> w(32);
  quant::DequantizeQ8_0(block.data(), w.data());
  const auto x = RandomVector(32, 4);
  CHECK(kmath::DotQ8_0Block(block.data(), x.data()) == Approx(RefDot(w, x)).margin(1e-5));
  // A row of blocks: the same as the blocks' sum.
  std::vector<std::uint8_t> row(5 * quant::kQ8_0BlockBytes);
  for (auto& byte : row) byte = static_cast<std::uint8_t>(rng());
  for (int b = 0; b < 5; ++b) std::memcpy(row.data() + b * quant::kQ8_0BlockBytes, &d, 2);
  const auto xr = RandomVector(5 * 32, 14);
  double want = 0;
  for (int b = 0; b < 5; ++b) want += kmath::DotQ8_0Block(row.data() + b * quant::kQ8_0BlockBytes, xr.data() + b * 32);
  CHECK(kmath::DotQ8_0Row(row.data(), xr.data(), 5) == Approx(want).margin(1e-5));
}

TEST_CASE("Q8_0 quantization of activations rounds each value to the nearest step of max|x| / 127", "[kernels]") {
  const auto x = RandomVector(32, 21, 3.0f);
  std::int8_t q[32];
  const float d = kmath::QuantizeQ8_0Block(x.data(), q);
  float amax = 0;
  for (float v : x) amax = std::max(amax, std::fabs(v));
  CHECK(d == amax / 127.0f);
  int largest = 0;
  for (int i = 0; i < 32; ++i) {
    CHECK(std::fabs(double(q[i]) * d - x[i]) <= 0.5 * d * (1 + 1e-6));
    largest = std::max(largest, std::abs(int(q[i])));
  }
  CHECK(largest == 127);
  const std::vector<float> zeros(32, 0.0f);
  CHECK(kmath::QuantizeQ8_0Block(zeros.data(), q) == 0.0f);
  for (int i = 0; i < 32; ++i) CHECK(q[i] == 0);
}

TEST_CASE("Q8_0 weight block times an int8 activation block is the exact integer sum times both scales", "[kernels]") {
  std::mt19937 rng(23);
  std::vector<std::uint8_t> row(3 * quant::kQ8_0BlockBytes);
  for (auto& byte : row) byte = static_cast<std::uint8_t>(rng());
  std::int8_t qx[96];
  float dx[3];
  double want_row = 0;
  for (int b = 0; b < 3; ++b) {
    std::uint8_t* block = row.data() + b * quant::kQ8_0BlockBytes;
    const std::uint16_t d = quant::FloatToHalf(0.01f * float(b + 1));
    std::memcpy(block, &d, 2);
    block[2] = 0x80;  // -128: the extreme the int8 kernels must take
    for (int i = 0; i < 32; ++i) qx[b * 32 + i] = static_cast<std::int8_t>(static_cast<int>(rng() % 255) - 127);
    dx[b] = 0.003f * float(b + 2);
    std::int64_t isum = 0;
    for (int i = 0; i < 32; ++i) isum += std::int64_t(static_cast<std::int8_t>(block[2 + i])) * qx[b * 32 + i];
    CHECK(kmath::DotInt8Block(reinterpret_cast<const std::int8_t*>(block + 2), qx + b * 32) == isum);
    const double want = double(quant::HalfToFloat(d)) * dx[b] * double(isum);
    CHECK(kmath::DotQ8_0Int8Block(block, qx + b * 32, dx[b]) == Approx(want).epsilon(1e-6));
    want_row += want;
  }
  CHECK(kmath::DotQ8_0Int8Row(row.data(), qx, dx, 3) == Approx(want_row).epsilon(1e-6));
}

TEST_CASE("Q4_K block dot equals the dot of its dequantized values", "[kernels]") {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<std::uint8_t> block(quant::kQ4_KBlockBytes);
    for (auto& byte : block) byte = static_cast<std::uint8_t>(rng());
    const std::uint16_t d = quant::FloatToHalf(0.01f), dmin = quant::FloatToHalf(0.004f);
    std::memcpy(block.data(), &d, 2);
    std::memcpy(block.data() + 2, &dmin, 2);
    std::vector<float> w(256);
    quant::DequantizeQ4_K(block.data(), w.data());
    const auto x = RandomVector(256, 100 + trial);
    CHECK(kmath::DotQ4_KBlock(block.data(), x.data()) == Approx(RefDot(w, x)).margin(1e-4));
  }
}

TEST_CASE("RMSNorm of a row matches its definition", "[kernels]") {
  const auto x = RandomVector(96, 6, 3.0f), weight = RandomVector(96, 7);
  std::vector<float> out(96);
  kmath::RmsNormRow(x.data(), weight.data(), 96, 1e-6f, out.data());
  double ss = 0;
  for (float v : x) ss += double(v) * v;
  const double inv = 1.0 / std::sqrt(ss / 96 + 1e-6);
  for (int i = 0; i < 96; ++i) CHECK(out[i] == Approx(x[i] * inv * weight[i]).margin(1e-6));
  // In place gives the same.
  std::vector<float> y = x;
  kmath::RmsNormRow(y.data(), weight.data(), 96, 1e-6f, y.data());
  CHECK(y == out);
}

TEST_CASE("Rotary embedding rotates the right pairs by pos * theta^(-2i/d)", "[kernels]") {
  const int hd = 16, pos = 37;
  const float theta = 10000.0f;
  std::vector<float> cos_v(hd / 2), sin_v(hd / 2);
  kmath::RopeTable(pos, hd, theta, cos_v.data(), sin_v.data());
  for (int p = 0; p < hd / 2; ++p) {
    const double angle = pos * std::pow(double(theta), -2.0 * p / hd);
    CHECK(cos_v[p] == Approx(std::cos(angle)).margin(1e-4));
    CHECK(sin_v[p] == Approx(std::sin(angle)).margin(1e-4));
  }
  for (auto style : {kmath::RopeStyle::kHalf, kmath::RopeStyle::kInterleaved}) {
    const auto x = RandomVector(hd, 8);
    std::vector<float> y = x;
    kmath::RopeHead(y.data(), hd, cos_v.data(), sin_v.data(), style);
    for (int p = 0; p < hd / 2; ++p) {
      const int i0 = style == kmath::RopeStyle::kHalf ? p : 2 * p;
      const int i1 = style == kmath::RopeStyle::kHalf ? p + hd / 2 : 2 * p + 1;
      CHECK(y[i0] == Approx(x[i0] * cos_v[p] - x[i1] * sin_v[p]).margin(1e-6));
      CHECK(y[i1] == Approx(x[i0] * sin_v[p] + x[i1] * cos_v[p]).margin(1e-6));
    }
  }
  // Position 0 is the identity.
  kmath::RopeTable(0, hd, theta, cos_v.data(), sin_v.data());
  const auto x = RandomVector(hd, 9);
  std::vector<float> y = x;
  kmath::RopeHead(y.data(), hd, cos_v.data(), sin_v.data(), kmath::RopeStyle::kHalf);
  CHECK(y == x);
}

TEST_CASE("Online softmax-weighted sum equals the two-pass one", "[kernels]") {
  const int n = 50, hd = 8;
  const auto scores = RandomVector(n, 10, 20.0f);  // wide range: exercises the rescaling
  const auto values = RandomVector(n * hd, 11);
  std::vector<float> acc(hd, 0.0f);
  kmath::SoftmaxState state = kmath::SoftmaxInit();
  for (int p = 0; p < n; ++p) {
    float weight;
    const float rescale = kmath::SoftmaxPush(&state, scores[p], &weight);
    kmath::AttendAccumulate(acc.data(), values.data() + p * hd, hd, rescale, weight);
  }
  kmath::AttendFinish(acc.data(), hd, state);
  std::vector<float> probs = scores;
  kmath::SoftmaxRow(probs.data(), n);
  double mx = -1e300, sum = 0;
  for (float s : scores) mx = std::max(mx, double(s));
  for (float s : scores) sum += std::exp(s - mx);
  for (int p = 0; p < n; ++p) CHECK(probs[p] == Approx(std::exp(scores[p] - mx) / sum).margin(1e-6));
  for (int i = 0; i < hd; ++i) {
    double want = 0;
    for (int p = 0; p < n; ++p) want += std::exp(scores[p] - mx) / sum * values[p * hd + i];
    CHECK(acc[i] == Approx(want).margin(1e-5));
  }
}

TEST_CASE("ExpPoly equals expf to a few ulp over the range a softmax uses", "[kernels]") {
  double worst = 0;
  for (int i = 0; i <= 200000; ++i) {
    const float x = -87.0f + 175.0f * static_cast<float>(i) / 200000.0f;
    const double want = std::exp(double(x));
    worst = std::max(worst, std::abs(double(kmath::ExpPoly(x)) - want) / want);
  }
  INFO("worst relative error " << worst);
  REQUIRE(worst < 5e-7);
  CHECK(kmath::ExpPoly(0.0f) == 1.0f);
  for (float beyond : {-INFINITY, -1000.0f, -88.0f}) {  // clamped: tiny, never negative or NaN
    CHECK(kmath::ExpPoly(beyond) >= 0.0f);
    CHECK(kmath::ExpPoly(beyond) < 2e-38f);
  }
  for (float beyond : {INFINITY, 1000.0f}) {  // clamped: huge and finite
    CHECK(std::isfinite(kmath::ExpPoly(beyond)));
    CHECK(kmath::ExpPoly(beyond) > 1e38f);
  }
}

TEST_CASE("SiLU-gated product and residual add", "[kernels]") {
  auto gate = RandomVector(20, 12, 6.0f);
  const auto up = RandomVector(20, 13), orig = gate;
  kmath::SiluMulRow(gate.data(), up.data(), 20);
  for (int i = 0; i < 20; ++i) CHECK(gate[i] == Approx(orig[i] / (1.0 + std::exp(-double(orig[i]))) * up[i]).margin(1e-6));
  std::vector<float> x = up;
  kmath::AddRow(x.data(), orig.data(), 20);
  for (int i = 0; i < 20; ++i) CHECK(x[i] == up[i] + orig[i]);
}

}  // namespace
}  // namespace cace
