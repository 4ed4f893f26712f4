#include "lib/loader/load_profiler.h"

#include <catch2/catch.hpp>
#include <filesystem>

#include "lib/loader/tiny_model_writer.h"
#include "lib/pool/host_arena.h"
#include "tests/loader/test_files.h"

namespace cace {
namespace {

TEST_CASE("profiles are measured, stored, and survive a restart of the store") {
  testing::TempDir dir("profiler");
  const std::string model = dir.File("tiny.gguf");
  REQUIRE(WriteTinyGgufModel(TinyModelSpec{}, model, DType::kQ8_0).ok());
  auto arena = std::move(*HostArena::Create(16 << 20));
  const std::string store_path = dir.File("profiles.txt");

  LoadProfile measured;
  {
    auto store = LoadProfileStore::Open(store_path);
    REQUIRE(store.ok());
    CHECK(store->records().empty());
    auto p = ProfileOrRecall(*store, *arena, model);
    REQUIRE(p.ok());
    measured = *p;
    CHECK(p->pool_bytes > 0);
    CHECK(p->load_seconds >= 0);
    CHECK(p->kv_bytes_per_token == TinyModelConfig(TinyModelSpec{}).KvBytesPerToken());
    CHECK(p->file.bytes == std::filesystem::file_size(model));
    CHECK(arena->Stats().used == 0);  // the profiling load was freed again
  }
  // A new process: the store is read back from disk and the model is not loaded again.
  auto reopened = LoadProfileStore::Open(store_path);
  REQUIRE(reopened.ok());
  REQUIRE(reopened->records().size() == 1);
  std::optional<LoadProfile> recalled = reopened->Find(model);
  REQUIRE(recalled.has_value());
  CHECK(recalled->file == measured.file);
  CHECK(recalled->load_seconds == measured.load_seconds);  // written with round-trip precision
  CHECK(recalled->pool_bytes == measured.pool_bytes);

  // A changed file is stale: its record no longer matches and it is measured again.
  REQUIRE(WriteTinyGgufModel(TinyModelSpec{.seed = 2}, model, DType::kF16).ok());
  std::filesystem::last_write_time(model, std::filesystem::last_write_time(model) + std::chrono::seconds(5));
  CHECK_FALSE(reopened->Find(model).has_value());
  auto again = ProfileOrRecall(*reopened, *arena, model);
  REQUIRE(again.ok());
  CHECK(again->pool_bytes > measured.pool_bytes);  // F16 is larger than Q8_0
  CHECK(LoadProfileStore::Open(store_path)->records().size() == 1);  // replaced, not appended
}

TEST_CASE("a damaged profile store is an error naming the file and line") {
  testing::TempDir dir("profiler_bad");
  testing::WriteBytes(dir.File("profiles.txt"), testing::Bytes("# header\n/m.gguf\t1\t2\tnot-a-number\t4\t5\n"));
  auto store = LoadProfileStore::Open(dir.File("profiles.txt"));
  REQUIRE_FALSE(store.ok());
  CHECK(std::string(store.status().message()).find("profiles.txt: line 2") != std::string::npos);
}

TEST_CASE("profiling a model that does not fit fails cleanly") {
  testing::TempDir dir("profiler_full");
  REQUIRE(WriteTinyGgufModel(TinyModelSpec{}, dir.File("m.gguf")).ok());
  auto arena = std::move(*HostArena::Create(4096));
  auto p = ProfileLoad(*arena, dir.File("m.gguf"));
  CHECK(absl::IsResourceExhausted(p.status()));
  CHECK(arena->Stats().used == 0);
}

}  // namespace
}  // namespace cace
