// The C ABI driven by arbitrary call sequences with arbitrary arguments: the input is a byte
// stream decoded into calls on a few handle slots (engine options, engines, model options,
// requests, streams), each slot live, NULL or, for engines, closed. Arguments come from the
// stream too: strings of any bytes (or NULL, with or without a length), numbers of any value
// (NaN, infinities, negatives, extremes). Checks what cace.h promises, beyond not crashing: a call
// that fails returns its code in *error with a message, one that succeeds leaves *error NULL; a
// NULL handle is CACE_INVALID_ARGUMENT and a closed engine CACE_FAILED_PRECONDITION; every request
// accepted gets exactly one on_done by the time its engine is destroyed. Handles are never used
// after destroy (cace.h: destroyed handles cannot be checked). Paths given to add_model are a tiny
// model, a missing path or text under a folder that does not exist (no arbitrary file reads);
// state files are one in the temporary folder or text under a folder that does not exist (no
// arbitrary file writes).
// Shared by the libFuzzer binary fuzz_capi and by tests/reliability/fuzz_seeds_test.cc (its seed corpus replayed in every build).
#ifndef CACE_TESTS_FUZZ_CAPI_FUZZ_TARGET_H_
#define CACE_TESTS_FUZZ_CAPI_FUZZ_TARGET_H_

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>

#include <unistd.h>

#include "cace/cace.h"
#include "lib/loader/tiny_model_writer.h"

namespace cace::fuzz {

// Aborts (what a fuzzer reports) naming the broken check. A macro for __FILE__ and __LINE__:
// clang 14, which builds the fuzzers, has no std::source_location with libstdc++.
#define CACE_CAPI_REQUIRE(condition)                                                \
  do {                                                                          \
    if (!(condition)) {                                                         \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                             \
    }                                                                           \
  } while (false)

// Reads the input; past its end every read is 0.
class CallStream {
 public:
  CallStream(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool Done() const { return pos_ >= size_; }
  std::uint8_t U8() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::uint64_t U64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = v << 8 | U8();
    return v;
  }
  std::int32_t I32() {
    static constexpr std::int32_t kEdges[] = {0, 1, -1, 2, 8, 64, 1000, std::numeric_limits<std::int32_t>::max(),
                                              std::numeric_limits<std::int32_t>::min()};
    const std::uint8_t k = U8();
    if (k < 2 * std::size(kEdges)) return kEdges[k % std::size(kEdges)];
    return static_cast<std::int32_t>(U64());
  }
  double F64() {
    static constexpr double kEdges[] = {0.0, 1.0, -1.0, 0.5, 1e-9, 1e300, -1e300,
                                        std::numeric_limits<double>::infinity(),
                                        -std::numeric_limits<double>::infinity(),
                                        std::numeric_limits<double>::quiet_NaN()};
    const std::uint8_t k = U8();
    if (k < 2 * std::size(kEdges)) return kEdges[k % std::size(kEdges)];
    double d;
    const std::uint64_t bits = U64();
    std::memcpy(&d, &bits, sizeof d);
    return d;
  }
  // A string: NULL with length 0, NULL with a length (misuse), or up to 64 bytes of the input.
  struct Text {
    const char* data = nullptr;
    std::size_t length = 0;
  };
  Text Str() {
    const std::uint8_t mode = U8();
    if (mode % 16 == 0) return {};
    if (mode % 16 == 1) return {nullptr, 1 + mode / 16u};
    const std::size_t n = std::min<std::size_t>(U8() % 65, size_ - std::min(pos_, size_));
    Text t{reinterpret_cast<const char*>(data_ + std::min(pos_, size_)), n};
    pos_ += n;
    return t;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

// A tiny model on disk, written once per process.
inline const std::string& CapiFuzzModel() {
  static const std::string* dir = [] {
    auto* d = new std::string((std::filesystem::temp_directory_path() /
                               ("cace_fuzz_capi_" + std::to_string(::getpid()))).string());
    if (!std::filesystem::exists(*d + "/config.json") && !WriteTinySafetensorsModel({}, *d).ok()) std::abort();
    return d;
  }();
  return *dir;
}

struct DoneCounter {
  std::atomic<int> submitted{0};
  std::atomic<int> done{0};
};

inline void CountDone(void* user_data, const cace_result* result) {
  CACE_CAPI_REQUIRE(result != nullptr);
  size_t length = 0;
  const char* message = cace_result_message(result, &length);
  // A failure says why; the one ABORTED comes from a refusing token callback (RefuseToken).
  if (cace_result_code(result) != CACE_OK) CACE_CAPI_REQUIRE(message != nullptr && length > 0);
  if (cace_result_code(result) == CACE_ABORTED) {
    CACE_CAPI_REQUIRE(std::string_view(message, length) == "on_token returned 3");
  }
  ++static_cast<DoneCounter*>(user_data)->done;
}

inline int32_t IgnoreToken(void*, uint64_t, int32_t, const char* text, size_t length) {
  CACE_CAPI_REQUIRE(length == 0 || text != nullptr);
  return 0;
}

// A warning has text (NUL-terminated, as cace.h promises).
inline void CheckWarning(void*, const char* text, size_t length) {
  CACE_CAPI_REQUIRE(text != nullptr && length > 0 && text[length] == '\0');
}

// A host whose sink fails at once: its request ends with CACE_ABORTED.
inline int32_t RefuseToken(void*, uint64_t, int32_t, const char*, size_t) { return 3; }

// The error out-parameter agrees with the code; frees it. By reference: read after the call that
// set it (the order in which a call's arguments are evaluated is unspecified).
inline cace_code Checked(cace_code code, cace_error*& error) {
  if (code == CACE_OK) {
    CACE_CAPI_REQUIRE(error == nullptr);
  } else {
    CACE_CAPI_REQUIRE(error != nullptr);
    CACE_CAPI_REQUIRE(cace_error_code(error) == code);
    size_t length = 0;
    const char* message = cace_error_message(error, &length);
    CACE_CAPI_REQUIRE(message != nullptr && length > 0);
    cace_error_free(error);
    error = nullptr;
  }
  return code;
}

inline int FuzzCapiCalls(const std::uint8_t* data, std::size_t size) {
  constexpr int kSlots = 2;
  constexpr int kMaxCalls = 48;
  CallStream in(data, size);
  cace_engine_options* options[kSlots] = {};
  cace_engine* engines[kSlots] = {};
  bool closed[kSlots] = {};
  cace_model_options* model_options[kSlots] = {};
  cace_request* requests[kSlots] = {};
  cace_stream* streams[kSlots] = {};
  DoneCounter counters[kSlots];
  cace_request_callbacks callbacks{sizeof(cace_request_callbacks), nullptr, IgnoreToken, CountDone};

  for (int call = 0; call < kMaxCalls && !in.Done(); ++call) {
    const std::uint8_t op = in.U8();
    const int s = (op >> 6) % kSlots;                  // the slot the call works on
    const bool null_handle = (op & 0x20) != 0 && (in.U8() & 7) == 0;  // now and then, NULL instead
    cace_error* error = nullptr;
    cace_engine* engine = null_handle ? nullptr : engines[s];
    auto expect_engine_misuse = [&](cace_code code) {
      if (engine == nullptr) CACE_CAPI_REQUIRE(code == CACE_INVALID_ARGUMENT);
      else if (closed[s]) CACE_CAPI_REQUIRE(code == CACE_FAILED_PRECONDITION || code == CACE_INVALID_ARGUMENT);
    };
    switch (op & 0x1f) {
      case 0:
        if (options[s] == nullptr) options[s] = cace_engine_options_create();
        break;
      case 1: {
        // Budgets up to 256 MiB (and the extremes): the arena is reserved as address space.
        const std::uint8_t k = in.U8();
        const std::uint64_t budget = k == 0 ? 0 : k == 1 ? ~0ull : in.U64() % (256ull << 20);
        const cace_code c = Checked(cace_engine_options_set_memory_budget(null_handle ? nullptr : options[s], budget,
                                                                          &error), error);
        if (null_handle || options[s] == nullptr) CACE_CAPI_REQUIRE(c == CACE_INVALID_ARGUMENT);
        break;
      }
      case 2: {
        const CallStream::Text t = in.Str();
        Checked(cace_engine_options_set_policy(null_handle ? nullptr : options[s], t.data, t.length, &error), error);
        break;
      }
      case 3: {
        const CallStream::Text t = in.Str();
        Checked(cace_engine_options_set_cace_weight(options[s], t.data, t.length, in.F64(), &error), error);
        break;
      }
      case 4:
        Checked(cace_engine_options_set_max_pending_requests(options[s], static_cast<std::int64_t>(in.I32()), &error),
                error);
        Checked(cace_engine_options_set_max_batch(options[s], in.I32(), &error), error);
        Checked(cace_engine_options_set_default_keep_alive(options[s], in.F64(), &error), error);
        // One compute thread at most: the fuzzer must not spawn a pool per input.
        Checked(cace_engine_options_set_compute_threads(options[s], 1, &error), error);
        break;
      case 5:
        Checked(cace_engine_options_set_backend(options[s], static_cast<cace_backend>(in.I32()), &error), error);
        break;
      case 6:
        cace_engine_options_destroy(options[s]);
        options[s] = nullptr;
        break;
      case 7:
        if (engines[s] == nullptr) {
          engines[s] = cace_engine_create(null_handle ? nullptr : options[s], &error);
          CACE_CAPI_REQUIRE((engines[s] == nullptr) == (error != nullptr));
          if (error != nullptr) cace_error_free(error);
          closed[s] = false;
        }
        break;
      case 8: {
        const cace_code c = Checked(cace_engine_close(engine, &error), error);
        if (engine == nullptr) CACE_CAPI_REQUIRE(c == CACE_INVALID_ARGUMENT);
        else closed[s] = true;
        break;
      }
      case 9:
        if (model_options[s] == nullptr) model_options[s] = cace_model_options_create();
        break;
      case 10: {
        const CallStream::Text t = in.Str();
        Checked(cace_model_options_set_id(model_options[s], t.data, t.length, &error), error);
        Checked(cace_model_options_set_pin(model_options[s], in.U8() % 3, &error), error);
        Checked(cace_model_options_set_keep_alive(model_options[s], in.F64(), &error), error);
        Checked(cace_model_options_set_priority(model_options[s], in.I32(), &error), error);
        break;
      }
      case 11: {
        // A real tiny model, a missing one, or bytes (without '/') under a folder that does not exist.
        const std::uint8_t which = in.U8() % 3;
        const CallStream::Text t = in.Str();
        std::string name = t.data == nullptr ? "" : std::string(t.data, t.length);
        std::erase(name, '/');
        const std::string path = which == 0   ? CapiFuzzModel()
                                 : which == 1 ? CapiFuzzModel() + "/missing"
                                              : "/nonexistent-cace-fuzz/" + name;
        const cace_code c = Checked(cace_engine_add_model(engine, path.data(), path.size(),
                                                          null_handle ? nullptr : model_options[s], &error), error);
        expect_engine_misuse(c);
        break;
      }
      case 12: case 13: case 14: case 15: case 16: case 17: {
        const CallStream::Text id = in.Str();
        cace_code c = CACE_OK;
        const std::uint8_t k = op & 0x1f;
        if (k == 12) c = cace_engine_remove_model(engine, id.data, id.length, &error);
        if (k == 13) c = cace_engine_pin(engine, id.data, id.length, in.U8() % 3, &error);
        if (k == 14) c = cace_engine_set_keep_alive(engine, id.data, id.length, in.F64(), &error);
        if (k == 15) c = cace_engine_set_priority(engine, id.data, id.length, in.I32(), &error);
        if (k == 16) c = cace_engine_preload(engine, id.data, id.length, &error);
        if (k == 17) c = cace_engine_unload(engine, id.data, id.length, &error);
        expect_engine_misuse(Checked(c, error));
        break;
      }
      case 18:
        if (requests[s] == nullptr) requests[s] = cace_request_create();
        break;
      case 19: {
        cace_request* r = null_handle ? nullptr : requests[s];
        const CallStream::Text a = in.Str();
        const CallStream::Text b = in.Str();
        Checked(cace_request_set_model(r, a.data, a.length, &error), error);
        switch (in.U8() % 4) {
          case 0: Checked(cace_request_set_prompt(r, b.data, b.length, &error), error); break;
          case 1: Checked(cace_request_set_fill_in_middle(r, a.data, a.length, b.data, b.length, &error), error); break;
          case 2: {
            std::int32_t tokens[4];
            const std::size_t n = in.U8() % 5;
            for (std::size_t i = 0; i < n; ++i) tokens[i] = in.I32();
            Checked(cace_request_set_prompt_tokens(r, n == 0 && in.U8() % 2 ? nullptr : tokens, n, &error), error);
            break;
          }
          default: Checked(cace_request_add_stop(r, b.data, b.length, &error), error); break;
        }
        break;
      }
      case 20: {
        cace_request* r = null_handle ? nullptr : requests[s];
        Checked(cace_request_set_kind(r, static_cast<cace_task_kind>(in.I32()), &error), error);
        // max_tokens kept small (a request runs to its end on the compute thread).
        const std::int32_t max_tokens = in.I32();
        Checked(cace_request_set_max_tokens(r, max_tokens > 16 ? 1 + max_tokens % 16 : max_tokens, &error), error);
        Checked(cace_request_set_sampling(r, static_cast<float>(in.F64()), static_cast<float>(in.F64()), in.I32(),
                                          in.U64(), &error), error);
        Checked(cace_request_set_deadline(r, in.F64(), &error), error);
        Checked(cace_request_set_keep_alive(r, in.F64(), &error), error);
        break;
      }
      case 21:
        cace_request_destroy(requests[s]);
        requests[s] = nullptr;
        break;
      case 22: {
        std::uint64_t id = 0;
        const bool with_callbacks = in.U8() % 2 == 0;
        cace_request_callbacks cb = callbacks;
        cb.user_data = &counters[s];
        if (in.U8() % 4 == 0) cb.on_token = RefuseToken;
        cb.struct_size = in.U8() % 4 == 0 ? in.U8() % (sizeof cb + 1) : sizeof cb;  // older, smaller tables
        const cace_code c = Checked(cace_engine_submit(engine, null_handle ? nullptr : requests[s],
                                                       with_callbacks ? &cb : nullptr, &id, &error), error);
        expect_engine_misuse(c);
        // on_done is in the table only when the table is long enough to hold it.
        if (c == CACE_OK && with_callbacks && cb.struct_size >= sizeof cb) ++counters[s].submitted;
        if (c == CACE_OK) CACE_CAPI_REQUIRE(id != 0);
        break;
      }
      case 23: {
        int was_pending = -1;
        const cace_code c = Checked(cace_engine_cancel(engine, in.U64() % 64, in.U8() % 2 ? &was_pending : nullptr,
                                                       &error), error);
        expect_engine_misuse(c);
        break;
      }
      case 24:
        if (streams[s] == nullptr) {
          const cace_code c = Checked(cace_engine_submit_stream(engine, null_handle ? nullptr : requests[s],
                                                                &streams[s], &error), error);
          expect_engine_misuse(c);
          CACE_CAPI_REQUIRE((c == CACE_OK) == (streams[s] != nullptr));
        }
        break;
      case 25: {
        cace_event* event = nullptr;
        const cace_code c = Checked(cace_stream_next(null_handle ? nullptr : streams[s],
                                                     static_cast<std::int64_t>(in.U8() % 20), &event, &error), error);
        if (null_handle || streams[s] == nullptr) CACE_CAPI_REQUIRE(c == CACE_INVALID_ARGUMENT);
        if (event != nullptr) {
          size_t length = 0;
          const char* text = cace_event_text(event, &length);
          CACE_CAPI_REQUIRE(length == 0 || text != nullptr);
          if (cace_event_get_kind(event) == CACE_EVENT_DONE) CACE_CAPI_REQUIRE(cace_event_result(event) != nullptr);
          cace_event_free(event);
        }
        break;
      }
      case 26:
        cace_stream_destroy(streams[s]);
        streams[s] = nullptr;
        break;
      case 27: {
        char* text = nullptr;
        size_t length = 0;
        const cace_code c = Checked(cace_engine_prometheus_text(engine, in.U8() % 4 ? &text : nullptr, &length,
                                                                &error), error);
        expect_engine_misuse(c);
        if (c == CACE_OK) CACE_CAPI_REQUIRE(text != nullptr || length == 0);
        cace_free(text);
        cace_metrics* metrics = nullptr;
        const cace_code m = Checked(cace_engine_metrics(engine, &metrics, &error), error);
        expect_engine_misuse(m);
        if (metrics != nullptr) {
          const std::size_t n = cace_metrics_model_count(metrics);
          const std::size_t i = in.U8();  // in range or not
          size_t name_length = 0;
          (void)cace_metrics_model_name(metrics, i, &name_length);
          (void)cace_metrics_model_requests_ok(metrics, i);
          (void)cace_metrics_model_resident_bytes(metrics, i % (n + 1));
          (void)cace_metrics_memory_used_bytes(metrics);
          const cace_load_tier tier = static_cast<cace_load_tier>(in.U8() % 4);  // two known, two not
          const std::size_t j = i % (n + 1);
          if (j == n || tier > CACE_LOAD_TIER_HOST_CACHE) CACE_CAPI_REQUIRE(cace_metrics_model_tier_loads(metrics, j, tier) == 0);
          const double seconds = cace_metrics_model_tier_seconds(metrics, j, tier);
          CACE_CAPI_REQUIRE(seconds >= 0);
          (void)cace_metrics_model_tier_bytes(metrics, j, tier);
          (void)cace_metrics_model_host_cache_bytes(metrics, j);
          CACE_CAPI_REQUIRE(cace_metrics_host_cache_used_bytes(metrics) <= cace_metrics_host_cache_budget_bytes(metrics));
          CACE_CAPI_REQUIRE(cace_metrics_prefetches_used(metrics) <= cace_metrics_prefetches(metrics));
          CACE_CAPI_REQUIRE(cace_metrics_prefetches_cancelled(metrics) <= cace_metrics_prefetches(metrics));
        }
        cace_metrics_destroy(metrics);
        break;
      }
      case 28: {
        // The host cache (up to 64 MiB, or the extremes), prefetch, a state file (none, one in the
        // temporary folder, bytes under a folder that does not exist, whose write fails at close
        // with a warning, or NULL with a length), and warnings to the host or to standard error.
        cace_engine_options* o = null_handle ? nullptr : options[s];
        const std::uint8_t k = in.U8();
        const std::uint64_t cache = k == 0 ? 0 : k == 1 ? ~0ull : in.U64() % (64ull << 20);
        Checked(cace_engine_options_set_host_cache_bytes(o, cache, &error), error);
        Checked(cace_engine_options_set_prefetch(o, in.U8() % 3, &error), error);
        const std::uint8_t which = in.U8() % 4;
        const CallStream::Text t = in.Str();
        std::string name = t.data == nullptr ? "" : std::string(t.data, t.length);
        std::erase(name, '/');
        const std::string path = which == 0 ? "" : which == 1 ? CapiFuzzModel() + ".state"
                                                              : "/nonexistent-cace-fuzz/" + name;
        // which == 3: NULL with a length. Bytes holding NUL are refused; no other path is ever written.
        const cace_code c = Checked(cace_engine_options_set_state_file(o, which == 3 ? nullptr : path.data(),
                                                                       which == 3 ? 1 + name.size() : path.size(),
                                                                       &error), error);
        if (o == nullptr || which == 3 || path.find('\0') != std::string::npos) {
          CACE_CAPI_REQUIRE(c == CACE_INVALID_ARGUMENT);
        }
        Checked(cace_engine_options_set_warning_callback(o, in.U8() % 2 ? CheckWarning : nullptr, nullptr, &error),
                error);
        break;
      }
      case 29:
        expect_engine_misuse(Checked(cace_engine_save_state(engine, &error), error));
        break;
      default: {  // the basics, on codes of any value
        const cace_code code = in.I32();
        CACE_CAPI_REQUIRE(cace_code_name(code) != nullptr);
        CACE_CAPI_REQUIRE(cace_version() == static_cast<uint32_t>(CACE_VERSION_NUMBER));
        break;
      }
    }
  }
  for (int s = 0; s < kSlots; ++s) {
    cace_stream_destroy(streams[s]);
    cace_request_destroy(requests[s]);
    cace_model_options_destroy(model_options[s]);
    cace_engine_options_destroy(options[s]);
  }
  for (int s = 0; s < kSlots; ++s) {
    cace_engine_destroy(engines[s]);
    // Every request accepted with an on_done got exactly one.
    CACE_CAPI_REQUIRE(counters[s].done.load() == counters[s].submitted.load());
  }
  return 0;
}

}  // namespace cace::fuzz

#endif  // CACE_TESTS_FUZZ_CAPI_FUZZ_TARGET_H_
