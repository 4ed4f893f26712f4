// The CUDA backend against the CPU backend on the same tiny model file, each loaded through the
// one load path (model_instance.h) into its pool: host arena for the CPU, device arena for CUDA
// (BF16 weights, so both read the same numbers; the GPU also rounds GEMM inputs to BF16, hence
// the looser tolerance), and the bytes the CUDA backend reports are the device pool's. Without a
// CUDA device (or in a build without CUDA) the binary prints why and exits 77, which CTest reports
// as skipped.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <unistd.h>

#include <filesystem>

#include "cace/device.h"
#include "cace/memory_pool.h"
#include "cuda/cuda_backend.h"
#include "cuda/pinned_host_buffer.h"
#include "lib/loader/tiny_model_writer.h"
#include "lib/runtime/generation.h"
#include "lib/runtime/host_model_copy.h"
#include "lib/runtime/model_instance.h"

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

// A tiny BF16 GGUF model loaded twice: into a host arena (CPU backend) and a device arena (CUDA).
struct Pair {
  std::string file;
  std::unique_ptr<MemoryPool> host, device;
  std::unique_ptr<ModelInstance> cpu, gpu;
};

Pair LoadBoth(bool qwen) {
  Pair p;
  p.file = (std::filesystem::temp_directory_path() /
            ("cace_cuda_" + std::to_string(qwen) + "_" + std::to_string(::getpid()) + ".gguf")).string();
  TinyModelSpec spec;
  spec.architecture = qwen ? Architecture::kQwen2 : Architecture::kLlama;
  spec.tie_word_embeddings = qwen;
  REQUIRE(WriteTinyGgufModel(spec, p.file, DType::kBF16).ok());
  p.host = *CreateHostArena(std::uint64_t{64} << 20);
  auto device = CreateDeviceArena(0, std::uint64_t{64} << 20);
  REQUIRE(device.ok());
  p.device = *std::move(device);
  auto cpu = LoadModelInstance(p.file, *p.host, {.owner = "tiny"});
  auto gpu = LoadModelInstance(p.file, *p.device, {.owner = "tiny"});
  std::filesystem::remove(p.file);
  INFO(gpu.status().message());
  REQUIRE(cpu.ok());
  REQUIRE(gpu.ok());
  p.cpu = *std::move(cpu);
  p.gpu = *std::move(gpu);
  return p;
}

std::vector<float> Logits(ModelInstance& model, const std::vector<std::vector<std::int32_t>>& prompts, LogitsMode mode) {
  Backend& backend = model.backend();
  std::vector<std::unique_ptr<KvCache>> caches;
  std::vector<SequenceStep> steps;
  for (const auto& p : prompts) {
    caches.push_back(*backend.NewSequence(32, &model.pool()));
    steps.push_back({caches.back().get(), p});
  }
  std::vector<float> logits;
  REQUIRE(backend.Forward(steps, mode, &logits).ok());
  return logits;
}

TEST_CASE("CUDA forward matches the CPU forward", "[cuda]") {
  for (bool qwen : {false, true}) {
    Pair p = LoadBoth(qwen);
    const std::vector<std::vector<std::int32_t>> prompts = {{1, 5, 9, 33, 2, 60}, {7, 7, 8}};
    const auto want = Logits(*p.cpu, prompts, LogitsMode::kAll);
    const auto got = Logits(*p.gpu, prompts, LogitsMode::kAll);
    REQUIRE(got.size() == want.size());
    CHECK(RelativeError(got, want) < 2e-2);
  }
}

TEST_CASE("CUDA decode after prefill matches the CPU", "[cuda]") {
  Pair p = LoadBoth(false);
  Backend& cpu = p.cpu->backend();
  Backend& gpu = p.gpu->backend();
  auto cc = *cpu.NewSequence(16, &p.cpu->pool());
  auto gc = *gpu.NewSequence(16, &p.gpu->pool());
  const std::vector<std::int32_t> prompt = {3, 4, 5, 6};
  std::vector<float> lc, lg;
  SequenceStep sc{cc.get(), prompt}, sg{gc.get(), prompt};
  REQUIRE(cpu.Forward({&sc, 1}, LogitsMode::kLast, &lc).ok());
  REQUIRE(gpu.Forward({&sg, 1}, LogitsMode::kLast, &lg).ok());
  for (std::int32_t token : {10, 20, 30}) {
    SequenceStep dc{cc.get(), std::span<const std::int32_t>(&token, 1)}, dg{gc.get(), std::span<const std::int32_t>(&token, 1)};
    REQUIRE(cpu.Forward({&dc, 1}, LogitsMode::kLast, &lc).ok());
    REQUIRE(gpu.Forward({&dg, 1}, LogitsMode::kLast, &lg).ok());
    CHECK(RelativeError(lg, lc) < 2e-2);
  }
  CHECK(gc->length() == 7);
}

TEST_CASE("The CUDA backend holds its weights and KV in the device pool and reports those bytes", "[cuda]") {
  Pair p = LoadBoth(true);
  MemoryPool& pool = *p.device;
  const auto allocation = pool.Lookup(p.gpu->allocation());
  REQUIRE(allocation.ok());
  CHECK(p.gpu->weight_bytes() == allocation->bytes);
  CHECK(p.gpu->weights().memory == MemoryKind::kDevice);
  CHECK(p.gpu->weights().layers[0].wq.dtype == DType::kBF16);
  // Same model, same per-token KV as the CPU's.
  CHECK(p.gpu->kv_bytes_per_token() == p.cpu->kv_bytes_per_token());
  {
    auto cache = p.gpu->backend().NewSequence(64, &pool);
    REQUIRE(cache.ok());
    std::uint64_t kv_in_pool = 0;
    for (const Allocation& a : pool.Allocations()) {
      if (a.owner == "kv:tiny") kv_in_pool += a.bytes;
    }
    CHECK(p.gpu->kv_bytes() == 64 * p.gpu->kv_bytes_per_token());
    CHECK(p.gpu->kv_bytes() == kv_in_pool);
  }
  CHECK(p.gpu->kv_bytes() == 0);
  CHECK(pool.Stats().used == p.gpu->weight_bytes());
  // Host weights are refused, not copied.
  auto refused = CreateCudaBackend(std::shared_ptr<const ModelWeights>(&p.cpu->weights(), [](const ModelWeights*) {}));
  CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
  p.gpu.reset();
  CHECK(pool.Stats().used == 0);
}

TEST_CASE("A device model's copy in pinned host memory loads back byte for byte and answers the same", "[cuda]") {
  Pair p = LoadBoth(false);
  MemoryPool& pool = *p.device;
  const std::uint64_t bytes = p.gpu->weight_bytes();
  std::vector<std::byte> on_device(bytes);
  REQUIRE(pool.Read(p.gpu->allocation(), 0, on_device.data(), bytes).ok());
  auto copy = HostModelCopy::From(*p.gpu, AllocatePinnedHostBuffer);
  INFO(copy.status().message());
  REQUIRE(copy.ok());
  REQUIRE((*copy)->bytes() == bytes);
  CHECK(std::memcmp((*copy)->buffer().data(), on_device.data(), bytes) == 0);
  const std::vector<std::vector<std::int32_t>> prompts = {{1, 5, 9, 33, 2, 60}};
  const auto before = Logits(*p.gpu, prompts, LogitsMode::kAll);
  p.gpu.reset();
  CHECK(pool.Stats().used == 0);
  // Laid out for the CUDA backend: a host pool is refused.
  CHECK((*copy)->Load(*p.host, {}).status().code() == absl::StatusCode::kInvalidArgument);
  auto reloaded = (*copy)->Load(pool, {.owner = "tiny"});
  INFO(reloaded.status().message());
  REQUIRE(reloaded.ok());
  std::vector<std::byte> back(bytes);
  REQUIRE(pool.Read((*reloaded)->allocation(), 0, back.data(), bytes).ok());
  CHECK(back == on_device);
  const auto after = Logits(**reloaded, prompts, LogitsMode::kAll);
  REQUIRE(after.size() == before.size());
  CHECK(RelativeError(after, before) < 1e-6);
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
