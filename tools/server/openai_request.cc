#include "tools/server/openai_request.h"

#include <charconv>
#include <cmath>
#include <utility>

#include <nlohmann/json.hpp>

namespace cace::server {
namespace {

using nlohmann::json;

// Nesting depth of a JSON text, counted before parsing so that a deeply nested body is refused
// without building it (strings are skipped; the parser checks everything else).
int JsonDepth(std::string_view text) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

// The body as a JSON object, or the 400/413 the client gets.
std::variant<json, ApiError> ParseBody(std::string_view body, const RequestLimits& limits) {
  if (body.size() > limits.max_body_bytes) return PayloadTooLarge(limits.max_body_bytes);
  if (JsonDepth(body) > limits.max_json_depth) {
    return BadRequest("Request body nested deeper than " + std::to_string(limits.max_json_depth) +
                      " levels");
  }
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return BadRequest("We could not parse the JSON body of your request: not valid JSON");
  }
  if (!parsed.is_object()) return BadRequest("The request body must be a JSON object");
  return parsed;
}

// Reads one optional member at a time, remembering the first error.
class Fields {
 public:
  explicit Fields(const json& object) : object_(object) {}

  const json* Get(const char* name) const {
    auto it = object_.find(name);
    if (it == object_.end() || it->is_null()) return nullptr;
    return &*it;
  }
  bool ok() const { return !error_.has_value(); }
  ApiError error() const { return *error_; }
  void Fail(ApiError error) {
    if (!error_) error_ = std::move(error);
  }
  void FailParam(const char* name, const std::string& what) {
    Fail(BadRequest(std::string("'") + name + "' " + what, name));
  }

  std::string RequiredString(const char* name) {
    const json* value = Get(name);
    if (value == nullptr) {
      FailParam(name, "is a required property");
      return {};
    }
    if (!value->is_string()) {
      FailParam(name, "must be a string");
      return {};
    }
    return value->get<std::string>();
  }
  std::optional<std::string> OptionalString(const char* name) {
    const json* value = Get(name);
    if (value == nullptr) return std::nullopt;
    if (!value->is_string()) {
      FailParam(name, "must be a string");
      return std::nullopt;
    }
    return value->get<std::string>();
  }
  bool Bool(const char* name, bool fallback) {
    const json* value = Get(name);
    if (value == nullptr) return fallback;
    if (!value->is_boolean()) {
      FailParam(name, "must be a boolean");
      return fallback;
    }
    return value->get<bool>();
  }
  double Number(const char* name, double fallback, double low, double high) {
    const json* value = Get(name);
    if (value == nullptr) return fallback;
    if (!value->is_number()) {
      FailParam(name, "must be a number");
      return fallback;
    }
    const double number = value->get<double>();
    if (!(number >= low && number <= high)) {
      FailParam(name, "must be between " + json(low).dump() + " and " + json(high).dump());
      return fallback;
    }
    return number;
  }
  std::optional<std::int64_t> Integer(const char* name) {
    const json* value = Get(name);
    if (value == nullptr) return std::nullopt;
    if (!value->is_number_integer()) {
      FailParam(name, "must be an integer");
      return std::nullopt;
    }
    if (value->is_number_unsigned() && value->get<std::uint64_t>() > INT64_MAX) {
      FailParam(name, "is out of range");
      return std::nullopt;
    }
    return value->get<std::int64_t>();
  }

 private:
  const json& object_;
  std::optional<ApiError> error_;
};

void RefuseUnsupported(Fields& fields) {
  if (auto n = fields.Integer("n"); n && *n != 1) fields.FailParam("n", "must be 1: cace returns one choice");
  if (auto best_of = fields.Integer("best_of"); best_of && *best_of != 1) {
    fields.FailParam("best_of", "must be 1");
  }
  if (const json* logprobs = fields.Get("logprobs");
      logprobs != nullptr && !(logprobs->is_boolean() && !logprobs->get<bool>())) {
    fields.FailParam("logprobs", "is not supported");
  }
  if (fields.Get("tools") != nullptr || fields.Get("functions") != nullptr) {
    fields.FailParam("tools", "are not supported");
  }
}

std::optional<KeepAlive> KeepAliveField(Fields& fields) {
  const json* value = fields.Get("keep_alive");
  if (value == nullptr) return std::nullopt;
  if (value->is_number()) {
    const double seconds = value->get<double>();
    if (!std::isfinite(seconds)) {
      fields.FailParam("keep_alive", "must be finite");
      return std::nullopt;
    }
    if (seconds < 0) return KeepAlive{.forever = true};
    return KeepAlive{.seconds = seconds};
  }
  if (value->is_string()) {
    if (auto parsed = ParseKeepAliveText(value->get<std::string>())) return parsed;
  }
  fields.FailParam("keep_alive", "must be seconds or a duration such as \"5m\", \"30s\", \"-1\"");
  return std::nullopt;
}

SamplingRequest SamplingFields(Fields& fields, const RequestLimits& limits, bool chat) {
  SamplingRequest sampling;
  std::optional<std::int64_t> max_tokens = fields.Integer("max_tokens");
  if (chat && !max_tokens) max_tokens = fields.Integer("max_completion_tokens");
  if (max_tokens) {
    if (*max_tokens < 1 || *max_tokens > limits.max_tokens) {
      fields.FailParam("max_tokens", "must be between 1 and " + std::to_string(limits.max_tokens));
    } else {
      sampling.max_tokens = static_cast<int>(*max_tokens);
    }
  } else {
    sampling.max_tokens = limits.default_max_tokens;
  }
  sampling.temperature = fields.Number("temperature", 1.0, 0.0, 2.0);
  sampling.top_p = fields.Number("top_p", 1.0, 0.0, 1.0);
  if (const json* top_p = fields.Get("top_p"); top_p != nullptr && sampling.top_p <= 0.0) {
    fields.FailParam("top_p", "must be greater than 0");
  }
  if (auto seed = fields.Integer("seed")) sampling.seed = static_cast<std::uint64_t>(*seed);
  if (const json* stop = fields.Get("stop")) {
    if (stop->is_string()) {
      sampling.stop.push_back(stop->get<std::string>());
    } else if (stop->is_array() && stop->size() <= limits.max_stop_sequences) {
      for (const json& item : *stop) {
        if (!item.is_string()) {
          fields.FailParam("stop", "must be a string or an array of strings");
          break;
        }
        sampling.stop.push_back(item.get<std::string>());
      }
    } else {
      fields.FailParam("stop", "must be a string or an array of at most " +
                                   std::to_string(limits.max_stop_sequences) + " strings");
    }
    for (const std::string& s : sampling.stop) {
      if (s.empty()) fields.FailParam("stop", "must not hold an empty string");
    }
  }
  return sampling;
}

void StreamFields(Fields& fields, bool& stream, bool& include_usage) {
  stream = fields.Bool("stream", false);
  if (const json* options = fields.Get("stream_options")) {
    if (!options->is_object()) {
      fields.FailParam("stream_options", "must be an object");
      return;
    }
    Fields inner(*options);
    include_usage = inner.Bool("include_usage", false);
    if (!inner.ok()) fields.Fail(inner.error());
    if (!stream) fields.FailParam("stream_options", "is only allowed when 'stream' is true");
  }
}

// Chat content: a string, or an array of {"type": "text", "text": ...} parts joined.
bool ReadContent(const json& content, std::string& out) {
  if (content.is_string()) {
    out = content.get<std::string>();
    return true;
  }
  if (!content.is_array()) return false;
  for (const json& part : content) {
    if (!part.is_object()) return false;
    auto type = part.find("type");
    auto text = part.find("text");
    if (type == part.end() || *type != "text" || text == part.end() || !text->is_string()) {
      return false;
    }
    out += text->get<std::string>();
  }
  return true;
}

}  // namespace

std::optional<KeepAlive> ParseKeepAliveText(std::string_view text) {
  if (text.empty()) return std::nullopt;
  static constexpr std::pair<std::string_view, double> kUnits[] = {
      {"ms", 0.001}, {"s", 1.0}, {"m", 60.0}, {"h", 3600.0}};
  double scale = 1.0;
  for (const auto& [unit, factor] : kUnits) {
    if (text.size() > unit.size() && text.ends_with(unit)) {
      // "ms" before "s": the table is in that order, and "5ms" must not read as 5m + "s".
      const char before = text[text.size() - unit.size() - 1];
      if (unit == "s" && before == 'm') continue;
      text.remove_suffix(unit.size());
      scale = factor;
      break;
    }
  }
  double number = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, number);
  if (ec != std::errc() || ptr != end || !std::isfinite(number)) return std::nullopt;
  if (number < 0) return KeepAlive{.forever = true};
  return KeepAlive{.seconds = number * scale};
}

ParseResult<CompletionRequest> ParseCompletionRequest(std::string_view body,
                                                      const RequestLimits& limits) {
  auto parsed = ParseBody(body, limits);
  if (auto* error = std::get_if<ApiError>(&parsed)) return *error;
  const json& object = std::get<json>(parsed);
  Fields fields(object);
  CompletionRequest request;
  request.model = fields.RequiredString("model");
  if (const json* prompt = fields.Get("prompt")) {
    if (prompt->is_string()) {
      request.prompt = prompt->get<std::string>();
    } else if (prompt->is_array() && prompt->size() == 1 && (*prompt)[0].is_string()) {
      request.prompt = (*prompt)[0].get<std::string>();
    } else {
      fields.FailParam("prompt", "must be a string (or an array holding one string)");
    }
  } else {
    fields.FailParam("prompt", "is a required property");
  }
  request.suffix = fields.OptionalString("suffix");
  request.echo = fields.Bool("echo", false);
  request.sampling = SamplingFields(fields, limits, /*chat=*/false);
  StreamFields(fields, request.stream, request.include_usage);
  request.keep_alive = KeepAliveField(fields);
  RefuseUnsupported(fields);
  if (fields.ok() && request.prompt.size() + request.suffix.value_or("").size() > limits.max_prompt_bytes) {
    fields.Fail(BadRequest("The prompt is longer than the server's limit of " +
                               std::to_string(limits.max_prompt_bytes) + " bytes",
                           "prompt", "context_length_exceeded"));
  }
  if (!fields.ok()) return fields.error();
  return request;
}

ParseResult<ChatRequest> ParseChatRequest(std::string_view body, const RequestLimits& limits) {
  auto parsed = ParseBody(body, limits);
  if (auto* error = std::get_if<ApiError>(&parsed)) return *error;
  const json& object = std::get<json>(parsed);
  Fields fields(object);
  ChatRequest request;
  request.model = fields.RequiredString("model");
  const json* messages = fields.Get("messages");
  std::size_t content_bytes = 0;
  if (messages == nullptr || !messages->is_array() || messages->empty()) {
    fields.FailParam("messages", "must be a non-empty array");
  } else if (messages->size() > limits.max_messages) {
    fields.FailParam("messages", "holds more than " + std::to_string(limits.max_messages) + " messages");
  } else {
    for (const json& item : *messages) {
      if (!item.is_object()) {
        fields.FailParam("messages", "must hold objects");
        break;
      }
      ChatMessage message;
      auto role = item.find("role");
      auto content = item.find("content");
      if (role == item.end() || !role->is_string() ||
          (*role != "system" && *role != "user" && *role != "assistant" && *role != "developer")) {
        fields.FailParam("messages", "roles must be \"system\", \"user\" or \"assistant\"");
        break;
      }
      message.role = *role == "developer" ? "system" : role->get<std::string>();
      if (content == item.end() || !ReadContent(*content, message.content)) {
        fields.FailParam("messages", "content must be a string or an array of text parts");
        break;
      }
      content_bytes += message.content.size();
      request.messages.push_back(std::move(message));
    }
  }
  request.sampling = SamplingFields(fields, limits, /*chat=*/true);
  StreamFields(fields, request.stream, request.include_usage);
  request.keep_alive = KeepAliveField(fields);
  RefuseUnsupported(fields);
  if (fields.ok() && content_bytes > limits.max_prompt_bytes) {
    fields.Fail(BadRequest("The messages are longer than the server's limit of " +
                               std::to_string(limits.max_prompt_bytes) + " bytes",
                           "messages", "context_length_exceeded"));
  }
  if (!fields.ok()) return fields.error();
  return request;
}

ParseResult<ModelControlRequest> ParseModelControlRequest(std::string_view body,
                                                          const RequestLimits& limits) {
  auto parsed = ParseBody(body, limits);
  if (auto* error = std::get_if<ApiError>(&parsed)) return *error;
  Fields fields(std::get<json>(parsed));
  ModelControlRequest request;
  request.model = fields.RequiredString("model");
  request.keep_alive = KeepAliveField(fields);
  if (auto prompt = fields.OptionalString("prompt"); prompt && !prompt->empty()) {
    fields.FailParam("prompt", "is not served here: use /v1/completions (an empty request preloads)");
  }
  if (!fields.ok()) return fields.error();
  return request;
}

}  // namespace cace::server
