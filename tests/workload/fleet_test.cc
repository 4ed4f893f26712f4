#include <catch2/catch.hpp>

#include "lib/workload/fleet.h"
#include "tests/workload/temp_file.h"

namespace cace {
namespace {

using testing::TempFile;

TEST_CASE("accelerators carry the data-sheet figures in bytes and FLOP/s", "[fleet]") {
  absl::StatusOr<Accelerator> h100 = AcceleratorByName("H100");
  REQUIRE(h100.ok());
  CHECK(h100->memory_bytes == 80'000'000'000ULL);
  CHECK(h100->memory_bandwidth == Approx(3.35e12));
  CHECK(h100->bf16_flops == Approx(989e12));
  CHECK(h100->host_link_bandwidth == Approx(50e9));
  absl::StatusOr<Accelerator> l40s = AcceleratorByName("l40s");
  REQUIRE(l40s.ok());
  CHECK(l40s->memory_bytes == 48'000'000'000ULL);
  CHECK(l40s->memory_bandwidth == Approx(0.86e12));
  CHECK(l40s->bf16_flops == Approx(362e12));
  CHECK(l40s->host_link_bandwidth == Approx(25e9));
  absl::StatusOr<Accelerator> a10 = AcceleratorByName("A10");
  REQUIRE(a10.ok());
  CHECK(a10->memory_bytes == 24'000'000'000ULL);
  CHECK(a10->memory_bandwidth == Approx(0.60e12));
  CHECK(a10->bf16_flops == Approx(125e12));
  CHECK(KnownAccelerators().size() == 3);
  // The printed name finds the same device.
  REQUIRE(AcceleratorByName(h100->name).ok());
  CHECK(AcceleratorByName("v100").status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("code models match the reference table", "[fleet]") {
  CHECK(KnownCodeModels().size() == 16);
  absl::StatusOr<FleetModel> qwen7 = KnownCodeModel("Qwen2.5-Coder-7B");
  REQUIRE(qwen7.ok());
  CHECK(qwen7->params == Approx(7.61e9));
  CHECK(qwen7->weight_bytes == 15'200'000'000ULL);
  CHECK(qwen7->kv_bytes_per_token == 57'344);
  absl::StatusOr<FleetModel> small = KnownCodeModel("Qwen2.5-Coder-0.5B");
  REQUIRE(small.ok());
  CHECK(small->weight_bytes == 990'000'000ULL);
  CHECK(small->kv_bytes_per_token == 12'288);
  absl::StatusOr<FleetModel> codellama = KnownCodeModel("CodeLlama-13B");
  REQUIRE(codellama.ok());
  CHECK(codellama->params == Approx(13.0e9));
  CHECK(codellama->weight_bytes == 26'000'000'000ULL);
  CHECK(codellama->kv_bytes_per_token == 819'200);
  absl::StatusOr<FleetModel> starcoder = KnownCodeModel("StarCoder2-15B");
  REQUIRE(starcoder.ok());
  CHECK(starcoder->weight_bytes == 32'000'000'000ULL);
  CHECK(starcoder->kv_bytes_per_token == 81'920);
  CHECK(KnownCodeModel("GPT-4").status().code() == absl::StatusCode::kNotFound);
  // Every row's KV figure is 2 x layers x KV heads x head dim x 2 bytes: spot-check two.
  CHECK(KnownCodeModel("DeepSeek-Coder-6.7B")->kv_bytes_per_token == 2u * 32 * 32 * 128 * 2);
  CHECK(KnownCodeModel("Codestral-22B")->kv_bytes_per_token == 2u * 56 * 8 * 128 * 2);
}

TEST_CASE("source bandwidth follows the link and never exceeds it", "[fleet]") {
  Accelerator l40s = *AcceleratorByName("l40s");
  CHECK(SourceBandwidth(WeightSource::kHostPinned, l40s) == Approx(25e9));
  CHECK(SourceBandwidth(WeightSource::kHostPageable, l40s) == Approx(12.5e9));
  CHECK(SourceBandwidth(WeightSource::kNvme, l40s) == Approx(5e9));
  CHECK(SourceBandwidth(WeightSource::kNetwork, l40s) == Approx(1e9));
  Accelerator slow = l40s;
  slow.host_link_bandwidth = 2e9;
  CHECK(SourceBandwidth(WeightSource::kNvme, slow) == Approx(2e9));
}

TEST_CASE("source and role names round trip", "[fleet]") {
  for (WeightSource source : {WeightSource::kHostPinned, WeightSource::kHostPageable,
                              WeightSource::kNvme, WeightSource::kNetwork}) {
    CHECK(*ParseWeightSource(WeightSourceName(source)) == source);
  }
  for (ModelRole role : {ModelRole::kCompletion, ModelRole::kConversation, ModelRole::kBoth}) {
    CHECK(*ParseModelRole(ModelRoleName(role)) == role);
  }
  CHECK_FALSE(ParseWeightSource("tape").ok());
  CHECK_FALSE(ParseModelRole("embedding").ok());
}

TEST_CASE("the example fleet holds the default scenario's models with table figures", "[fleet]") {
  absl::StatusOr<std::vector<FleetModel>> fleet =
      ReadFleetCsv(CACE_SOURCE_DIR "/examples/fleets/l40s_code_fleet.csv");
  REQUIRE(fleet.ok());
  REQUIRE(fleet->size() == 8);
  int completion = 0;
  int conversation = 0;
  for (const FleetModel& model : *fleet) {
    absl::StatusOr<FleetModel> known = KnownCodeModel(model.name);
    REQUIRE(known.ok());
    CHECK(model.params == Approx(known->params));
    CHECK(model.weight_bytes == known->weight_bytes);
    CHECK(model.kv_bytes_per_token == known->kv_bytes_per_token);
    CHECK(model.source == WeightSource::kNvme);
    completion += model.role != ModelRole::kConversation ? 1 : 0;
    conversation += model.role != ModelRole::kCompletion ? 1 : 0;
  }
  CHECK(completion == 5);
  CHECK(conversation == 4);
  CHECK((*fleet)[4].name == "Qwen2.5-Coder-7B");
  CHECK((*fleet)[4].role == ModelRole::kBoth);
}

constexpr char kHeader[] = "name,params,weight_bytes,kv_bytes_per_token,source,role\n";

TEST_CASE("a fleet file reads with comments and free column order", "[fleet]") {
  TempFile file(
      "# two models\n"
      "role,name,source,params,weight_bytes,kv_bytes_per_token\n"
      "completion,tiny,host-pinned,1.5e9,3000000000,28672\n"
      "\n"
      "both,big,network,7e9,14000000000,57344\r\n");
  absl::StatusOr<std::vector<FleetModel>> fleet = ReadFleetCsv(file.path());
  REQUIRE(fleet.ok());
  REQUIRE(fleet->size() == 2);
  CHECK((*fleet)[0].name == "tiny");
  CHECK((*fleet)[0].role == ModelRole::kCompletion);
  CHECK((*fleet)[0].source == WeightSource::kHostPinned);
  CHECK((*fleet)[0].params == 1.5e9);
  CHECK((*fleet)[1].weight_bytes == 14'000'000'000ULL);
  CHECK((*fleet)[1].source == WeightSource::kNetwork);
}

TEST_CASE("fleet file errors name the file, the line and the field", "[fleet]") {
  struct Case {
    std::string row;
    std::string expected;  // part of the message
  };
  const std::vector<Case> cases = {
      {"m,1e9,0,100,nvme,both", ":2: column 'weight_bytes': is zero"},
      {"m,1e9,-5,100,nvme,both", ":2: column 'weight_bytes': '-5' is negative"},
      {"m,1e9,100,0,nvme,both", ":2: column 'kv_bytes_per_token': is zero"},
      {"m,0,100,100,nvme,both", ":2: column 'params': must be positive"},
      {"m,-1e9,100,100,nvme,both", ":2: column 'params': must be positive"},
      {"m,lots,100,100,nvme,both", ":2: column 'params': 'lots' is not a number"},
      {"m,1e9,100,100,tape,both", ":2: column 'source': unknown weight source 'tape'"},
      {"m,1e9,100,100,nvme,embedding", ":2: column 'role': unknown model role 'embedding'"},
      {"m,1e9,100,100,nvme", ":2: 5 fields, the header has 6"},
      {",1e9,100,100,nvme,both", ":2: column 'name': is empty"},
      {"m,1e9,100,100,nvme,both\nm,2e9,200,200,nvme,both", ":3: column 'name': 'm' already named on line 2"},
  };
  for (const Case& c : cases) {
    INFO(c.row);
    TempFile file(std::string(kHeader) + c.row + "\n");
    absl::StatusOr<std::vector<FleetModel>> fleet = ReadFleetCsv(file.path());
    REQUIRE_FALSE(fleet.ok());
    CHECK(fleet.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(fleet.status().message()), Catch::Contains(file.path() + c.expected));
  }
  TempFile bad_header("name,params,weight_bytes,kv_bytes_per_token,source,rol\nm,1,1,1,nvme,both\n");
  CHECK_THAT(std::string(ReadFleetCsv(bad_header.path()).status().message()),
             Catch::Contains(":1: header: unknown column 'rol'"));
  TempFile only_header(kHeader);
  CHECK_THAT(std::string(ReadFleetCsv(only_header.path()).status().message()),
             Catch::Contains("no models"));
  CHECK(ReadFleetCsv("/nonexistent/fleet.csv").status().code() == absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace cace
