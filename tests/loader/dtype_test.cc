#include "lib/loader/dtype.h"

#include <catch2/catch.hpp>

namespace cace {
namespace {

TEST_CASE("dtype facts and ggml type ids") {
  CHECK(DTypeFromGgmlType(0) == DType::kF32);
  CHECK(DTypeFromGgmlType(1) == DType::kF16);
  CHECK(DTypeFromGgmlType(2) == DType::kQ4_0);
  CHECK(DTypeFromGgmlType(3) == DType::kQ4_1);
  CHECK(DTypeFromGgmlType(8) == DType::kQ8_0);
  CHECK(DTypeFromGgmlType(12) == DType::kQ4_K);
  CHECK(DTypeFromGgmlType(14) == DType::kQ6_K);
  CHECK(DTypeFromGgmlType(30) == DType::kBF16);
  CHECK_FALSE(DTypeFromGgmlType(6).has_value());  // Q5_0: not loaded by cace
  CHECK_FALSE(DTypeFromGgmlType(999).has_value());
  CHECK(DTypeFromSafetensorsName("BF16") == DType::kBF16);
  CHECK_FALSE(DTypeFromSafetensorsName("Q4_K").has_value());
  CHECK_FALSE(DTypeFromSafetensorsName("F8_E4M3").has_value());
  CHECK(DTypeBlockBytes(DType::kQ4_K) == 144);
  CHECK(DTypeBlockBytes(DType::kQ6_K) == 210);
}

TEST_CASE("tensor bytes: blocks, divisibility, overflow") {
  const std::int64_t matrix[] = {4, 256};
  CHECK(*TensorBytes(DType::kF16, matrix) == 2048);
  CHECK(*TensorBytes(DType::kQ4_K, matrix) == 4 * 144);
  CHECK(*TensorBytes(DType::kQ8_0, matrix) == 4 * 8 * 34);
  const std::int64_t ragged[] = {4, 100};
  CHECK(absl::IsInvalidArgument(TensorBytes(DType::kQ8_0, ragged).status()));
  const std::int64_t huge[] = {INT64_MAX, INT64_MAX};
  auto overflow = TensorBytes(DType::kF32, huge);
  REQUIRE_FALSE(overflow.ok());
  CHECK(std::string(overflow.status().message()).find("overflows") != std::string::npos);
  const std::int64_t almost[] = {std::int64_t{1} << 62};
  CHECK_FALSE(TensorBytes(DType::kF32, almost).ok());  // 2^62 elements x 4 bytes
  const std::int64_t negative[] = {-1};
  CHECK_FALSE(TensorBytes(DType::kF32, negative).ok());
  CHECK(*TensorBytes(DType::kF32, {}) == 4);  // a scalar
}

}  // namespace
}  // namespace cace
