#include "lib/loader/model_loader.h"

#include <catch2/catch.hpp>
#include <filesystem>

#include "lib/loader/dequantize.h"
#include "lib/loader/gguf.h"
#include "lib/loader/safetensors.h"
#include "lib/loader/safetensors_writer.h"
#include "lib/loader/tiny_model_writer.h"
#include "lib/loader/tokenizer_data.h"
#include "lib/pool/host_arena.h"
#include "tests/loader/test_files.h"

namespace cace {
namespace {

using testing::TempDir;

std::unique_ptr<HostArena> Arena(std::uint64_t bytes) { return std::move(*HostArena::Create(bytes)); }

// The pool's contents as a comparable value: what "left as it was" means.
std::vector<std::tuple<AllocationId, std::uint64_t, std::uint64_t>> Snapshot(const MemoryPool& pool) {
  std::vector<std::tuple<AllocationId, std::uint64_t, std::uint64_t>> out;
  for (const Allocation& a : pool.Allocations()) out.emplace_back(a.id, a.offset, a.bytes);
  return out;
}

std::vector<float> ReadTensorAsF32(MemoryPool& pool, const LoadedModel& model, const std::string& name) {
  const LoadedTensor* t = model.Find(name);
  REQUIRE(t != nullptr);
  std::vector<std::byte> bytes(t->bytes);
  REQUIRE(pool.Read(model.allocation, t->offset, bytes.data(), bytes.size()).ok());
  std::uint64_t n = 1;
  for (std::int64_t d : t->shape) n *= static_cast<std::uint64_t>(d);
  std::vector<float> out(n);
  REQUIRE(DequantizeToF32(t->dtype, bytes, out).ok());
  return out;
}

TEST_CASE("a tiny safetensors model loads into the host arena with HF names and exact bytes") {
  TempDir dir("st_model");
  TinyModelSpec spec;
  spec.architecture = Architecture::kQwen2;
  REQUIRE(WriteTinySafetensorsModel(spec, dir.path()).ok());
  auto arena = Arena(64 << 20);
  ModelLoader loader(*arena);
  auto model = loader.Load(dir.path(), "tiny-qwen");
  REQUIRE(model.ok());
  CHECK(model->format == ModelFormat::kSafetensors);
  CHECK(model->config.architecture == Architecture::kQwen2);
  CHECK(model->config.attention_bias);
  CHECK(model->Find("model.layers.1.self_attn.q_proj.bias") != nullptr);
  CHECK(model->Find("lm_head.weight") != nullptr);
  CHECK(arena->Lookup(model->allocation)->owner == "tiny-qwen");
  CHECK(arena->Stats().used == model->allocation_bytes);
  for (const LoadedTensor& t : model->tensors) CHECK(t.offset % MemoryPool::kDefaultAlignment == 0);

  const auto weights = TinyModelWeights(spec);
  for (const char* name : {"model.embed_tokens.weight", "model.layers.0.mlp.down_proj.weight", "model.norm.weight"}) {
    INFO(name);
    CHECK(ReadTensorAsF32(*arena, *model, name) == weights.at(name));
  }
  auto tokenizer = ReadTokenizerJsonFile(dir.File("tokenizer.json"));
  REQUIRE(tokenizer.ok());
  CHECK(static_cast<std::int64_t>(tokenizer->tokens.size()) == model->config.vocab_size);
  CHECK(tokenizer->fim_prefix_id == 257);
  CHECK(tokenizer->eos_id == 256);
}

TEST_CASE("tiny GGUF models load with llama.cpp names, in every supported matrix type") {
  TempDir dir("gguf_model");
  TinyModelSpec spec;
  spec.hidden_size = 256;  // K-quant rows are 256 values
  spec.intermediate_size = 512;
  spec.num_attention_heads = 4;
  spec.num_key_value_heads = 4;
  const auto weights = TinyModelWeights(spec);
  for (DType dtype : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0, DType::kQ4_1, DType::kQ4_K,
                      DType::kQ6_K}) {
    INFO(DTypeName(dtype));
    const std::string path = dir.File(std::string(DTypeName(dtype)) + ".gguf");
    REQUIRE(WriteTinyGgufModel(spec, path, dtype).ok());
    auto arena = Arena(64 << 20);
    ModelLoader loader(*arena);
    auto model = loader.Load(path, "tiny");
    REQUIRE(model.ok());
    CHECK(model->format == ModelFormat::kGguf);
    const LoadedTensor* down = model->Find("blk.1.ffn_down.weight");
    REQUIRE(down != nullptr);
    CHECK(down->dtype == dtype);
    CHECK(down->shape == std::vector<std::int64_t>{256, 512});
    CHECK(model->Find("output_norm.weight")->dtype == DType::kF32);
    // Dequantized values stay close to the seeded weights (exact for F32).
    const std::vector<float> got = ReadTensorAsF32(*arena, *model, "blk.1.ffn_down.weight");
    const std::vector<float>& want = weights.at("model.layers.1.mlp.down_proj.weight");
    float worst = 0;
    for (std::size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(got[i] - want[i]));
    CHECK(worst <= (dtype == DType::kF32 ? 0.0f : 0.02f));
    auto tokenizer = TokenizerDataFromGguf(*GgufFile::Open(path));
    REQUIRE(tokenizer.ok());
    CHECK(tokenizer->fim_middle_id == 258);
  }
}

TEST_CASE("GGUF of a Llama model stores q/k rows permuted as llama.cpp's converter does") {
  TempDir dir("gguf_perm");
  TinyModelSpec spec;  // llama, head_dim 16
  REQUIRE(WriteTinyGgufModel(spec, dir.File("m.gguf")).ok());
  auto file = GgufFile::Open(dir.File("m.gguf"));
  REQUIRE(file.ok());
  const auto weights = TinyModelWeights(spec);
  const std::vector<float>& hf = weights.at("model.layers.0.self_attn.q_proj.weight");
  const GgufTensorInfo* q = file->FindTensor("blk.0.attn_q.weight");
  REQUIRE(q != nullptr);
  std::vector<float> gguf(hf.size());
  std::memcpy(gguf.data(), file->TensorData(*q).data(), q->bytes);
  const std::int64_t cols = 64, hd = 16;
  // Row 2i+j of a head comes from row j*hd/2+i: row 1 <- row 8, row 2 <- row 1.
  CHECK(std::equal(gguf.begin() + 1 * cols, gguf.begin() + 2 * cols, hf.begin() + (hd / 2) * cols));
  CHECK(std::equal(gguf.begin() + 2 * cols, gguf.begin() + 3 * cols, hf.begin() + 1 * cols));
  const GgufTensorInfo* v = file->FindTensor("blk.0.attn_v.weight");  // v is not permuted
  CHECK(std::memcmp(file->TensorData(*v).data(), weights.at("model.layers.0.self_attn.v_proj.weight").data(),
                    v->bytes) == 0);
}

TEST_CASE("a model that does not fit is ResourceExhausted and allocates nothing") {
  TempDir dir("too_big");
  REQUIRE(WriteTinySafetensorsModel(TinyModelSpec{}, dir.path()).ok());
  auto arena = Arena(256 << 10);
  auto other = arena->Allocate(100 << 10, 256, "resident");
  REQUIRE(other.ok());
  const auto before = Snapshot(*arena);
  ModelLoader loader(*arena);
  auto plan = loader.Plan(dir.path());
  REQUIRE(plan.ok());
  CHECK(plan->total_bytes > 156 << 10);
  auto model = loader.Load(dir.path(), "tiny");
  REQUIRE(absl::IsResourceExhausted(model.status()));
  const std::string message(model.status().message());
  CHECK(message.find(dir.path()) != std::string::npos);
  CHECK(message.find("cannot allocate") != std::string::npos);
  CHECK(Snapshot(*arena) == before);
}

TEST_CASE("bad model files are clear errors and leave the pool as it was") {
  TempDir dir("bad_models");
  auto arena = Arena(64 << 20);
  auto resident = arena->Allocate(4096, 256, "resident");
  REQUIRE(resident.ok());
  const auto before = Snapshot(*arena);
  ModelLoader loader(*arena);
  auto expect_error = [&](const std::string& path, const std::string& what) {
    auto model = loader.Load(path, "bad");
    INFO(path << " -> " << model.status());
    REQUIRE_FALSE(model.ok());
    CHECK(std::string(model.status().message()).find(what) != std::string::npos);
    CHECK(Snapshot(*arena) == before);
  };
  TinyModelSpec spec;

  SECTION("missing tensor") {
    REQUIRE(WriteTinySafetensorsModel(spec, dir.path()).ok());
    // Rewrite the config to claim a third layer the file does not have.
    auto text = testing::ReadBytes(dir.File("config.json"));
    std::string s(reinterpret_cast<const char*>(text.data()), text.size());
    s.replace(s.find("\"num_hidden_layers\": 2"), 22, "\"num_hidden_layers\": 3");
    testing::WriteBytes(dir.File("config.json"), testing::Bytes(s));
    expect_error(dir.path(), "tensor 'model.layers.2.input_layernorm.weight' is missing");
  }
  SECTION("shape that disagrees with the config") {
    REQUIRE(WriteTinySafetensorsModel(spec, dir.path()).ok());
    auto text = testing::ReadBytes(dir.File("config.json"));
    std::string s(reinterpret_cast<const char*>(text.data()), text.size());
    s.replace(s.find("\"intermediate_size\": 128"), 24, "\"intermediate_size\": 96 ");
    testing::WriteBytes(dir.File("config.json"), testing::Bytes(s));
    expect_error(dir.path(), "field 'shape' is [128, 64] but the config implies [96, 64]");
  }
  SECTION("truncated safetensors file") {
    REQUIRE(WriteTinySafetensorsModel(spec, dir.path()).ok());
    auto bytes = testing::ReadBytes(dir.File("model.safetensors"));
    bytes.resize(bytes.size() - 100);
    testing::WriteBytes(dir.File("model.safetensors"), bytes);
    expect_error(dir.path(), "model.safetensors: ");
  }
  SECTION("truncated GGUF file") {
    REQUIRE(WriteTinyGgufModel(spec, dir.File("m.gguf")).ok());
    auto bytes = testing::ReadBytes(dir.File("m.gguf"));
    bytes.resize(bytes.size() / 2);
    testing::WriteBytes(dir.File("m.gguf"), bytes);
    expect_error(dir.File("m.gguf"), "truncated file?");
  }
  SECTION("GGUF without model metadata") {
    expect_error(std::string(CACE_DATA_DIR) + "/tokenizers/ggml-vocab-starcoder.gguf",
                 "unsupported architecture \"starcoder2\"");
  }
  SECTION("missing config.json") {
    REQUIRE(WriteTinySafetensorsModel(spec, dir.path()).ok());
    std::filesystem::remove(dir.File("config.json"));
    expect_error(dir.path(), "config.json");
  }
  SECTION("missing file") { expect_error(dir.File("absent.gguf"), "absent.gguf"); }
}

TEST_CASE("a sharded safetensors model loads through its index") {
  TempDir dir("sharded");
  TinyModelSpec spec;
  spec.tie_word_embeddings = true;
  REQUIRE(WriteTinySafetensorsModel(spec, dir.path()).ok());
  // Split the single file in two shards by rewriting tensors.
  auto whole = SafetensorsFile::Open(dir.File("model.safetensors"));
  REQUIRE(whole.ok());
  SafetensorsWriter a, b;
  std::string weight_map;
  for (const SafetensorsTensor& t : whole->tensors()) {
    auto data = whole->TensorData(t);
    const bool first = t.name.find("layers.1.") == std::string::npos;
    (first ? a : b).AddTensor(t.name, t.dtype, t.shape, std::vector<std::byte>(data.begin(), data.end()));
    weight_map += (weight_map.empty() ? "" : ",") + JsonQuote(t.name) + ":" +
                  JsonQuote(first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors");
  }
  REQUIRE(a.WriteFile(dir.File("model-00001-of-00002.safetensors")).ok());
  REQUIRE(b.WriteFile(dir.File("model-00002-of-00002.safetensors")).ok());
  std::filesystem::remove(dir.File("model.safetensors"));
  testing::WriteBytes(dir.File("model.safetensors.index.json"), testing::Bytes("{\"weight_map\":{" + weight_map + "}}"));
  auto arena = Arena(64 << 20);
  auto model = ModelLoader(*arena).Load(dir.path(), "sharded");
  REQUIRE(model.ok());
  CHECK(model->config.tie_word_embeddings);
  CHECK(model->Find("lm_head.weight") == nullptr);
  CHECK(model->Find("model.layers.1.mlp.up_proj.weight") != nullptr);
}

}  // namespace
}  // namespace cace

namespace cace {
namespace {

TEST_CASE("file layout keeps each tensor congruent to its file offset modulo 64, with the same bytes") {
  testing::TempDir dir("file_layout");
  TinyModelSpec spec;
  REQUIRE(WriteTinySafetensorsModel(spec, dir.path(), DType::kBF16).ok());
  auto file = SafetensorsFile::Open(dir.File("model.safetensors"));
  REQUIRE(file.ok());
  auto arena = Arena(64 << 20);
  auto filler = arena->Allocate(100, 1, "filler");  // the model's allocation does not start at 0
  REQUIRE(filler.ok());
  ModelLoader loader(*arena, LoadOptions{.layout = TensorLayout::kFileLayout});
  auto model = loader.Load(dir.path(), "tiny");
  REQUIRE(model.ok());
  const std::uint64_t base = arena->Lookup(model->allocation)->offset;
  CHECK(base % 64 == 0);
  for (const LoadedTensor& t : model->tensors) {
    const SafetensorsTensor* src = file->Find(t.name);
    REQUIRE(src != nullptr);
    INFO(t.name);
    CHECK((base + t.offset) % 64 == (file->data_offset() + src->begin) % 64);
    std::vector<std::byte> bytes(t.bytes);
    REQUIRE(arena->Read(model->allocation, t.offset, bytes.data(), bytes.size()).ok());
    CHECK(std::equal(bytes.begin(), bytes.end(), file->TensorData(*src).begin()));
  }
  // The tensors are laid out back to back as in the file: the footprint is the data section's.
  CHECK(model->allocation_bytes <= file->bytes().size() - file->data_offset() + 64);
}

}  // namespace
}  // namespace cace
