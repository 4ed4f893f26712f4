// The one load path (model_instance.h): tiny seeded models of the loader's generator, written to a
// temporary folder, loaded into a host pool; the weights are views on the pool's memory, the bytes
// the backend reports are the pool's, and a failed or cancelled load leaves the pool as it was.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stop_token>
#include <string>
#include <tuple>
#include <vector>

#include "cace/memory_pool.h"
#include "lib/loader/tiny_model_writer.h"
#include "lib/runtime/generation.h"
#include "lib/runtime/model_instance.h"

namespace cace {
namespace {

class TempDir {
 public:
  explicit TempDir(const std::string& name)
      : path_(std::filesystem::temp_directory_path() / ("cace_runtime_" + name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string path() const { return path_.string(); }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

std::unique_ptr<MemoryPool> Pool(std::uint64_t bytes = std::uint64_t{64} << 20) {
  auto pool = CreateHostArena(bytes);
  REQUIRE(pool.ok());
  return *std::move(pool);
}

// The pool's contents as a comparable value: what "left as it was" means.
std::vector<std::tuple<AllocationId, std::uint64_t, std::uint64_t, std::string>> Snapshot(const MemoryPool& pool) {
  std::vector<std::tuple<AllocationId, std::uint64_t, std::uint64_t, std::string>> out;
  for (const Allocation& a : pool.Allocations()) out.emplace_back(a.id, a.offset, a.bytes, a.owner);
  return out;
}

std::unique_ptr<ModelInstance> Load(const std::string& path, MemoryPool& pool, ModelInstanceOptions options = {}) {
  options.cpu.threads = 2;
  auto instance = LoadModelInstance(path, pool, std::move(options));
  INFO(instance.status().message());
  REQUIRE(instance.ok());
  return *std::move(instance);
}

std::vector<float> PromptLogits(Backend& backend) {
  auto cache = backend.NewSequence(16, nullptr);
  REQUIRE(cache.ok());
  const std::vector<std::int32_t> prompt = {104, 101, 108, 108, 111, 32, 10, 40};
  SequenceStep step{cache->get(), prompt};
  std::vector<float> logits;
  REQUIRE(backend.Forward({&step, 1}, LogitsMode::kAll, &logits).ok());
  return logits;
}

double MaxRelDiff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double max_ref = 0, max_diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    max_ref = std::max(max_ref, std::fabs(double(b[i])));
    max_diff = std::max(max_diff, std::fabs(double(a[i]) - double(b[i])));
  }
  return max_diff / max_ref;
}

// Whether [p, p + bytes) lies inside the instance's allocation.
bool InAllocation(const ModelInstance& m, const void* p, std::uint64_t bytes) {
  const auto* base = static_cast<const std::byte*>(*m.pool().Address(m.allocation()));
  const auto* at = static_cast<const std::byte*>(p);
  return at >= base && at + bytes <= base + m.weight_bytes();
}

TEST_CASE("Safetensors and GGUF of the same tiny model give the same logits", "[loading]") {
  for (Architecture arch : {Architecture::kLlama, Architecture::kQwen2}) {
    TinyModelSpec spec;
    spec.architecture = arch;
    TempDir dir(std::string(ArchitectureName(arch)));
    REQUIRE(WriteTinySafetensorsModel(spec, dir.path()).ok());
    REQUIRE(WriteTinyGgufModel(spec, dir.File("model.gguf")).ok());
    auto pool = Pool();
    auto hf = Load(dir.path(), *pool, {.owner = "hf"});
    auto gguf = Load(dir.File("model.gguf"), *pool, {.owner = "gguf"});
    CHECK(hf->format() == ModelFormat::kSafetensors);
    CHECK(gguf->format() == ModelFormat::kGguf);
    // Llama GGUFs hold q/k permuted for adjacent rotary pairs; Qwen2 GGUFs do not.
    CHECK(gguf->backend().shape().rope_style ==
          (arch == Architecture::kLlama ? kmath::RopeStyle::kInterleaved : kmath::RopeStyle::kHalf));
    CHECK(MaxRelDiff(PromptLogits(gguf->backend()), PromptLogits(hf->backend())) < 1e-5);
    // Both tokenizers read the same vocabulary.
    CHECK(hf->tokenizer().Encode("def f(x): return x") == gguf->tokenizer().Encode("def f(x): return x"));
  }
}

TEST_CASE("Weights are views on the pool; converted tensors live in the same allocation", "[loading]") {
  TempDir dir("views");
  TinyModelSpec spec;
  spec.tie_word_embeddings = true;
  REQUIRE(WriteTinyGgufModel(spec, dir.File("q8.gguf"), DType::kQ8_0).ok());
  REQUIRE(WriteTinyGgufModel(spec, dir.File("q4_1.gguf"), DType::kQ4_1).ok());
  auto pool = Pool();
  auto q8 = Load(dir.File("q8.gguf"), *pool, {.owner = "q8"});
  auto q4 = Load(dir.File("q4_1.gguf"), *pool, {.owner = "q4"});
  for (const ModelInstance* m : {q8.get(), q4.get()}) {
    const ModelWeights& w = m->weights();
    // The measured bytes are the pool's: one allocation per model, under its tag.
    const auto allocation = m->pool().Lookup(m->allocation());
    REQUIRE(allocation.ok());
    CHECK(m->weight_bytes() == allocation->bytes);
    CHECK(w.held_bytes == allocation->bytes);
    CHECK(w.memory == MemoryKind::kHost);
    CHECK(InAllocation(*m, w.embedding.data, w.embedding.RowBytes() * w.embedding.rows));
    CHECK(InAllocation(*m, w.layers[1].w_down.data, w.layers[1].w_down.RowBytes() * w.layers[1].w_down.rows));
    CHECK(InAllocation(*m, w.final_norm, sizeof(float) * w.shape.dim));
    CHECK(w.lm_head.data == w.embedding.data);  // tied
  }
  CHECK(q8->pool().Lookup(q8->allocation())->owner == "q8");
  // Q8_0 is read as stored; Q4_1 is not, so the loader widened it to F32 in the pool.
  CHECK(q8->weights().layers[0].wq.dtype == DType::kQ8_0);
  CHECK(q4->weights().layers[0].wq.dtype == DType::kF32);
  CHECK(q4->weight_bytes() > q8->weight_bytes());
  // What the plan said is what the load took.
  for (const char* name : {"q8.gguf", "q4_1.gguf"}) {
    auto footprint = PlanModelInstance(dir.File(name), MemoryKind::kHost);
    REQUIRE(footprint.ok());
    const ModelInstance& m = name[1] == '8' ? *q8 : *q4;
    CHECK(footprint->weight_bytes == m.weight_bytes());
    CHECK(footprint->kv_bytes_per_token == m.kv_bytes_per_token());
  }
  CHECK(pool->Stats().allocation_count == 2);
  q8.reset();
  q4.reset();
  CHECK(pool->Stats().used == 0);
}

TEST_CASE("KV bytes the backend reports are the pool's", "[loading][kv]") {
  TempDir dir("kv");
  REQUIRE(WriteTinySafetensorsModel({}, dir.path()).ok());
  auto pool = Pool(std::uint64_t{8} << 20);
  auto model = Load(dir.path(), *pool, {.owner = "tiny"});
  Backend& backend = model->backend();
  const auto kv_in_pool = [&] {
    std::uint64_t bytes = 0;
    for (const Allocation& a : pool->Allocations()) {
      if (a.owner == "kv:tiny") bytes += a.bytes;
    }
    return bytes;
  };
  CHECK(model->kv_bytes() == 0);
  {
    auto first = backend.NewSequence(256, &model->pool());
    auto second = backend.NewSequence(100, &model->pool());
    REQUIRE(first.ok());
    REQUIRE(second.ok());
    // 2 layers x (K and V) x kv_dim 32 x 4 bytes per token.
    CHECK(model->kv_bytes_per_token() == 2u * 2 * 32 * 4);
    CHECK(model->kv_bytes() == 356 * model->kv_bytes_per_token());
    CHECK(model->kv_bytes() == kv_in_pool());
    const std::vector<std::int32_t> prompt = {1, 2, 3};
    SequenceStep step{first->get(), prompt};
    std::vector<float> logits;
    CHECK(backend.workspace_bytes() == 0);  // no pass yet
    REQUIRE(backend.Forward({&step, 1}, LogitsMode::kLast, &logits).ok());
    // The activation buffers of a 3-token pass: residual, two norms' outputs, q, k, v, attention
    // output, gate and up, at least.
    const LlamaShape& s = backend.shape();
    CHECK(backend.workspace_bytes() >=
          3 * sizeof(float) * static_cast<std::uint64_t>(3 * s.dim + 2 * s.q_dim() + 2 * s.kv_dim() + 2 * s.ffn_dim));
  }
  CHECK(model->kv_bytes() == 0);
  CHECK(kv_in_pool() == 0);
  CHECK(pool->Stats().used == model->weight_bytes());
  // Once the pool is full a new cache is refused, the pool and the count stay as they were.
  std::vector<std::unique_ptr<KvCache>> caches;
  absl::Status refused;
  while (refused.ok() && caches.size() < 100) {
    auto cache = backend.NewSequence(512, &model->pool());
    if (cache.ok()) caches.push_back(*std::move(cache));
    else refused = cache.status();
  }
  CHECK(refused.code() == absl::StatusCode::kResourceExhausted);
  CHECK(model->kv_bytes() == kv_in_pool());
  CHECK(model->kv_bytes() == caches.size() * 512 * model->kv_bytes_per_token());
}

TEST_CASE("A loaded model generates through the runtime from text", "[loading]") {
  TempDir dir("generate");
  REQUIRE(WriteTinyGgufModel({}, dir.File("model.gguf"), DType::kQ8_0).ok());
  auto pool = Pool();
  auto model = Load(dir.File("model.gguf"), *pool);
  const std::vector<std::int32_t> prompt = model->tokenizer().Encode("def return(x):");
  REQUIRE(!prompt.empty());
  GenerationOptions options;
  options.max_new_tokens = 8;
  auto sequence = Sequence::Start(&model->backend(), prompt, options, &model->pool());
  REQUIRE(sequence.ok());
  Sequence* sequences[] = {sequence->get()};
  REQUIRE(GenerateAll(model->backend(), sequences).ok());
  CHECK((*sequence)->output().size() == 8);
  CHECK(model->kv_bytes() > 0);
  sequence->reset();
  CHECK(model->kv_bytes() == 0);
}

TEST_CASE("After the pool compacts, Rebind re-points the weights and the model runs the same", "[loading]") {
  TempDir dir("compact");
  REQUIRE(WriteTinyGgufModel({}, dir.File("model.gguf"), DType::kQ8_0).ok());
  auto pool = Pool();
  auto hole = pool->Allocate(1 << 20, 256, "leaves a hole");
  REQUIRE(hole.ok());
  auto model = Load(dir.File("model.gguf"), *pool);
  const std::vector<float> before = PromptLogits(model->backend());
  const std::byte* old_embedding = model->weights().embedding.data;
  REQUIRE(pool->Free(hole->id).ok());
  int moved = 0;
  REQUIRE(pool->Compact([&](const Relocation& r) {
                if (r.id != model->allocation()) return;
                ++moved;
                REQUIRE(model->Rebind().ok());
              }).ok());
  CHECK(moved == 1);
  CHECK(model->weights().embedding.data != old_embedding);
  CHECK(InAllocation(*model, model->weights().layers[1].w_up.data, 1));
  CHECK(PromptLogits(model->backend()) == before);
}

TEST_CASE("Progress is monotone and ends at the total; a cancelled load leaves the pool as it was", "[loading]") {
  TempDir dir("progress");
  REQUIRE(WriteTinyGgufModel({}, dir.File("model.gguf"), DType::kQ4_1).ok());
  auto pool = Pool();
  auto bystander = pool->Allocate(4096, 256, "other");
  REQUIRE(bystander.ok());
  const auto before = Snapshot(*pool);

  std::vector<std::pair<std::uint64_t, std::uint64_t>> calls;
  auto model = Load(dir.File("model.gguf"), *pool,
                    {.progress = [&](std::uint64_t done, std::uint64_t total) { calls.emplace_back(done, total); }});
  REQUIRE(calls.size() > 3);
  for (std::size_t i = 1; i < calls.size(); ++i) {
    CHECK(calls[i].first > calls[i - 1].first);
    CHECK(calls[i].second == calls[0].second);
  }
  CHECK(calls.back().first == calls.back().second);
  model.reset();
  CHECK(Snapshot(*pool) == before);

  // Cancelled after a few tensors, halfway through.
  std::stop_source stop;
  int seen = 0;
  auto cancelled = LoadModelInstance(dir.File("model.gguf"), *pool,
                                     {.progress = [&](std::uint64_t, std::uint64_t) {
                                        if (++seen == 3) stop.request_stop();
                                      },
                                      .cancel = stop.get_token()});
  CHECK(cancelled.status().code() == absl::StatusCode::kCancelled);
  CHECK(seen == 3);
  CHECK(Snapshot(*pool) == before);
  // Cancelled before it starts: nothing read.
  seen = 0;
  auto early = LoadModelInstance(dir.File("model.gguf"), *pool, {.cancel = stop.get_token()});
  CHECK(early.status().code() == absl::StatusCode::kCancelled);
  CHECK(Snapshot(*pool) == before);
}

TEST_CASE("A truncated or bad model is a clear error and leaves the pool as it was", "[loading]") {
  TempDir dir("bad");
  auto pool = Pool();
  auto bystander = pool->Allocate(4096, 256, "other");
  REQUIRE(bystander.ok());
  const auto before = Snapshot(*pool);
  CHECK(!LoadModelInstance(dir.path(), *pool).ok());  // no config.json
  CHECK(!LoadModelInstance(dir.File("none.gguf"), *pool).ok());

  REQUIRE(WriteTinyGgufModel({}, dir.File("model.gguf")).ok());
  const auto size = std::filesystem::file_size(dir.File("model.gguf"));
  std::filesystem::resize_file(dir.File("model.gguf"), size - 100);
  auto truncated = LoadModelInstance(dir.File("model.gguf"), *pool);
  REQUIRE(!truncated.ok());
  INFO(truncated.status().message());
  CHECK(std::string(truncated.status().message()).find("model.gguf") != std::string::npos);
  CHECK(Snapshot(*pool) == before);

  // An architecture the runtime does not implement (StarCoder2: LayerNorm, GELU MLP, biases).
  REQUIRE(WriteTinySafetensorsModel({}, dir.path()).ok());
  std::ifstream in(dir.File("config.json"));
  std::string config((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  const std::size_t at = config.find("LlamaForCausalLM");
  REQUIRE(at != std::string::npos);
  config.replace(at, 16, "Starcoder2ForCausalLM");
  for (std::size_t p = config.find("\"llama\""); p != std::string::npos; p = config.find("\"llama\"")) {
    config.replace(p, 7, "\"starcoder2\"");
  }
  std::ofstream(dir.File("config.json")) << config;
  auto refused = LoadModelInstance(dir.path(), *pool);
  REQUIRE(refused.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(refused.status().message()).find("unsupported architecture") != std::string::npos);
  CHECK(Snapshot(*pool) == before);

  // A pool without room.
  auto small = Pool(std::uint64_t{2} << 20);
  REQUIRE(WriteTinyGgufModel({.hidden_size = 256, .intermediate_size = 1024}, dir.File("big.gguf")).ok());
  auto no_room = LoadModelInstance(dir.File("big.gguf"), *small);
  CHECK(no_room.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(small->Stats().used == 0);
}

}  // namespace
}  // namespace cace
