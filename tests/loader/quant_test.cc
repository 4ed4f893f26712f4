#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <vector>

#include "lib/loader/dequantize.h"
#include "lib/loader/quant_blocks.h"
#include "lib/loader/quantize.h"

namespace cace {
namespace {

using quant::Bf16ToFloat;
using quant::HalfToFloat;

std::vector<std::uint8_t> Block(std::size_t n) { return std::vector<std::uint8_t>(n, 0); }

TEST_CASE("half and bfloat16 conversions are exact") {
  CHECK(HalfToFloat(0x3C00) == 1.0f);
  CHECK(HalfToFloat(0xC000) == -2.0f);
  CHECK(HalfToFloat(0x7BFF) == 65504.0f);
  CHECK(HalfToFloat(0x0001) == std::ldexp(1.0f, -24));  // smallest subnormal
  CHECK(HalfToFloat(0x03FF) == std::ldexp(1023.0f, -24));
  CHECK(std::isinf(HalfToFloat(0x7C00)));
  CHECK(std::isnan(HalfToFloat(0x7E00)));
  CHECK(std::signbit(HalfToFloat(0x8000)));
  CHECK(Bf16ToFloat(0x3F80) == 1.0f);
  CHECK(Bf16ToFloat(0xC0A0) == -5.0f);
  // Every finite half survives float and back.
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7C00) == 0x7C00) continue;
    REQUIRE(quant::FloatToHalf(HalfToFloat(static_cast<std::uint16_t>(h))) == h);
  }
  CHECK(quant::FloatToHalf(1e6f) == 0x7C00);
  CHECK(quant::FloatToBf16(1.0f) == 0x3F80);
  CHECK(quant::FloatToBf16(1.00390625f) == 0x3F80);  // halfway: rounds to even
}

TEST_CASE("Q8_0 hand-computed block") {
  auto b = Block(34);
  b[0] = 0x00, b[1] = 0x38;  // d = 0.5
  b[2] = static_cast<std::uint8_t>(-4);
  b[3] = 1;
  b[33] = 127;
  float out[32];
  quant::DequantizeQ8_0(b.data(), out);
  CHECK(out[0] == -2.0f);
  CHECK(out[1] == 0.5f);
  CHECK(out[2] == 0.0f);
  CHECK(out[31] == 63.5f);
}

TEST_CASE("Q4_0 hand-computed block") {
  auto b = Block(18);
  b[1] = 0x40;  // d = 2
  b[2] = 0x9F;  // low nibble 15 -> value 0, high nibble 9 -> value 16
  float out[32];
  quant::DequantizeQ4_0(b.data(), out);
  CHECK(out[0] == 14.0f);   // (15 - 8) * 2
  CHECK(out[16] == 2.0f);   // (9 - 8) * 2
  CHECK(out[1] == -16.0f);  // (0 - 8) * 2
}

TEST_CASE("Q4_1 hand-computed block") {
  auto b = Block(20);
  b[1] = 0x38;  // d = 0.5
  b[3] = 0xBC;  // m = -1
  b[4] = 0x21;
  float out[32];
  quant::DequantizeQ4_1(b.data(), out);
  CHECK(out[0] == -0.5f);  // 1 * 0.5 - 1
  CHECK(out[16] == 0.0f);  // 2 * 0.5 - 1
  CHECK(out[1] == -1.0f);
}

TEST_CASE("Q4_K hand-computed block, including the 6-bit scale packing") {
  auto b = Block(144);
  b[1] = 0x3C;  // d = 1
  b[3] = 0x38;  // dmin = 0.5
  std::uint8_t* scales = b.data() + 4;
  scales[0] = 3 | 0x40;  // sub-block 0 scale 3; top bits give sub-block 4's scale its bit 4
  scales[4] = 2;         // sub-block 0 min 2
  scales[1] = 5;         // sub-block 1 scale 5
  scales[5] = 1;         // sub-block 1 min 1
  scales[8] = 0x37;      // sub-block 4: scale low nibble 7, min low nibble 3
  std::uint8_t* q = b.data() + 16;
  q[0] = 0x21;   // value 0: nibble 1 (sub-block 0); value 32: nibble 2 (sub-block 1)
  q[64] = 0x0A;  // value 128: nibble 10 (sub-block 4)
  float out[256];
  quant::DequantizeQ4_K(b.data(), out);
  CHECK(out[0] == 2.0f);     // 1*3*1 - 0.5*2
  CHECK(out[1] == -1.0f);    // 1*3*0 - 0.5*2
  CHECK(out[32] == 9.5f);    // 1*5*2 - 0.5*1
  CHECK(out[128] == 228.5f); // 1*(7 + 16)*10 - 0.5*3
}

TEST_CASE("Q6_K hand-computed block") {
  auto b = Block(210);
  b[0] = 0x5A;    // ql[0]: low 10 (value 0), high 5 (value 64)
  b[32] = 0x3C;   // ql[32]: low 12 (value 32), high 3 (value 96)
  b[128] = 0xE4;  // qh[0]: 2-bit highs 0, 1, 2, 3 for values 0, 32, 64, 96
  auto* sc = reinterpret_cast<std::int8_t*>(b.data() + 192);
  sc[0] = 2;
  sc[2] = -1;
  sc[4] = 3;
  sc[6] = 1;
  b[209] = 0x38;  // d = 0.5
  float out[256];
  quant::DequantizeQ6_K(b.data(), out);
  CHECK(out[0] == -22.0f);  // 0.5 * 2 * (10 - 32)
  CHECK(out[1] == -32.0f);  // 0.5 * 2 * (0 - 32)
  CHECK(out[32] == 2.0f);   // 0.5 * -1 * (28 - 32)
  CHECK(out[64] == 7.5f);   // 0.5 * 3 * (37 - 32)
  CHECK(out[96] == 9.5f);   // 0.5 * 1 * (51 - 32)
  CHECK(out[128] == 0.0f);  // second half: scale 0
}

TEST_CASE("quantize then dequantize stays within each format's step") {
  std::vector<float> x(512);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(static_cast<float>(i) * 0.37f) * 3.0f;
  struct Case {
    DType dtype;
    // A bound on the error for values within [-3, 3]; Q4_0 maps the extreme of one sign to -8, so the
    // other sign's extreme can be off by one whole step.
    float tolerance;
  };
  for (const Case& c : {Case{DType::kF32, 0.0f}, Case{DType::kF16, 2e-3f}, Case{DType::kBF16, 2e-2f},
                        Case{DType::kQ8_0, 0.02f}, Case{DType::kQ4_0, 0.4f}, Case{DType::kQ4_1, 0.25f},
                        Case{DType::kQ4_K, 0.35f}, Case{DType::kQ6_K, 0.08f}}) {
    INFO(DTypeName(c.dtype));
    auto bytes = QuantizeFromF32(c.dtype, x);
    REQUIRE(bytes.ok());
    std::vector<float> back(x.size());
    REQUIRE(DequantizeToF32(c.dtype, *bytes, back).ok());
    float worst = 0;
    for (std::size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::fabs(back[i] - x[i]));
    CHECK(worst <= c.tolerance);
  }
}

TEST_CASE("dequantize refuses sizes that are not whole blocks") {
  std::vector<std::byte> bytes(34);
  std::vector<float> out(31);
  CHECK(absl::IsInvalidArgument(DequantizeToF32(DType::kQ8_0, bytes, out)));
  std::vector<float> out32(32);
  CHECK(absl::IsInvalidArgument(DequantizeToF32(DType::kQ8_0, std::span(bytes).first(33), out32)));
  CHECK(DequantizeToF32(DType::kQ8_0, bytes, out32).ok());
}

}  // namespace
}  // namespace cace
