// What the C ABI's files share: the structs behind the opaque handles of cace.h, and the guard
// that turns a C++ call into a cace_code (no exception crosses the boundary).
#ifndef CACE_CAPI_C_INTERNAL_H_
#define CACE_CAPI_C_INTERNAL_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "cace/cace.h"
#include "cace/engine.h"
#include "cace/eviction_policy.h"
#include "cace/request_stream.h"

struct cace_error {
  cace_code code = CACE_OK;
  std::string message;
};

// The host's policy table and its state, shared by the options and every engine made from them;
// the state's destroy callback runs when the last of them lets go.
struct HostPolicyTable {
  cace_policy_callbacks callbacks{};
  std::string name;
  ~HostPolicyTable() {
    if (callbacks.destroy != nullptr) callbacks.destroy(callbacks.state);
  }
};

struct cace_engine_options {
  cace::EngineOptions options;
  std::shared_ptr<HostPolicyTable> host_policy;
};

struct cace_model_options {
  cace::ModelOptions options;
};

struct cace_request {
  cace::Request request;
};

// An engine handle: open until cace_engine_close. Calls enter and leave; close waits until none
// is inside, so the Engine is never destroyed under a call (calls made by callbacks while the
// Engine's destructor ends their requests find it closed).
struct cace_engine {
  std::mutex mutex;
  std::condition_variable idle;
  std::unique_ptr<cace::Engine> engine;
  int active_calls = 0;
};

struct cace_result {
  cace::RequestResult value;
  std::string message;  // value.status's message, NUL-terminated
  explicit cace_result(cace::RequestResult result = {})
      : value(std::move(result)), message(value.status.message()) {}
};

struct cace_event {
  cace::RequestStream::Event event;
  cace_result result;  // filled for the DONE event
};

struct cace_stream {
  cace_engine* engine = nullptr;
  std::shared_ptr<cace::RequestStream> events;
  cace::RequestId id = 0;
  bool taken_done = false;  // the DONE event went to the host
};

struct cace_metrics {
  cace::MetricsSnapshot snapshot;
};

struct cace_model_list {
  std::vector<cace::ResidencyEntry> entries;
};

namespace cace::capi {

// Sets *error (when asked for) and returns the code.
cace_code Fail(cace_error** error, cace_code code, std::string message);
cace_code FromStatus(cace_error** error, const absl::Status& status);
inline cace_code Ok(cace_error** error) {
  if (error != nullptr) *error = nullptr;
  return CACE_OK;
}

// Runs `body` (returning a cace_code), turning any exception into an error code.
template <typename Body>
cace_code Guarded(cace_error** error, Body&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Fail(error, CACE_RESOURCE_EXHAUSTED, "out of memory");
  } catch (const std::exception& e) {
    return Fail(error, CACE_INTERNAL, e.what());
  } catch (...) {
    return Fail(error, CACE_INTERNAL, "unknown C++ exception");
  }
}

// A pointer + length string; nullopt (and the error set) for NULL with a non-zero length.
std::optional<std::string_view> Text(const char* data, std::size_t length, const char* what, cace_error** error);

// Holds an open engine for the length of one call; `engine()` is null when the handle is NULL or
// closed, and then the error is already set.
class EngineCall {
 public:
  EngineCall(const cace_engine* handle, cace_error** error);
  ~EngineCall();
  EngineCall(const EngineCall&) = delete;
  EngineCall& operator=(const EngineCall&) = delete;
  cace::Engine* engine() const { return engine_; }
  cace_code code() const { return code_; }

 private:
  cace_engine* handle_ = nullptr;
  cace::Engine* engine_ = nullptr;
  cace_code code_ = CACE_OK;
};

}  // namespace cace::capi

#endif  // CACE_CAPI_C_INTERNAL_H_
