// Weights from the loader's files and from its MemoryPool, and KV caches from a pool: the tiny
// seeded models of the loader's generator, written to a temporary folder.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "cace/memory_pool.h"
#include "lib/loader/model_loader.h"
#include "lib/loader/tiny_model_writer.h"
#include "lib/runtime/cpu_backend.h"
#include "lib/runtime/weights_loader.h"

namespace cace {
namespace {

std::string TempDir(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("cace_runtime_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir.string();
}

std::vector<float> PromptLogits(std::shared_ptr<ModelWeights> weights) {
  auto backend = CpuBackend::Create(std::move(weights), {.threads = 2});
  REQUIRE(backend.ok());
  auto cache = *(*backend)->NewSequence(16, nullptr);
  const std::vector<std::int32_t> prompt = {104, 101, 108, 108, 111, 32, 10, 40};
  SequenceStep step{cache.get(), prompt};
  std::vector<float> logits;
  REQUIRE((*backend)->Forward({&step, 1}, LogitsMode::kAll, &logits).ok());
  return logits;
}

double MaxRelDiff(const std::vector<float>& a, const std::vector<float>& b) {
  double max_ref = 0, max_diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    max_ref = std::max(max_ref, std::fabs(double(b[i])));
    max_diff = std::max(max_diff, std::fabs(double(a[i]) - double(b[i])));
  }
  return max_diff / max_ref;
}

TEST_CASE("Safetensors and GGUF of the same tiny model give the same logits", "[loading]") {
  for (Architecture arch : {Architecture::kLlama, Architecture::kQwen2}) {
    TinyModelSpec spec;
    spec.architecture = arch;
    const std::string dir = TempDir(std::string(ArchitectureName(arch)));
    REQUIRE(WriteTinySafetensorsModel(spec, dir).ok());
    REQUIRE(WriteTinyGgufModel(spec, dir + "/model.gguf").ok());
    auto hf = LoadSafetensorsModel(dir);
    REQUIRE(hf.ok());
    auto gguf = LoadGgufModel(dir + "/model.gguf");
    REQUIRE(gguf.ok());
    // Llama GGUFs hold q/k permuted for adjacent rotary pairs; Qwen2 GGUFs do not.
    CHECK((*gguf)->shape.rope_style ==
          (arch == Architecture::kLlama ? kmath::RopeStyle::kInterleaved : kmath::RopeStyle::kHalf));
    CHECK(MaxRelDiff(PromptLogits(*gguf), PromptLogits(*hf)) < 1e-5);
    std::filesystem::remove_all(dir);
  }
}

TEST_CASE("Weights copied into a host pool run like the mapped file", "[loading]") {
  const std::string dir = TempDir("pool");
  TinyModelSpec spec;
  spec.tie_word_embeddings = true;
  REQUIRE(WriteTinySafetensorsModel(spec, dir).ok());
  REQUIRE(WriteTinyGgufModel(spec, dir + "/model.gguf", DType::kQ8_0).ok());
  auto pool = CreateHostArena(std::uint64_t{64} << 20);
  REQUIRE(pool.ok());
  ModelLoader loader(**pool);
  for (const std::string& path : {dir, dir + "/model.gguf"}) {
    auto loaded = loader.Load(path, "tiny");
    REQUIRE(loaded.ok());
    auto from_pool = WeightsFromPool(*loaded, **pool);
    REQUIRE(from_pool.ok());
    auto mapped = path == dir ? LoadSafetensorsModel(dir) : LoadGgufModel(path);
    REQUIRE(mapped.ok());
    CHECK(PromptLogits(*from_pool) == PromptLogits(*mapped));
    REQUIRE((*pool)->Free(loaded->allocation).ok());
  }
  // Widened to F32 at load: the same numbers, read as F32.
  auto q8 = LoadGgufModel(dir + "/model.gguf");
  auto wide = LoadGgufModel(dir + "/model.gguf", {.all_f32 = true});
  REQUIRE(q8.ok());
  REQUIRE(wide.ok());
  CHECK((*q8)->layers[0].wq.dtype == DType::kQ8_0);
  CHECK((*wide)->layers[0].wq.dtype == DType::kF32);
  CHECK(MaxRelDiff(PromptLogits(*wide), PromptLogits(*q8)) < 1e-5);
  std::filesystem::remove_all(dir);
}

TEST_CASE("A missing tensor or a bad file is a clear error", "[loading]") {
  const std::string dir = TempDir("bad");
  CHECK(!LoadSafetensorsModel(dir).ok());  // no config.json
  CHECK(!LoadGgufModel(dir + "/none.gguf").ok());
  // An architecture the runtime does not implement (StarCoder2: LayerNorm, GELU MLP, biases).
  REQUIRE(WriteTinySafetensorsModel({}, dir).ok());
  std::ifstream in(dir + "/config.json");
  std::string config((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  const std::size_t at = config.find("LlamaForCausalLM");
  REQUIRE(at != std::string::npos);
  config.replace(at, 16, "Starcoder2ForCausalLM");
  for (std::size_t p = config.find("\"llama\""); p != std::string::npos; p = config.find("\"llama\"")) {
    config.replace(p, 7, "\"starcoder2\"");
  }
  std::ofstream(dir + "/config.json") << config;
  auto refused = LoadSafetensorsModel(dir);
  REQUIRE(refused.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(refused.status().message()).find("unsupported architecture") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("KV caches come from the pool and go back when the sequence ends", "[loading][kv]") {
  const std::string dir = TempDir("kv");
  REQUIRE(WriteTinySafetensorsModel({}, dir).ok());
  auto backend = *CpuBackend::Create(*LoadSafetensorsModel(dir), {.threads = 1});
  auto pool = *CreateHostArena(std::uint64_t{4} << 20);
  const std::uint64_t used_before = pool->Stats().used;
  {
    auto cache = backend->NewSequence(256, pool.get());
    REQUIRE(cache.ok());
    // 2 layers x 256 tokens x (K and V) x kv_dim 32 x 4 bytes.
    CHECK((*cache)->layout().Bytes() == 2u * 256 * 2 * 32 * 4);
    CHECK(pool->Stats().allocation_count == 1);
    const std::vector<std::int32_t> prompt = {1, 2, 3};
    SequenceStep step{cache->get(), prompt};
    std::vector<float> logits;
    REQUIRE(backend->Forward({&step, 1}, LogitsMode::kLast, &logits).ok());
  }
  CHECK(pool->Stats().allocation_count == 0);
  CHECK(pool->Stats().used == used_before);
  // Once the pool is full a new cache is refused and the pool stays as it was.
  std::vector<std::unique_ptr<KvCache>> caches;
  absl::Status refused;
  while (refused.ok() && caches.size() < 100) {
    auto cache = backend->NewSequence(512, pool.get());
    if (cache.ok()) caches.push_back(*std::move(cache));
    else refused = cache.status();
  }
  CHECK(refused.code() == absl::StatusCode::kResourceExhausted);
  CHECK(pool->Stats().allocation_count == caches.size());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cace
