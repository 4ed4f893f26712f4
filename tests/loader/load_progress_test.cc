// ModelLoader's load path beyond validation: tensors stored in another type than the file's
// (converted into their place in the pool), progress, cancellation, a file that shrinks halfway,
// and the device-pool path (staging through MemoryPool::Write), here on a fake device pool that
// keeps its bytes in a host arena.
#include <catch2/catch.hpp>

#include <filesystem>
#include <stop_token>
#include <tuple>

#include "lib/loader/dequantize.h"
#include "lib/loader/gguf.h"
#include "lib/loader/model_loader.h"
#include "lib/loader/quant_blocks.h"
#include "lib/loader/tiny_model_writer.h"
#include "lib/pool/host_arena.h"
#include "tests/loader/test_files.h"

namespace cace {
namespace {

using testing::TempDir;

std::vector<std::tuple<AllocationId, std::uint64_t, std::uint64_t>> Snapshot(const MemoryPool& pool) {
  std::vector<std::tuple<AllocationId, std::uint64_t, std::uint64_t>> out;
  for (const Allocation& a : pool.Allocations()) out.emplace_back(a.id, a.offset, a.bytes);
  return out;
}

// A pool that says it is device memory but keeps the bytes in a host arena, so the loader's
// device path (no Address use, everything through Write) runs without a GPU.
class FakeDevicePool final : public MemoryPool {
 public:
  explicit FakeDevicePool(std::uint64_t bytes) : host_(std::move(*HostArena::Create(bytes))) {}
  MemoryKind kind() const override { return MemoryKind::kDevice; }
  absl::StatusOr<Allocation> Allocate(std::uint64_t b, std::uint64_t a, std::string_view o) override {
    return host_->Allocate(b, a, o);
  }
  absl::Status Free(AllocationId id) override { return host_->Free(id); }
  absl::StatusOr<Allocation> Lookup(AllocationId id) const override { return host_->Lookup(id); }
  std::vector<Allocation> Allocations() const override { return host_->Allocations(); }
  PoolStats Stats() const override { return host_->Stats(); }
  bool CanFit(std::uint64_t b, std::uint64_t a) const override { return host_->CanFit(b, a); }
  bool CanFitAfterCompaction(std::uint64_t b, std::uint64_t a) const override {
    return host_->CanFitAfterCompaction(b, a);
  }
  absl::Status Compact(const RelocationCallback& on_move) override { return host_->Compact(on_move); }
  absl::StatusOr<void*> Address(AllocationId) const override {
    return absl::FailedPreconditionError("device memory has no host address");
  }
  absl::Status Write(AllocationId id, std::uint64_t at, const void* src, std::uint64_t b) override {
    ++writes;
    return host_->Write(id, at, src, b);
  }
  absl::Status Read(AllocationId id, std::uint64_t at, void* dst, std::uint64_t b) const override {
    return host_->Read(id, at, dst, b);
  }
  int writes = 0;

 private:
  std::unique_ptr<HostArena> host_;
};

DType MatricesAs(DType dtype, const ExpectedTensor& t, DType file) {
  return t.is_matrix ? dtype : (file == DType::kF32 ? file : DType::kF32);
}

std::vector<float> InPool(MemoryPool& pool, const LoadedModel& m, const LoadedTensor& t) {
  std::vector<std::byte> bytes(t.bytes);
  REQUIRE(pool.Read(m.allocation, t.offset, bytes.data(), bytes.size()).ok());
  std::uint64_t n = 1;
  for (std::int64_t d : t.shape) n *= static_cast<std::uint64_t>(d);
  std::vector<float> out(n);
  REQUIRE(DequantizeToF32(t.dtype, bytes, out).ok());
  return out;
}

TEST_CASE("tensors stored in another type are converted into their place, host and device") {
  TempDir dir("convert");
  REQUIRE(WriteTinyGgufModel({}, dir.File("m.gguf"), DType::kQ4_1).ok());
  auto file = GgufFile::Open(dir.File("m.gguf"));
  REQUIRE(file.ok());
  for (DType target : {DType::kF32, DType::kBF16}) {
    auto host = std::move(*HostArena::Create(16 << 20));
    FakeDevicePool device(16 << 20);
    for (MemoryPool* pool : {static_cast<MemoryPool*>(host.get()), static_cast<MemoryPool*>(&device)}) {
      INFO(DTypeName(target) << (pool == &device ? " device" : " host"));
      LoadOptions options;
      options.store_as = [target](const ExpectedTensor& t, DType stored) { return MatricesAs(target, t, stored); };
      auto model = ModelLoader(*pool, options).Load(dir.File("m.gguf"), "tiny");
      REQUIRE(model.ok());
      CHECK(pool->Lookup(model->allocation)->bytes == model->allocation_bytes);
      for (const LoadedTensor& t : model->tensors) {
        const GgufTensorInfo* src = file->FindTensor(t.name);
        REQUIRE(src != nullptr);
        CHECK(t.file_dtype == src->dtype);
        CHECK(t.dtype == (src->dtype == DType::kQ4_1 ? target : DType::kF32));
        CHECK(t.bytes == *TensorBytes(t.dtype, t.shape));
        std::vector<float> want(t.bytes / (t.dtype == DType::kF32 ? 4 : 2));
        REQUIRE(DequantizeToF32(src->dtype, file->TensorData(*src), want).ok());
        if (t.dtype == DType::kBF16) {
          for (float& v : want) v = quant::Bf16ToFloat(quant::FloatToBf16(v));
        }
        CHECK(InPool(*pool, *model, t) == want);
      }
      REQUIRE(pool->Free(model->allocation).ok());
    }
    CHECK(device.writes > 0);
  }
}

TEST_CASE("progress rises to the total; the plan's bytes are what is read") {
  TempDir dir("progress");
  REQUIRE(WriteTinySafetensorsModel({}, dir.path()).ok());
  auto arena = std::move(*HostArena::Create(16 << 20));
  std::vector<std::pair<std::uint64_t, std::uint64_t>> calls;
  LoadOptions options;
  options.progress = [&](std::uint64_t done, std::uint64_t total) { calls.emplace_back(done, total); };
  auto plan = PlanModel(dir.path(), options);
  REQUIRE(plan.ok());
  std::uint64_t tensor_bytes = 0;
  for (const LoadedTensor& t : plan->tensors) tensor_bytes += t.bytes;
  CHECK(plan->file_bytes == tensor_bytes);  // stored as in the file
  auto model = ModelLoader(*arena, options).Load(dir.path(), "tiny");
  REQUIRE(model.ok());
  REQUIRE(calls.size() == plan->tensors.size());  // one chunk per tiny tensor
  for (std::size_t i = 0; i < calls.size(); ++i) {
    CHECK(calls[i].second == plan->file_bytes);
    if (i > 0) CHECK(calls[i].first > calls[i - 1].first);
  }
  CHECK(calls.back().first == plan->file_bytes);
}

TEST_CASE("a cancelled load, or a file that shrinks halfway, leaves the pool as it was") {
  TempDir dir("cancel");
  REQUIRE(WriteTinyGgufModel({}, dir.File("m.gguf")).ok());
  auto arena = std::move(*HostArena::Create(16 << 20));
  REQUIRE(arena->Allocate(1000, 256, "resident").ok());
  const auto before = Snapshot(*arena);
  std::stop_source stop;
  int calls = 0;
  LoadOptions options;
  options.cancel = stop.get_token();
  SECTION("cancelled halfway") {
    options.progress = [&](std::uint64_t, std::uint64_t) {
      if (++calls == 5) stop.request_stop();
    };
    auto model = ModelLoader(*arena, options).Load(dir.File("m.gguf"), "tiny");
    CHECK(model.status().code() == absl::StatusCode::kCancelled);
    CHECK(calls == 5);
  }
  SECTION("cancelled before the start") {
    stop.request_stop();
    auto model = ModelLoader(*arena, options).Load(dir.File("m.gguf"), "tiny");
    CHECK(model.status().code() == absl::StatusCode::kCancelled);
  }
  SECTION("the file shrinks after validation") {
    options.progress = [&](std::uint64_t, std::uint64_t) {
      if (++calls == 2) std::filesystem::resize_file(dir.File("m.gguf"), 4096);
    };
    auto model = ModelLoader(*arena, options).Load(dir.File("m.gguf"), "tiny");
    CHECK(model.status().code() == absl::StatusCode::kDataLoss);
    CHECK(std::string(model.status().message()).find("m.gguf") != std::string::npos);
  }
  CHECK(Snapshot(*arena) == before);
}

TEST_CASE("only the table's tensors are loaded; a conversion to a block type is refused") {
  TempDir dir("table");
  REQUIRE(WriteTinyGgufModel({.tie_word_embeddings = true}, dir.File("m.gguf")).ok());
  auto arena = std::move(*HostArena::Create(16 << 20));
  auto model = ModelLoader(*arena).Load(dir.File("m.gguf"), "tiny");
  REQUIRE(model.ok());
  const auto table = ExpectedTensors(model->config, TensorNaming::kGguf);
  REQUIRE(model->tensors.size() == table.size());
  for (const ExpectedTensor& e : table) {
    const LoadedTensor* t = model->Find(e.name);
    REQUIRE(t != nullptr);
    CHECK(t->role == e.role);
    CHECK(t->layer == e.layer);
  }
  CHECK(model->Find("output.weight") == nullptr);  // tied
  LoadOptions options;
  options.store_as = [](const ExpectedTensor&, DType) { return DType::kQ8_0; };
  auto refused = PlanModel(dir.File("m.gguf"), options);
  CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(refused.status().message()).find("cannot be stored as Q8_0") != std::string::npos);
}

}  // namespace
}  // namespace cace
