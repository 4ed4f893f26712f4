// The CUDA backend against the CPU backend on the same tiny model (BF16 weights, so both read the
// same numbers; the GPU also rounds GEMM inputs to BF16, hence the looser tolerance). Without a
// CUDA device (or in a build without CUDA) the binary prints why and exits 77, which CTest reports
// as skipped.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "cace/device.h"
#include "cuda/cuda_backend.h"
#include "lib/runtime/cpu_backend.h"
#include "lib/runtime/generation.h"
#include "tests/runtime/random_model.h"

namespace cace {
namespace {

double RelativeError(const std::vector<float>& got, const std::vector<float>& want) {
  double max_ref = 0, max_diff = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    max_ref = std::max(max_ref, std::fabs(double(want[i])));
    max_diff = std::max(max_diff, std::fabs(double(got[i]) - double(want[i])));
  }
  return max_diff / max_ref;
}

std::vector<float> Logits(Backend& backend, const std::vector<std::vector<std::int32_t>>& prompts, LogitsMode mode) {
  std::vector<std::unique_ptr<KvCache>> caches;
  std::vector<SequenceStep> steps;
  for (const auto& p : prompts) {
    caches.push_back(*backend.NewSequence(32, nullptr));
    steps.push_back({caches.back().get(), p});
  }
  std::vector<float> logits;
  REQUIRE(backend.Forward(steps, mode, &logits).ok());
  return logits;
}

TEST_CASE("CUDA forward matches the CPU forward", "[cuda]") {
  for (bool qwen : {false, true}) {
    testing::RandomModelOptions o;
    o.matrix_type = DType::kBF16;
    o.qkv_bias = qwen;
    o.tied = qwen;
    o.rope_style = qwen ? kmath::RopeStyle::kHalf : kmath::RopeStyle::kInterleaved;
    auto weights = testing::MakeRandomModel(o);
    auto cpu = *CpuBackend::Create(weights, {});
    auto gpu = CreateCudaBackend(weights);
    REQUIRE(gpu.ok());
    const std::vector<std::vector<std::int32_t>> prompts = {{1, 5, 9, 33, 2, 60}, {7, 7, 8}};
    const auto want = Logits(*cpu, prompts, LogitsMode::kAll);
    const auto got = Logits(**gpu, prompts, LogitsMode::kAll);
    REQUIRE(got.size() == want.size());
    CHECK(RelativeError(got, want) < 2e-2);
  }
}

TEST_CASE("CUDA decode after prefill matches the CPU", "[cuda]") {
  testing::RandomModelOptions o;
  o.matrix_type = DType::kBF16;
  auto weights = testing::MakeRandomModel(o);
  auto cpu = *CpuBackend::Create(weights, {});
  auto gpu = *CreateCudaBackend(weights);
  auto cc = *cpu->NewSequence(16, nullptr);
  auto gc = *gpu->NewSequence(16, nullptr);
  const std::vector<std::int32_t> prompt = {3, 4, 5, 6};
  std::vector<float> lc, lg;
  SequenceStep sc{cc.get(), prompt}, sg{gc.get(), prompt};
  REQUIRE(cpu->Forward({&sc, 1}, LogitsMode::kLast, &lc).ok());
  REQUIRE(gpu->Forward({&sg, 1}, LogitsMode::kLast, &lg).ok());
  for (std::int32_t token : {10, 20, 30}) {
    SequenceStep dc{cc.get(), std::span<const std::int32_t>(&token, 1)}, dg{gc.get(), std::span<const std::int32_t>(&token, 1)};
    REQUIRE(cpu->Forward({&dc, 1}, LogitsMode::kLast, &lc).ok());
    REQUIRE(gpu->Forward({&dg, 1}, LogitsMode::kLast, &lg).ok());
    CHECK(RelativeError(lg, lc) < 2e-2);
  }
  CHECK(gc->length() == 7);
}

}  // namespace
}  // namespace cace

int main(int argc, char** argv) {
  if (!cace::BuiltWithCuda()) {
    std::printf("SKIP: cace was built without CUDA\n");
    return 77;
  }
  auto devices = cace::ListCudaDevices();
  if (!devices.ok() || devices->empty()) {
    std::printf("SKIP: no CUDA device (%s)\n",
                devices.ok() ? "none found" : std::string(devices.status().message()).c_str());
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
