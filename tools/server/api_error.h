// Errors as the OpenAI API reports them: an HTTP status and a JSON body
//   {"error": {"message": ..., "type": ..., "param": ..., "code": ...}}
// so that clients written against OpenAI (the `openai` package, editors' assistants) show the
// message instead of failing to parse the reply.
#ifndef CACE_TOOLS_SERVER_API_ERROR_H_
#define CACE_TOOLS_SERVER_API_ERROR_H_

#include <string>

#include "absl/status/status.h"

namespace cace::server {

struct ApiError {
  int http_status = 400;
  std::string type;     // "invalid_request_error", "authentication_error", ...
  std::string message;
  std::string param;    // the request field at fault; empty for none
  std::string code;     // "model_not_found", "context_length_exceeded", ...; empty for none

  std::string ToJson() const;
};

ApiError BadRequest(std::string message, std::string param = {}, std::string code = {});
ApiError ModelNotFound(const std::string& model);
ApiError Unauthorized();
ApiError PayloadTooLarge(std::size_t limit_bytes);
ApiError QueueFull(std::string message);
ApiError DeadlineExceeded(std::string message);
ApiError ServerError(std::string message);

// The engine's status for a request it refused or ended early, as the API reports it:
// NotFound 404, InvalidArgument 400, OutOfRange 400 context_length_exceeded, ResourceExhausted 429, DeadlineExceeded 504,
// Unavailable 503, FailedPrecondition 409, Cancelled 499 (the client went away; nobody reads
// it), anything else 500.
ApiError FromStatus(const absl::Status& status);

}  // namespace cace::server

#endif  // CACE_TOOLS_SERVER_API_ERROR_H_
