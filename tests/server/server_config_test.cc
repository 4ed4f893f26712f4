#include "tools/server/server_config.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>

namespace cace::server {
namespace {

TEST_CASE("a config: defaults to loopback, paths relative to the file, limits and engine read") {
  auto config = ParseServerConfig(R"({
      "limits": {"max_tokens": 512, "default_max_tokens": 64, "max_body_bytes": 1000},
      "engine": {"memory_budget_bytes": 1000000, "policy": "lru", "default_keep_alive": "5m",
                 "cace_weights": {"load_cost": 2}},
      "models": [{"id": "a", "path": "a.gguf", "pin": true, "keep_alive": -1, "priority": 2},
                 {"id": "b", "path": "/abs/b"}]})",
                                  "/etc/cace/server.json");
  REQUIRE(config.ok());
  CHECK(config->host == "127.0.0.1");
  CHECK(config->api_key.empty());
  CHECK(config->limits.max_tokens == 512);
  CHECK(config->limits.default_max_tokens == 64);
  CHECK(config->limits.max_body_bytes == 1000);
  CHECK(config->engine.policy == "lru");
  CHECK(config->engine.default_keep_alive->seconds == 300);
  CHECK(config->engine.cace_weights.at("load_cost") == 2);
  REQUIRE(config->models.size() == 2);
  CHECK(config->models[0].path == "/etc/cace/a.gguf");
  CHECK(config->models[0].pin);
  CHECK(config->models[0].keep_alive->forever);
  CHECK(config->models[0].priority == 2);
  CHECK(config->models[1].path == "/abs/b");
}

TEST_CASE("config errors name the file and the key") {
  const char* models = R"("models": [{"id": "a", "path": "a"}])";
  auto typo = ParseServerConfig(std::string(R"({"engine": {"memory_budget_bytes": 1, "polcy": "lru"}, )") + models + "}",
                                "c.json");
  REQUIRE(!typo.ok());
  CHECK(typo.status().message() == "c.json: engine: unknown key \"polcy\"");
  CHECK(!ParseServerConfig(std::string(R"({)") + models + "}", "c.json").ok());  // no budget
  CHECK(!ParseServerConfig(R"({"engine": {"memory_budget_bytes": 1}, "models": []})", "c.json").ok());
  CHECK(!ParseServerConfig(R"({"engine": {"memory_budget_bytes": 1},
      "models": [{"id": "a", "path": "x"}, {"id": "a", "path": "y"}]})", "c.json").ok());
  CHECK(!ParseServerConfig(std::string(R"({"listen": {"port": 70000}, "engine": {"memory_budget_bytes": 1}, )") +
                               models + "}", "c.json").ok());
  CHECK(!ParseServerConfig("{", "c.json").ok());
}

TEST_CASE("the API key from the environment, an unset variable is an error") {
  const std::string rest = R"("engine": {"memory_budget_bytes": 1}, "models": [{"id": "a", "path": "a"}]})";
  setenv("CACE_TEST_KEY", "sekrit", 1);
  auto config = ParseServerConfig(R"({"api_key_env": "CACE_TEST_KEY", )" + rest, "c.json");
  REQUIRE(config.ok());
  CHECK(config->api_key == "sekrit");
  unsetenv("CACE_TEST_KEY");
  CHECK(!ParseServerConfig(R"({"api_key_env": "CACE_TEST_KEY", )" + rest, "c.json").ok());
}

TEST_CASE("the engine's host cache, prefetch and state file: read, resolved against the file's folder, checked") {
  const std::string folder = std::filesystem::temp_directory_path().string();
  const std::string config_path = folder + "/server.json";
  const std::string models = R"(, "models": [{"id": "a", "path": "a"}]})";
  auto config = ParseServerConfig(
      R"({"engine": {"memory_budget_bytes": 1, "host_cache_bytes": 17179869184, "prefetch": true,
                     "state_file": "cace.state"})" + models, config_path);
  REQUIRE(config.ok());
  CHECK(config->engine.host_cache_bytes == 17179869184ull);
  CHECK(config->engine.prefetch);
  CHECK(config->engine.state_file == folder + "/cace.state");
  // Defaults: no host cache, no prefetch, no state file.
  auto plain = ParseServerConfig(R"({"engine": {"memory_budget_bytes": 1})" + models, config_path);
  REQUIRE(plain.ok());
  CHECK(plain->engine.host_cache_bytes == 0);
  CHECK(!plain->engine.prefetch);
  CHECK(plain->engine.state_file.empty());

  auto error = [&](const std::string& engine_fields) {
    auto parsed = ParseServerConfig(R"({"engine": {"memory_budget_bytes": 1, )" + engine_fields + "}" + models,
                                    "c.json");
    REQUIRE(!parsed.ok());
    CHECK(absl::IsInvalidArgument(parsed.status()));
    return std::string(parsed.status().message());
  };
  CHECK(error(R"("host_cache_bytes": -1)") == "c.json: engine: host_cache_bytes must be an integer >= 0");
  CHECK(error(R"("host_cache_bytes": "16GB")") == "c.json: engine: host_cache_bytes must be an integer >= 0");
  CHECK(error(R"("host_cache_bytes": 1.5)") == "c.json: engine: host_cache_bytes must be an integer >= 0");
  CHECK(error(R"("prefetch": 1)") == "c.json: engine: prefetch must be a boolean");
  CHECK(error(R"("state_file": 3)") == "c.json: engine: state_file must be a string");
  CHECK(error(R"("state_file": "/nonexistent-cace-folder/cace.state")") ==
        "c.json: engine: state_file's folder /nonexistent-cace-folder does not exist");
  CHECK(error(R"("state_file": ")" + folder + R"(")") == "c.json: engine: state_file " + folder + " is a folder");
}

}  // namespace
}  // namespace cace::server
