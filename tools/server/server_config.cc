#include "tools/server/server_config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace cace::server {
namespace {

using nlohmann::json;

// Reads one JSON object of the config, refusing keys it does not know (a typo in a limit must
// not silently leave the default in place).
class Section {
 public:
  Section(const json& object, std::string where, absl::Status& status)
      : object_(object), where_(std::move(where)), status_(status) {
    if (!object_.is_object()) Fail("must be an object");
  }
  ~Section() {
    if (!object_.is_object()) return;
    for (const auto& [key, value] : object_.items()) {
      if (!known_.contains(key)) Fail(absl::StrCat("unknown key \"", key, "\""));
    }
  }

  const json* Get(const char* key) {
    known_.insert(key);
    if (!object_.is_object()) return nullptr;
    auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }
  template <typename T>
  void Read(const char* key, T& out) {
    const json* value = Get(key);
    if (value == nullptr) return;
    if constexpr (std::is_same_v<T, bool>) {
      if (!value->is_boolean()) return Fail(absl::StrCat(key, " must be a boolean"));
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (!value->is_string()) return Fail(absl::StrCat(key, " must be a string"));
    } else if constexpr (std::is_floating_point_v<T>) {
      if (!value->is_number() || value->get<double>() < 0) {
        return Fail(absl::StrCat(key, " must be a number >= 0"));
      }
    } else {
      if (!value->is_number_integer() || value->get<std::int64_t>() < 0) {
        return Fail(absl::StrCat(key, " must be an integer >= 0"));
      }
    }
    out = value->get<T>();
  }
  void ReadKeepAlive(const char* key, std::optional<KeepAlive>& out) {
    const json* value = Get(key);
    if (value == nullptr) return;
    if (value->is_number()) {
      out = value->get<double>() < 0 ? KeepAlive{.forever = true} : KeepAlive{.seconds = value->get<double>()};
    } else if (value->is_string()) {
      out = ParseKeepAliveText(value->get<std::string>());
      if (!out) Fail(absl::StrCat(key, " must be seconds or a duration such as \"5m\""));
    } else {
      Fail(absl::StrCat(key, " must be seconds or a duration such as \"5m\""));
    }
  }
  void Fail(const std::string& what) {
    if (status_.ok()) status_ = absl::InvalidArgumentError(absl::StrCat(where_, ": ", what));
  }

 private:
  const json& object_;
  std::string where_;
  absl::Status& status_;
  std::set<std::string> known_;
};

}  // namespace

absl::StatusOr<ServerConfig> ParseServerConfig(std::string_view text, const std::string& path) {
  const json root = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return absl::InvalidArgumentError(absl::StrCat(path, ": not valid JSON"));
  ServerConfig config;
  absl::Status status;
  {
    Section top(root, path, status);
    if (const json* listen = top.Get("listen")) {
      Section section(*listen, path + ": listen", status);
      section.Read("host", config.host);
      section.Read("port", config.port);
      if (config.port > 65535) section.Fail("port must be at most 65535");
    }
    top.Read("api_key", config.api_key);
    std::string key_env;
    top.Read("api_key_env", key_env);
    if (!key_env.empty()) {
      const char* value = std::getenv(key_env.c_str());
      if (value == nullptr || *value == '\0') {
        top.Fail(absl::StrCat("api_key_env names ", key_env, ", which is not set"));
      } else {
        config.api_key = value;
      }
    }
    if (const json* limits = top.Get("limits")) {
      Section section(*limits, path + ": limits", status);
      RequestLimits& l = config.limits;
      section.Read("max_body_bytes", l.max_body_bytes);
      section.Read("max_prompt_bytes", l.max_prompt_bytes);
      section.Read("max_tokens", l.max_tokens);
      section.Read("default_max_tokens", l.default_max_tokens);
      section.Read("max_messages", l.max_messages);
      section.Read("request_deadline_s", config.request_deadline_s);
      section.Read("stream_write_timeout_s", config.stream_write_timeout_s);
      section.Read("max_buffered_pieces", config.max_buffered_pieces);
      if (l.default_max_tokens < 1 || l.default_max_tokens > l.max_tokens) {
        section.Fail("default_max_tokens must be between 1 and max_tokens");
      }
      if (config.stream_write_timeout_s <= 0) section.Fail("stream_write_timeout_s must be > 0");
    }
    if (const json* engine = top.Get("engine")) {
      Section section(*engine, path + ": engine", status);
      EngineSection& e = config.engine;
      section.Read("memory_budget_bytes", e.memory_budget_bytes);
      section.Read("policy", e.policy);
      section.Read("max_batch", e.max_batch);
      section.Read("max_pending_requests", e.max_pending_requests);
      section.Read("compute_threads", e.compute_threads);
      section.ReadKeepAlive("default_keep_alive", e.default_keep_alive);
      section.Read("host_cache_bytes", e.host_cache_bytes);
      section.Read("prefetch", e.prefetch);
      section.Read("state_file", e.state_file);
      if (!e.state_file.empty()) {
        // Checked now: a state file that cannot be written would be found only at shutdown.
        std::filesystem::path state(e.state_file);
        if (state.is_relative()) state = std::filesystem::path(path).parent_path() / state;
        std::error_code error;
        if (std::filesystem::is_directory(state, error)) {
          section.Fail(absl::StrCat("state_file ", state.string(), " is a folder"));
        } else if (const std::filesystem::path folder = state.parent_path();
                   !folder.empty() && !std::filesystem::is_directory(folder, error)) {
          section.Fail(absl::StrCat("state_file's folder ", folder.string(), " does not exist"));
        }
        e.state_file = state.string();
      }
      if (const json* weights = section.Get("cace_weights")) {
        if (!weights->is_object()) section.Fail("cace_weights must be an object of numbers");
        for (const auto& [name, value] : weights->items()) {
          if (!value.is_number()) {
            section.Fail("cace_weights must be an object of numbers");
            break;
          }
          e.cace_weights[name] = value.get<double>();
        }
      }
    }
    const json* models = top.Get("models");
    if (models == nullptr || !models->is_array() || models->empty()) {
      top.Fail("models must be a non-empty array");
    } else {
      const std::filesystem::path base = std::filesystem::path(path).parent_path();
      std::set<std::string> ids;
      for (std::size_t i = 0; i < models->size(); ++i) {
        Section section((*models)[i], absl::StrCat(path, ": models[", i, "]"), status);
        ModelEntry entry;
        section.Read("id", entry.id);
        section.Read("path", entry.path);
        section.Read("pin", entry.pin);
        section.Read("chat_template_file", entry.chat_template_file);
        section.ReadKeepAlive("keep_alive", entry.keep_alive);
        if (const json* priority = section.Get("priority")) {
          if (!priority->is_number_integer()) section.Fail("priority must be an integer");
          else entry.priority = priority->get<int>();
        }
        if (entry.id.empty() || entry.path.empty()) section.Fail("needs an id and a path");
        if (!ids.insert(entry.id).second) section.Fail(absl::StrCat("id \"", entry.id, "\" repeated"));
        if (std::filesystem::path(entry.path).is_relative()) entry.path = (base / entry.path).string();
        if (!entry.chat_template_file.empty() && std::filesystem::path(entry.chat_template_file).is_relative()) {
          entry.chat_template_file = (base / entry.chat_template_file).string();
        }
        config.models.push_back(std::move(entry));
      }
    }
  }
  if (!status.ok()) return status;
  if (config.engine.memory_budget_bytes == 0) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": engine.memory_budget_bytes is required"));
  }
  return config;
}

absl::StatusOr<ServerConfig> ReadServerConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot be read"));
  std::stringstream text;
  text << in.rdbuf();
  return ParseServerConfig(text.str(), path);
}

}  // namespace cace::server
