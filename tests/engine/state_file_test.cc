// The state file: a round trip keeps every figure; a truncated, flipped, foreign or newer file is
// refused with a clear error (and read as a fresh start with a warning); what a core and its
// policy learned survives a restart into a new core.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "lib/engine/state_file.h"
#include "tests/engine/core_harness.h"

namespace cace {
namespace {

using testing::Harness;
using testing::kGiB;

LearnedState Sample() {
  LearnedState state;
  state.load_profiles.push_back(LoadProfile{FileIdentity{"/models/a.gguf", 123456, 1700000000123456789}, 0.75, 120000, 4096});
  state.load_profiles.push_back(LoadProfile{FileIdentity{"/models/b", 9, -1}, 0.0, 0, 0});
  LearnedModel a{"qwen-1.5b", 2.5, 4, 0.4, 2, {}};
  a.usage = LearnedUsage{{3, 1, 0}, 12.5, 40.0, {20.5, 300.0, 0.0}, {7, 2, 0}};
  state.models.push_back(a);
  state.models.push_back(LearnedModel{"never-used", 0, 0, 0, 0, {}});
  return state;
}

std::string TempFile(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("cace_state_" + name)).string();
}

void Write(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

void CheckSame(const LearnedState& a, const LearnedState& b) {
  REQUIRE(a.load_profiles.size() == b.load_profiles.size());
  for (std::size_t i = 0; i < a.load_profiles.size(); ++i) {
    CHECK(a.load_profiles[i].file == b.load_profiles[i].file);
    CHECK(a.load_profiles[i].load_seconds == b.load_profiles[i].load_seconds);
    CHECK(a.load_profiles[i].pool_bytes == b.load_profiles[i].pool_bytes);
    CHECK(a.load_profiles[i].kv_bytes_per_token == b.load_profiles[i].kv_bytes_per_token);
  }
  CHECK(a.models == b.models);
}

TEST_CASE("a state file round trip keeps every figure") {
  const std::string path = TempFile("roundtrip");
  REQUIRE(WriteStateFile(path, Sample()).ok());
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));  // renamed over, nothing left behind
  absl::StatusOr<LearnedState> read = ReadStateFile(path);
  REQUIRE(read.ok());
  CheckSame(*read, Sample());
  // Written again over the old one.
  LearnedState empty;
  REQUIRE(WriteStateFile(path, empty).ok());
  REQUIRE(ReadStateFile(path).ok());
  CHECK(ReadStateFile(path)->models.empty());
  std::remove(path.c_str());
}

TEST_CASE("every truncation of a state file is refused") {
  const std::string bytes = EncodeState(Sample());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    INFO("first " << n << " bytes");
    CHECK_FALSE(DecodeState(std::string_view(bytes).substr(0, n)).ok());
  }
  CHECK(DecodeState(bytes + "x").status().code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("a flipped byte anywhere in a state file is refused") {
  const std::string bytes = EncodeState(Sample());
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::string damaged = bytes;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x10);
    INFO("byte " << i);
    CHECK_FALSE(DecodeState(damaged).ok());
  }
}

TEST_CASE("a foreign file and a newer version are refused by name") {
  CHECK(DecodeState("hello, world, this is not a state file").status().code() == absl::StatusCode::kInvalidArgument);
  std::string newer = EncodeState(Sample());
  newer[8] = 2;  // the version's low byte
  const absl::Status status = DecodeState(newer).status();
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(status.message()).find("version 2") != std::string::npos);
}

TEST_CASE("a checksummed payload with a bad field is still refused") {
  // A valid frame around a payload whose model count promises more than it holds.
  LearnedState state = Sample();
  std::string bytes = EncodeState(state);
  const absl::StatusOr<LearnedState> ok = DecodeState(bytes);
  REQUIRE(ok.ok());
  state.models[0].usage.idle_seconds = -5;  // only -1 means never used
  CHECK(DecodeState(EncodeState(state)).status().code() == absl::StatusCode::kDataLoss);
  state = Sample();
  state.models[0].name.clear();
  CHECK(DecodeState(EncodeState(state)).status().code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("a damaged state file is a warning and a fresh start; an absent one is silent") {
  const std::string path = TempFile("damaged");
  std::string bytes = EncodeState(Sample());
  bytes[bytes.size() / 2] ^= 0x01;
  Write(path, bytes);
  std::string warning;
  const LearnedState state = ReadStateFileOrFresh(path, warning);
  CHECK(state.models.empty());
  CHECK(state.load_profiles.empty());
  CHECK(warning.find("starting fresh") != std::string::npos);
  CHECK(warning.find(path) != std::string::npos);
  std::remove(path.c_str());
  ReadStateFileOrFresh(path, warning);
  CHECK(warning.empty());
}

// Serves `id` on `model` of `h`, loading it when needed, with an output of `tokens`.
void Serve(Harness& h, std::uint64_t id, ModelHandle model, TaskKind kind, Seconds now, Seconds load,
           std::uint32_t tokens) {
  h.Submit(h.Request(id, model, kind), now);
  if (h.State(model) == ModelState::kLoading) h.Loaded(model, now, load);
  h.Finish(id, tokens, now);
}

TEST_CASE("what a core and its policy learned survives a restart into a new core") {
  CoreOptions options;
  options.host_cache_bytes = 2 * kGiB;
  Harness before(3 * kGiB, {2 * kGiB, 2 * kGiB}, std::make_unique<CacePolicy>(),
                 std::make_unique<FcfsLoadScheduler>(), options);
  Serve(before, 0, 0, TaskKind::kCompletion, 0.0, 3.0, 10);
  Serve(before, 1, 1, TaskKind::kChat, 5.0, 4.0, 200);
  Serve(before, 2, 0, TaskKind::kCompletion, 9.0, 0.5, 30);  // from the host cache
  Serve(before, 3, 0, TaskKind::kCompletion, 10.0, 0.5, 20);
  const std::vector<LearnedModel> learned = before.core->ExportLearned(12.0);
  REQUIRE(learned.size() == 2);
  CHECK(learned[0].disk_load_seconds == 3.0);
  CHECK(learned[0].host_cache_load_samples == 1);
  CHECK(learned[0].host_cache_load_seconds == 0.5);
  CHECK(learned[0].usage.output_samples[KindIndex(TaskKind::kCompletion)] == 3);
  CHECK(learned[0].usage.output_mean[KindIndex(TaskKind::kCompletion)] == Approx(20.0));
  CHECK(learned[0].usage.window_counts[KindIndex(TaskKind::kCompletion)] == 3);
  CHECK(learned[0].usage.idle_seconds == Approx(2.0));

  const std::string path = TempFile("core");
  REQUIRE(WriteStateFile(path, LearnedState{{}, learned}).ok());
  std::string warning;
  const LearnedState read = ReadStateFileOrFresh(path, warning);
  std::remove(path.c_str());
  REQUIRE(warning.empty());

  // A new run, models registered in another order, one of them new.
  auto policy = std::make_unique<CacePolicy>();
  Harness after(3 * kGiB, {}, std::move(policy), std::make_unique<FcfsLoadScheduler>(), options);
  for (std::string name : {"new", "m1", "m0"}) {
    REQUIRE(after.core->AddModel(ModelSpec{name, {}, WeightFormat::kSimulated, 2 * kGiB, 1, 9.0}).ok());
  }
  CHECK(after.core->RestoreLearned(read.models, 12.0) == 2);
  const std::vector<LearnedModel> again = after.core->ExportLearned(12.0);
  REQUIRE(again.size() == 3);
  CHECK(again[0].disk_load_samples == 0);  // "new" keeps its registered estimate
  CHECK(again[0].disk_load_seconds == 9.0);
  CHECK(again[2] == learned[0]);  // m0, handle 2 now
  CHECK(again[1] == learned[1]);
  CHECK(after.Record(2).load_seconds == 3.0);
}

TEST_CASE("the fuzzer's seed is a valid state file") {
  const absl::StatusOr<LearnedState> seed =
      ReadStateFile(CACE_SOURCE_DIR "/tests/fuzz/corpus/fuzz_state_file/sample.state");
  INFO(seed.status().message());
  REQUIRE(seed.ok());
  CHECK(seed->models.size() == 1);
  CHECK(seed->load_profiles.size() == 1);
}

}  // namespace
}  // namespace cace
