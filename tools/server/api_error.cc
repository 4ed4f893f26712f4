#include "tools/server/api_error.h"

#include <nlohmann/json.hpp>

namespace cace::server {
namespace {

nlohmann::json NullIfEmpty(const std::string& text) {
  return text.empty() ? nlohmann::json(nullptr) : nlohmann::json(text);
}

}  // namespace

std::string ApiError::ToJson() const {
  nlohmann::json body = {{"error",
                          {{"message", message},
                           {"type", type},
                           {"param", NullIfEmpty(param)},
                           {"code", NullIfEmpty(code)}}}};
  // Replacement of invalid UTF-8: a message may quote a client's bytes.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

ApiError BadRequest(std::string message, std::string param, std::string code) {
  return {400, "invalid_request_error", std::move(message), std::move(param), std::move(code)};
}

ApiError ModelNotFound(const std::string& model) {
  return {404, "invalid_request_error", "The model '" + model + "' does not exist", "model",
          "model_not_found"};
}

ApiError Unauthorized() {
  return {401, "authentication_error", "Missing or invalid API key (Authorization: Bearer ...)", "",
          "invalid_api_key"};
}

ApiError PayloadTooLarge(std::size_t limit_bytes) {
  return {413, "invalid_request_error",
          "Request body larger than the server's limit of " + std::to_string(limit_bytes) + " bytes",
          "", "payload_too_large"};
}

ApiError QueueFull(std::string message) {
  return {429, "rate_limit_error", std::move(message), "", "queue_full"};
}

ApiError DeadlineExceeded(std::string message) {
  return {504, "timeout_error", std::move(message), "", "deadline_exceeded"};
}

ApiError ServerError(std::string message) {
  return {500, "server_error", std::move(message), "", ""};
}

ApiError FromStatus(const absl::Status& status) {
  std::string message(status.message());
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      return {404, "invalid_request_error", std::move(message), "model", "model_not_found"};
    case absl::StatusCode::kInvalidArgument:
      return BadRequest(std::move(message));
    case absl::StatusCode::kOutOfRange:  // prompt + max_tokens beyond the model's context
      return BadRequest(std::move(message), "prompt", "context_length_exceeded");
    case absl::StatusCode::kResourceExhausted:
      return QueueFull(std::move(message));
    case absl::StatusCode::kDeadlineExceeded:
      return DeadlineExceeded(std::move(message));
    case absl::StatusCode::kUnavailable:
      return {503, "server_error", std::move(message), "", "unavailable"};
    case absl::StatusCode::kCancelled:
      return {499, "invalid_request_error", std::move(message), "", "cancelled"};
    case absl::StatusCode::kFailedPrecondition:
      return {409, "invalid_request_error", std::move(message), "", "conflict"};
    default:
      return ServerError(std::move(message));
  }
}

}  // namespace cace::server
