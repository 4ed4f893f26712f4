// Version, codes, errors, cace_free, and the helpers every other file of the C ABI uses.
#include <cstdlib>
#include <cstring>

#include "capi/c_internal.h"

namespace cace::capi {

cace_code Fail(cace_error** error, cace_code code, std::string message) {
  if (error != nullptr) {
    *error = new (std::nothrow) cace_error{code, std::move(message)};
  }
  return code;
}

cace_code FromStatus(cace_error** error, const absl::Status& status) {
  if (status.ok()) return Ok(error);
  return Fail(error, static_cast<cace_code>(status.code()), std::string(status.message()));
}

std::optional<std::string_view> Text(const char* data, std::size_t length, const char* what, cace_error** error) {
  if (data == nullptr) {
    if (length == 0) return std::string_view();
    Fail(error, CACE_INVALID_ARGUMENT, std::string(what) + " is NULL with a non-zero length");
    return std::nullopt;
  }
  return std::string_view(data, length);
}

EngineCall::EngineCall(const cace_engine* handle, cace_error** error) {
  if (handle == nullptr) {
    code_ = Fail(error, CACE_INVALID_ARGUMENT, "engine is NULL");
    return;
  }
  handle_ = const_cast<cace_engine*>(handle);
  std::lock_guard<std::mutex> lock(handle_->mutex);
  if (handle_->engine == nullptr) {
    code_ = Fail(error, CACE_FAILED_PRECONDITION, "engine is closed");
    handle_ = nullptr;
    return;
  }
  ++handle_->active_calls;
  engine_ = handle_->engine.get();
}

EngineCall::~EngineCall() {
  if (handle_ == nullptr) return;
  std::lock_guard<std::mutex> lock(handle_->mutex);
  if (--handle_->active_calls == 0) handle_->idle.notify_all();
}

}  // namespace cace::capi

// The header's version macros must say what CMake's project() says (passed in by capi/CMakeLists).
static_assert(CACE_VERSION_MAJOR == CACE_PROJECT_VERSION_MAJOR && CACE_VERSION_MINOR == CACE_PROJECT_VERSION_MINOR &&
                  CACE_VERSION_PATCH == CACE_PROJECT_VERSION_PATCH,
              "include/cace/cace.h's CACE_VERSION_* differ from the project version in CMakeLists.txt");

extern "C" {

uint32_t cace_version(void) { return CACE_VERSION_NUMBER; }

const char* cace_version_string(void) { return CACE_PROJECT_VERSION; }

const char* cace_code_name(cace_code code) {
  static const char* const kNames[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
                                       "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
                                       "INTERNAL", "UNAVAILABLE"};
  if (code < 0 || code >= static_cast<cace_code>(sizeof kNames / sizeof kNames[0])) return "UNKNOWN";
  return kNames[code];
}

cace_code cace_error_code(const cace_error* error) { return error == nullptr ? CACE_OK : error->code; }

const char* cace_error_message(const cace_error* error, size_t* length) {
  if (error == nullptr) {
    if (length != nullptr) *length = 0;
    return "";
  }
  if (length != nullptr) *length = error->message.size();
  return error->message.c_str();
}

void cace_error_free(cace_error* error) { delete error; }

void cace_free(void* pointer) { std::free(pointer); }

}  // extern "C"
