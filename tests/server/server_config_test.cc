#include "tools/server/server_config.h"

#include <catch2/catch.hpp>
#include <cstdlib>

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

}  // namespace
}  // namespace cace::server
