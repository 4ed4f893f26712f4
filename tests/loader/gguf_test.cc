#include "lib/loader/gguf.h"

#include <catch2/catch.hpp>

#include "lib/loader/gguf_writer.h"
#include "tests/loader/test_files.h"

namespace cace {
namespace {

using testing::FloatBytes;

// Builds GGUF bytes field by field, so tests can write what no correct writer would.
struct Raw {
  std::vector<std::byte> bytes;
  template <typename T>
  Raw& Put(T v) {
    const auto* p = reinterpret_cast<const std::byte*>(&v);
    bytes.insert(bytes.end(), p, p + sizeof(T));
    return *this;
  }
  Raw& Str(const std::string& s) {
    Put<std::uint64_t>(s.size());
    for (char c : s) bytes.push_back(static_cast<std::byte>(c));
    return *this;
  }
  Raw& Header(std::uint64_t tensors, std::uint64_t kvs, std::uint32_t version = 3) {
    return Put<std::uint32_t>(0x46554747).Put<std::uint32_t>(version).Put(tensors).Put(kvs);
  }
  Raw& TensorInfo(const std::string& name, std::vector<std::uint64_t> ne, std::uint32_t type, std::uint64_t offset) {
    Str(name).Put<std::uint32_t>(static_cast<std::uint32_t>(ne.size()));
    for (std::uint64_t d : ne) Put(d);
    return Put(type).Put(offset);
  }
  Raw& PadTo(std::size_t alignment) {
    bytes.resize((bytes.size() + alignment - 1) / alignment * alignment);
    return *this;
  }
  Raw& Data(std::size_t n) {
    bytes.resize(bytes.size() + n, std::byte{0x3C});
    return *this;
  }
};

std::string ErrorOf(const std::vector<std::byte>& bytes) {
  auto parsed = GgufFile::Parse(bytes, "m.gguf");
  REQUIRE_FALSE(parsed.ok());
  CHECK(absl::IsInvalidArgument(parsed.status()));
  const std::string message(parsed.status().message());
  CHECK(message.rfind("m.gguf: field '", 0) == 0);
  return message;
}

std::vector<std::byte> GoodFile() {
  GgufWriter w;
  w.AddString("general.architecture", "llama");
  w.AddUint32("llama.block_count", 2);
  w.AddFloat32("llama.rope.freq_base", 500000.0f);
  w.AddBool("tokenizer.ggml.add_bos_token", true);
  w.AddStringArray("tokenizer.ggml.tokens", {"a", "b", "c"});
  w.AddFloat32Array("tokenizer.ggml.scores", {0.5f, -1.0f, 2.0f});
  w.AddInt32Array("tokenizer.ggml.token_type", {1, 1, 3});
  w.AddTensor("vec", DType::kF32, {3}, FloatBytes({1, 2, 3}));
  w.AddTensor("mat", DType::kF32, {2, 4}, FloatBytes({1, 2, 3, 4, 5, 6, 7, 8}));
  return *w.Serialize();
}

TEST_CASE("GGUF written by cace parses back: metadata, tensor infos, data") {
  const std::vector<std::byte> bytes = GoodFile();  // Parse keeps views into these bytes
  auto file = GgufFile::Parse(bytes, "m.gguf");
  REQUIRE(file.ok());
  CHECK(file->version() == 3);
  CHECK(file->alignment() == 32);
  CHECK(file->data_offset() % 32 == 0);
  CHECK(*file->GetString("general.architecture") == "llama");
  CHECK(*file->GetUint("llama.block_count") == 2);
  CHECK(*file->GetInt("llama.block_count") == 2);
  CHECK(*file->GetFloat("llama.rope.freq_base") == 500000.0);
  CHECK(*file->GetBool("tokenizer.ggml.add_bos_token"));
  CHECK(*file->GetStringArray("tokenizer.ggml.tokens") == std::vector<std::string>{"a", "b", "c"});
  CHECK(*file->GetFloatArray("tokenizer.ggml.scores") == std::vector<double>{0.5, -1.0, 2.0});
  CHECK(*file->GetIntArray("tokenizer.ggml.token_type") == std::vector<std::int64_t>{1, 1, 3});
  CHECK(absl::IsNotFound(file->GetString("nope").status()));
  CHECK(absl::IsInvalidArgument(file->GetString("llama.block_count").status()));
  const GgufTensorInfo* mat = file->FindTensor("mat");
  REQUIRE(mat != nullptr);
  CHECK(mat->shape == std::vector<std::int64_t>{2, 4});  // ne = {4, 2} in the file
  CHECK(mat->offset % 32 == 0);
  float values[8];
  std::memcpy(values, file->TensorData(*mat).data(), sizeof values);
  CHECK(values[7] == 8.0f);
}

TEST_CASE("GGUF: every prefix of a valid file is a clean error") {
  const std::vector<std::byte> good = GoodFile();
  auto full = GgufFile::Parse(good, "m.gguf");
  REQUIRE(full.ok());
  // Cutting anywhere inside the header or the tensor data must fail with a message (data is
  // checked too: the last tensor ends exactly at the end of the file).
  for (std::size_t n = 0; n < good.size(); ++n) {
    auto parsed = GgufFile::Parse(std::span(good).first(n), "m.gguf");
    INFO("prefix of " << n << " bytes");
    REQUIRE_FALSE(parsed.ok());
    CHECK(std::string(parsed.status().message()).find("m.gguf: field") == 0);
  }
}

TEST_CASE("GGUF: nested arrays and every scalar type") {
  Raw r;
  r.Header(0, 3);
  r.Str("nested").Put<std::uint32_t>(9).Put<std::uint32_t>(9).Put<std::uint64_t>(2);  // array of 2 arrays
  r.Put<std::uint32_t>(4).Put<std::uint64_t>(2).Put<std::uint32_t>(7).Put<std::uint32_t>(8);
  r.Put<std::uint32_t>(8).Put<std::uint64_t>(1).Str("x");
  r.Str("i8").Put<std::uint32_t>(1).Put<std::int8_t>(-5);
  r.Str("f64").Put<std::uint32_t>(12).Put<double>(0.25);
  auto file = GgufFile::Parse(r.bytes, "m.gguf");
  REQUIRE(file.ok());
  const GgufValue* nested = file->Find("nested");
  REQUIRE(nested != nullptr);
  const auto& outer = std::get<GgufArray>(nested->value);
  REQUIRE(outer.items.size() == 2);
  CHECK(std::get<std::uint64_t>(std::get<GgufArray>(outer.items[0].value).items[1].value) == 8);
  CHECK(std::get<std::string>(std::get<GgufArray>(outer.items[1].value).items[0].value) == "x");
  CHECK(*file->GetInt("i8") == -5);
  CHECK(absl::IsInvalidArgument(file->GetUint("i8").status()));
  CHECK(*file->GetFloat("f64") == 0.25);
}

TEST_CASE("GGUF: every bad file is a clear error naming the field") {
  SECTION("bad magic") {
    Raw r;
    r.Put<std::uint32_t>(0x12345678).Put<std::uint32_t>(3).Put<std::uint64_t>(0).Put<std::uint64_t>(0);
    CHECK(ErrorOf(r.bytes).find("field 'magic'") != std::string::npos);
  }
  SECTION("unsupported version") {
    CHECK(ErrorOf(Raw().Header(0, 0, 1).bytes).find("unsupported GGUF version 1") != std::string::npos);
  }
  SECTION("counts larger than the file can hold") {
    CHECK(ErrorOf(Raw().Header(0, 1'000'000).bytes).find("metadata_kv_count") != std::string::npos);
    CHECK(ErrorOf(Raw().Header(UINT64_MAX, 0).bytes).find("tensor_count") != std::string::npos);
  }
  SECTION("string length past the end") {
    Raw r;
    r.Header(0, 1).Put<std::uint64_t>(1'000'000).Data(16);
    CHECK(ErrorOf(r.bytes).find("string length 1000000 exceeds") != std::string::npos);
  }
  SECTION("unknown value type") {
    Raw r;
    r.Header(0, 1).Str("k").Put<std::uint32_t>(13);
    CHECK(ErrorOf(r.bytes).find("metadata 'k'") != std::string::npos);
  }
  SECTION("array count larger than the file") {
    Raw r;
    r.Header(0, 1).Str("k").Put<std::uint32_t>(9).Put<std::uint32_t>(10).Put<std::uint64_t>(1ull << 40);
    CHECK(ErrorOf(r.bytes).find("cannot fit") != std::string::npos);
  }
  SECTION("arrays nested too deep") {
    Raw r;
    r.Header(0, 1).Str("k").Put<std::uint32_t>(9);
    for (int i = 0; i < 20; ++i) r.Put<std::uint32_t>(9).Put<std::uint64_t>(1);
    CHECK(ErrorOf(r.bytes).find("nested deeper") != std::string::npos);
  }
  SECTION("bool that is neither 0 nor 1") {
    Raw r;
    r.Header(0, 1).Str("b").Put<std::uint32_t>(7).Put<std::uint8_t>(2);
    CHECK(ErrorOf(r.bytes).find("neither 0 nor 1") != std::string::npos);
  }
  SECTION("duplicate key") {
    Raw r;
    r.Header(0, 2).Str("k").Put<std::uint32_t>(4).Put<std::uint32_t>(1).Str("k").Put<std::uint32_t>(4).Put<std::uint32_t>(2);
    CHECK(ErrorOf(r.bytes).find("duplicate key") != std::string::npos);
  }
  SECTION("alignment that is not a power of two") {
    Raw r;
    r.Header(0, 1).Str("general.alignment").Put<std::uint32_t>(4).Put<std::uint32_t>(48);
    CHECK(ErrorOf(r.bytes).find("general.alignment") != std::string::npos);
  }
  SECTION("unknown ggml type") {
    Raw r;
    r.Header(1, 0).TensorInfo("t", {32}, 6, 0).PadTo(32).Data(64);  // Q5_0
    CHECK(ErrorOf(r.bytes).find("tensor 't'.type") != std::string::npos);
  }
  SECTION("too many dimensions") {
    Raw r;
    r.Header(1, 0).TensorInfo("t", {1, 1, 1, 1, 1}, 0, 0).PadTo(32).Data(4);
    CHECK(ErrorOf(r.bytes).find("n_dimensions") != std::string::npos);
  }
  SECTION("row not divisible by the block size") {
    Raw r;
    r.Header(1, 0).TensorInfo("t", {40}, 8, 0).PadTo(32).Data(64);  // Q8_0 blocks of 32
    const std::string e = ErrorOf(r.bytes);
    CHECK(e.find("tensor 't'.dimensions") != std::string::npos);
    CHECK(e.find("multiple of the Q8_0 block size 32") != std::string::npos);
  }
  SECTION("shape whose size overflows") {
    Raw r;
    r.Header(1, 0).TensorInfo("t", {1ull << 32, 1ull << 32, 1ull << 32}, 0, 0).PadTo(32).Data(4);
    CHECK(ErrorOf(r.bytes).find("overflows") != std::string::npos);
  }
  SECTION("offset not aligned") {
    Raw r;
    r.Header(1, 0).TensorInfo("t", {4}, 0, 8).PadTo(32).Data(64);
    CHECK(ErrorOf(r.bytes).find("not a multiple of the alignment 32") != std::string::npos);
  }
  SECTION("tensor past the end (truncated file)") {
    Raw r;
    r.Header(1, 0).TensorInfo("t", {64}, 0, 0).PadTo(32).Data(100);
    CHECK(ErrorOf(r.bytes).find("past the end") != std::string::npos);
  }
  SECTION("offset so large that offset + bytes wraps") {
    Raw r;
    r.Header(1, 0).TensorInfo("t", {4}, 0, UINT64_MAX - 31).PadTo(32).Data(64);
    CHECK(ErrorOf(r.bytes).find("past the end") != std::string::npos);
  }
  SECTION("overlapping tensors") {
    Raw r;
    r.Header(2, 0).TensorInfo("a", {16}, 0, 0).TensorInfo("b", {16}, 0, 32).PadTo(32).Data(128);
    CHECK(ErrorOf(r.bytes).find("overlap tensor 'a'") != std::string::npos);
  }
  SECTION("duplicate tensor name") {
    Raw r;
    r.Header(2, 0).TensorInfo("a", {4}, 0, 0).TensorInfo("a", {4}, 0, 32).PadTo(32).Data(64);
    CHECK(ErrorOf(r.bytes).find("duplicate name") != std::string::npos);
  }
}

TEST_CASE("GGUF: the real tokenizer vocabularies of code models parse") {
  for (const char* name : {"deepseek-coder", "starcoder", "gpt-2", "llama-spm"}) {
    const std::string path = std::string(CACE_DATA_DIR) + "/tokenizers/ggml-vocab-" + name + ".gguf";
    INFO(path);
    auto file = GgufFile::Open(path);
    REQUIRE(file.ok());
    CHECK(file->tensors().empty());
    CHECK(file->GetStringArray("tokenizer.ggml.tokens")->size() > 30000);
  }
}

}  // namespace
}  // namespace cace
