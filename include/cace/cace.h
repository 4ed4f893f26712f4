/* cace.h: the stable C ABI of cace (libcace_c), for C, Rust, Go and any host with a C FFI.
 *
 * Conventions (they hold for every declaration below):
 *  - Names: cace_<noun>_<verb>; types cace_<noun>; constants CACE_<NAME>.
 *  - Every type is opaque and is handled through a pointer. Objects the host creates it destroys
 *    with the matching cace_<noun>_destroy, which accepts NULL. Callback tables are the one kind
 *    of struct the host fills in: their first field is their own size (sizeof at the host's
 *    compile time), so that fields added later never break a compiled host.
 *  - Enumerations are int32_t typedefs with named constants (fixed size, whatever the compiler).
 *  - Strings go in as pointer + length (UTF-8, need not be NUL-terminated, may hold NUL where
 *    noted); a NULL pointer with length 0 is the empty string. Strings that come out as
 *    pointer + length stay valid as long as the object they came from, unless the call says the
 *    host owns them; then the host frees them with cace_free.
 *  - Errors: every call that can fail returns a cace_code (CACE_OK = 0) and takes a last argument
 *    `cace_error** error`. If `error` is not NULL, *error is set to NULL on success and to a new
 *    error object (code + message) on failure, which the host frees with cace_error_free.
 *    There is no thread-local "last error" (a Go host would have to pin its goroutines).
 *  - Misuse is an error code, never a crash: a NULL handle or argument is CACE_INVALID_ARGUMENT,
 *    a call on a closed engine CACE_FAILED_PRECONDITION. (Pointers that do not point at live
 *    objects cannot be checked: destroyed handles must not be used.)
 *  - No C++ exception crosses this boundary; allocation failure inside is CACE_RESOURCE_EXHAUSTED.
 *  - Threads: every cace_engine_* call may be made from any thread at once. Options and request
 *    objects are not shared: one thread at a time. Callbacks run on the engine's own threads,
 *    never on the caller's, as each says; they must return quickly, must not call
 *    cace_engine_close / cace_engine_destroy, and may call every other cace_engine_* function.
 *  - Codes are those of absl::Status, so one vocabulary serves C++, C and HTTP.
 *  - Version: the CACE_VERSION_* macros are what the host compiled against; cace_version() is
 *    the library it runs with. Same major (before 1.0: same major and minor): compatible. 0.2
 *    changed the token callback's return type (void -> int32_t).
 */
#ifndef CACE_CACE_H_
#define CACE_CACE_H_

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define CACE_EXPORT __attribute__((visibility("default")))
#else
#define CACE_EXPORT
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define CACE_VERSION_MAJOR 0
#define CACE_VERSION_MINOR 2
#define CACE_VERSION_PATCH 0
/* (major << 16) | (minor << 8) | patch */
#define CACE_VERSION_NUMBER ((CACE_VERSION_MAJOR << 16) | (CACE_VERSION_MINOR << 8) | CACE_VERSION_PATCH)

/* ---- Basics ------------------------------------------------------------------------------ */

typedef int32_t cace_code;
#define CACE_OK 0
#define CACE_CANCELLED 1
#define CACE_UNKNOWN 2
#define CACE_INVALID_ARGUMENT 3
#define CACE_DEADLINE_EXCEEDED 4
#define CACE_NOT_FOUND 5
#define CACE_ALREADY_EXISTS 6
#define CACE_PERMISSION_DENIED 7
#define CACE_RESOURCE_EXHAUSTED 8
#define CACE_FAILED_PRECONDITION 9
#define CACE_ABORTED 10
#define CACE_OUT_OF_RANGE 11
#define CACE_UNIMPLEMENTED 12
#define CACE_INTERNAL 13
#define CACE_UNAVAILABLE 14

/* The library's version as CACE_VERSION_NUMBER packs it, and as text ("0.2.0", static). */
CACE_EXPORT uint32_t cace_version(void);
CACE_EXPORT const char* cace_version_string(void);

/* The name of a code ("OK", "NOT_FOUND", ...; static text; "UNKNOWN" for any other value). */
CACE_EXPORT const char* cace_code_name(cace_code code);

typedef struct cace_error cace_error;
/* Accessors accept NULL (then CACE_OK / the empty string). The message is NUL-terminated; its
 * length without the NUL goes to *length when length is not NULL. Valid until cace_error_free. */
CACE_EXPORT cace_code cace_error_code(const cace_error* error);
CACE_EXPORT const char* cace_error_message(const cace_error* error, size_t* length);
CACE_EXPORT void cace_error_free(cace_error* error);

/* Frees memory the library handed to the host (cace_engine_prometheus_text). Accepts NULL. */
CACE_EXPORT void cace_free(void* pointer);

typedef int32_t cace_task_kind;
#define CACE_TASK_AUTO (-1) /* the engine's classifier decides */
#define CACE_TASK_COMPLETION 0
#define CACE_TASK_CHAT 1
#define CACE_TASK_REASONING 2

typedef int32_t cace_backend;
#define CACE_BACKEND_CPU 0
#define CACE_BACKEND_CUDA 1

/* ---- A policy supplied by the host -------------------------------------------------------
 * The engine asks it which resident models to evict, and tells it what happens, always from its
 * one scheduler thread (never two calls at once). It is shown only models it may evict
 * (resident, not pinned); its answer is checked (a victim that is no candidate, a repeat, or too
 * few bytes fails the load with CACE_INTERNAL). It must do no blocking I/O.
 */
typedef struct cace_eviction_choice cace_eviction_choice;

/* The decision being asked, valid only during choose_victims. Candidate accessors take an index
 * below cace_eviction_candidate_count; out of range gives 0. */
CACE_EXPORT size_t cace_eviction_candidate_count(const cace_eviction_choice* choice);
CACE_EXPORT uint32_t cace_eviction_candidate_model(const cace_eviction_choice* choice, size_t index);
CACE_EXPORT uint64_t cace_eviction_candidate_bytes(const cace_eviction_choice* choice, size_t index);
CACE_EXPORT double cace_eviction_candidate_last_use(const cace_eviction_choice* choice, size_t index);
CACE_EXPORT double cace_eviction_candidate_load_seconds(const cace_eviction_choice* choice, size_t index);
CACE_EXPORT int32_t cace_eviction_candidate_in_flight(const cace_eviction_choice* choice, size_t index);
CACE_EXPORT uint64_t cace_eviction_bytes_needed(const cace_eviction_choice* choice);
CACE_EXPORT double cace_eviction_now(const cace_eviction_choice* choice);
/* Names the next victim, most evictable first; CACE_INVALID_ARGUMENT for NULL. */
CACE_EXPORT cace_code cace_eviction_add_victim(cace_eviction_choice* choice, uint32_t model);

typedef struct cace_policy_callbacks {
  size_t struct_size; /* sizeof(cace_policy_callbacks) */
  void* state;        /* passed to every callback */
  /* Called once when the engine no longer needs the policy (engine destroyed, or options
   * destroyed without creating an engine). May be NULL. */
  void (*destroy)(void* state);
  /* Each may be NULL. `model` is a small dense index that stays the model's; times are seconds
   * on the engine's clock; kind is a cace_task_kind. */
  void (*on_register)(void* state, uint32_t model, const char* name, size_t name_length,
                      uint64_t weight_bytes);
  void (*on_access)(void* state, uint32_t model, cace_task_kind kind, double time);
  void (*on_complete)(void* state, uint32_t model, cace_task_kind kind, double time,
                      uint32_t output_tokens);
  void (*on_load)(void* state, uint32_t model, double time);
  void (*on_evict)(void* state, uint32_t model, double time);
  /* Required: add victims until their bytes cover cace_eviction_bytes_needed. */
  void (*choose_victims)(void* state, cace_eviction_choice* choice);
} cace_policy_callbacks;

/* ---- Engine options -------------------------------------------------------------------- */

typedef struct cace_engine_options cace_engine_options;

/* NULL only when out of memory. Defaults: CPU backend, policy "cace", no budget (required). */
CACE_EXPORT cace_engine_options* cace_engine_options_create(void);
CACE_EXPORT void cace_engine_options_destroy(cace_engine_options* options);
CACE_EXPORT cace_code cace_engine_options_set_memory_budget(cace_engine_options* options, uint64_t bytes,
                                                            cace_error** error);
CACE_EXPORT cace_code cace_engine_options_set_backend(cace_engine_options* options, cace_backend backend,
                                                      cace_error** error);
/* A built-in policy by name ("cace", "cace-adaptive", "lru", "ollama", "lfu", "gdsf", ...; an
 * unknown name fails at cace_engine_create with CACE_INVALID_ARGUMENT). Replaces a host policy. */
CACE_EXPORT cace_code cace_engine_options_set_policy(cace_engine_options* options, const char* name,
                                                     size_t name_length, cace_error** error);
/* One of CACE's weights by its field name ("load_exponent", "size_exponent", "output_scale",
 * "frequency_weight", "demand_weight", "queue_weight", "base_demand", "kind_prior", "drain_weight",
 * "latency_completion", "latency_chat", "latency_reasoning"); CACE_NOT_FOUND for another name. */
CACE_EXPORT cace_code cace_engine_options_set_cace_weight(cace_engine_options* options, const char* name,
                                                          size_t name_length, double value,
                                                          cace_error** error);
/* The host's policy (copied; `name` is what metrics show). From here on the options own the
 * state: callbacks->destroy runs exactly once, even when this call fails. */
CACE_EXPORT cace_code cace_engine_options_set_host_policy(cace_engine_options* options, const char* name,
                                                          size_t name_length,
                                                          const cace_policy_callbacks* callbacks,
                                                          cace_error** error);
CACE_EXPORT cace_code cace_engine_options_set_max_pending_requests(cace_engine_options* options,
                                                                   int64_t count, cace_error** error);
CACE_EXPORT cace_code cace_engine_options_set_max_batch(cace_engine_options* options, int32_t sequences,
                                                        cace_error** error);
/* CPU threads per forward pass; 0: one per hardware thread. */
CACE_EXPORT cace_code cace_engine_options_set_compute_threads(cace_engine_options* options, int32_t threads,
                                                              cace_error** error);
/* Seconds a model added without its own keep-alive stays idle before it is unloaded; negative:
 * until its memory is needed. */
CACE_EXPORT cace_code cace_engine_options_set_default_keep_alive(cace_engine_options* options,
                                                                 double seconds, cace_error** error);
/* The host-memory cache of evicted weights, a tier between the budget's memory and the disk: an
 * evicted model whose weights fit it stays there (pinned host memory on CUDA) and its reload copies
 * from memory instead of reading its files. Bytes of weights held at most; 0 (the default): off. */
CACE_EXPORT cace_code cace_engine_options_set_host_cache_bytes(cace_engine_options* options, uint64_t bytes,
                                                               cace_error** error);
/* Non-zero: a model the policy evicted is loaded back into free memory while the load path is
 * idle; a real request's load cancels it. Off by default. */
CACE_EXPORT cace_code cace_engine_options_set_prefetch(cace_engine_options* options, int enabled,
                                                       cace_error** error);
/* What the engine learns (load times per tier, the policy's usage) is read from this file at
 * cace_engine_create and written to it atomically at close and by cace_engine_save_state. A
 * damaged or foreign file is a warning and a fresh start, never an error. The empty string (the
 * default): none. CACE_INVALID_ARGUMENT for a path holding NUL. */
CACE_EXPORT cace_code cace_engine_options_set_state_file(cace_engine_options* options, const char* path,
                                                         size_t path_length, cace_error** error);
/* Where warnings go (a state file refused at create or not written at close, a host-cache copy
 * that could not be made): `on_warning` gets the text (UTF-8, NUL-terminated, valid during the
 * call) and `user_data`. It runs on the thread that found the warning: the one inside
 * cace_engine_create or cace_engine_close / cace_engine_destroy, or an engine thread; it must
 * return quickly and must not call cace_engine_close / cace_engine_destroy. NULL (the default):
 * standard error. */
typedef void (*cace_warning_callback)(void* user_data, const char* text, size_t length);
CACE_EXPORT cace_code cace_engine_options_set_warning_callback(cace_engine_options* options,
                                                               cace_warning_callback on_warning, void* user_data,
                                                               cace_error** error);

/* ---- Engine ---------------------------------------------------------------------------- */

typedef struct cace_engine cace_engine;

/* The options are read, not kept (a host policy moves into the engine; the options may be
 * destroyed at once). NULL on failure, with *error set. */
CACE_EXPORT cace_engine* cace_engine_create(const cace_engine_options* options, cace_error** error);
/* Ends every pending request with CACE_CANCELLED (each on_done runs) and stops the engine's
 * threads; the handle stays valid and every later call on it fails with
 * CACE_FAILED_PRECONDITION. Idempotent. Must not be called from a callback. */
CACE_EXPORT cace_code cace_engine_close(cace_engine* engine, cace_error** error);
/* Closes (if open) and frees. Accepts NULL. Must not be called from a callback. */
CACE_EXPORT void cace_engine_destroy(cace_engine* engine);

typedef struct cace_model_options cace_model_options;
/* Defaults: no id (required), not pinned, keep-alive from the engine, priority 0. */
CACE_EXPORT cace_model_options* cace_model_options_create(void);
CACE_EXPORT void cace_model_options_destroy(cace_model_options* options);
CACE_EXPORT cace_code cace_model_options_set_id(cace_model_options* options, const char* id, size_t id_length,
                                                cace_error** error);
CACE_EXPORT cace_code cace_model_options_set_pin(cace_model_options* options, int pinned, cace_error** error);
CACE_EXPORT cace_code cace_model_options_set_keep_alive(cace_model_options* options, double seconds,
                                                        cace_error** error);
CACE_EXPORT cace_code cace_model_options_set_priority(cace_model_options* options, int32_t priority,
                                                      cace_error** error);

/* `path`: a GGUF file or a folder with config.json, model.safetensors and tokenizer.json. Reads
 * and checks the headers now; the weights load when needed. CACE_ALREADY_EXISTS for a taken id,
 * CACE_OUT_OF_RANGE for a model larger than the budget, CACE_INVALID_ARGUMENT / CACE_NOT_FOUND for
 * a bad file. */
CACE_EXPORT cace_code cace_engine_add_model(cace_engine* engine, const char* path, size_t path_length,
                                            const cace_model_options* options, cace_error** error);
/* Ends its pending requests with CACE_NOT_FOUND, frees its memory and forgets it. */
CACE_EXPORT cace_code cace_engine_remove_model(cace_engine* engine, const char* id, size_t id_length,
                                               cace_error** error);
/* Controls; CACE_NOT_FOUND for an unknown id. Preload returns once the load is under way. Unload
 * fails with CACE_FAILED_PRECONDITION for a pinned model. */
CACE_EXPORT cace_code cace_engine_pin(cace_engine* engine, const char* id, size_t id_length, int pinned,
                                      cace_error** error);
CACE_EXPORT cace_code cace_engine_set_keep_alive(cace_engine* engine, const char* id, size_t id_length,
                                                 double seconds, cace_error** error);
CACE_EXPORT cace_code cace_engine_set_priority(cace_engine* engine, const char* id, size_t id_length,
                                               int32_t priority, cace_error** error);
CACE_EXPORT cace_code cace_engine_preload(cace_engine* engine, const char* id, size_t id_length,
                                          cace_error** error);
CACE_EXPORT cace_code cace_engine_unload(cace_engine* engine, const char* id, size_t id_length,
                                         cace_error** error);
/* Writes the state file (cace_engine_options_set_state_file) now, atomically: a crash leaves the
 * old file or the new one. CACE_FAILED_PRECONDITION when no state file was set (or the engine is
 * closed); the write's error (with the file's name) otherwise. */
CACE_EXPORT cace_code cace_engine_save_state(cace_engine* engine, cace_error** error);

/* ---- Requests -------------------------------------------------------------------------- */

typedef struct cace_request cace_request;
/* Defaults: max_tokens 128, greedy (temperature 0), top_p 1, top_k 0, seed 0, no deadline, the
 * model's keep-alive, the classifier's task kind. The prompt is one of: token ids, a
 * fill-in-the-middle pair, or text (the last one set wins). The request is copied at submit. */
CACE_EXPORT cace_request* cace_request_create(void);
CACE_EXPORT void cace_request_destroy(cace_request* request);
CACE_EXPORT cace_code cace_request_set_model(cace_request* request, const char* id, size_t id_length,
                                             cace_error** error);
CACE_EXPORT cace_code cace_request_set_prompt(cace_request* request, const char* text, size_t text_length,
                                              cace_error** error);
CACE_EXPORT cace_code cace_request_set_prompt_tokens(cace_request* request, const int32_t* tokens,
                                                     size_t count, cace_error** error);
CACE_EXPORT cace_code cace_request_set_fill_in_middle(cace_request* request, const char* prefix,
                                                      size_t prefix_length, const char* suffix,
                                                      size_t suffix_length, cace_error** error);
CACE_EXPORT cace_code cace_request_set_kind(cace_request* request, cace_task_kind kind, cace_error** error);
CACE_EXPORT cace_code cace_request_set_max_tokens(cace_request* request, int32_t max_tokens,
                                                  cace_error** error);
CACE_EXPORT cace_code cace_request_set_sampling(cace_request* request, float temperature, float top_p,
                                                int32_t top_k, uint64_t seed, cace_error** error);
/* Adds a stop string (may hold NUL). */
CACE_EXPORT cace_code cace_request_add_stop(cace_request* request, const char* stop, size_t stop_length,
                                            cace_error** error);
/* Seconds after submit by which it must end (CACE_DEADLINE_EXCEEDED after); 0: none. */
CACE_EXPORT cace_code cace_request_set_deadline(cace_request* request, double seconds, cace_error** error);
CACE_EXPORT cace_code cace_request_set_keep_alive(cace_request* request, double seconds, cace_error** error);

typedef int32_t cace_end_reason;
#define CACE_END_STOP 0      /* the model's end of sequence or a stop string */
#define CACE_END_LENGTH 1    /* max_tokens reached */
#define CACE_END_CANCELLED 2 /* cancelled */
#define CACE_END_ERROR 3     /* see cace_result_code */

/* How a request ended. Borrowed during on_done; owned by its event in the polled form. */
typedef struct cace_result cace_result;
CACE_EXPORT uint64_t cace_result_id(const cace_result* result);
CACE_EXPORT cace_code cace_result_code(const cace_result* result);
CACE_EXPORT const char* cace_result_message(const cace_result* result, size_t* length);
CACE_EXPORT cace_end_reason cace_result_reason(const cace_result* result);
/* The whole output text (what the tokens streamed, joined). */
CACE_EXPORT const char* cace_result_text(const cace_result* result, size_t* length);
CACE_EXPORT int64_t cace_result_prompt_tokens(const cace_result* result);
CACE_EXPORT int64_t cace_result_completion_tokens(const cace_result* result);
/* Seconds from submit to the first token / to the end; -1 where never reached. */
CACE_EXPORT double cace_result_ttft_seconds(const cace_result* result);
CACE_EXPORT double cace_result_e2e_seconds(const cace_result* result);

typedef struct cace_request_callbacks {
  size_t struct_size; /* sizeof(cace_request_callbacks) */
  void* user_data;    /* passed to both callbacks */
  /* Each piece of output, in order, on the engine's compute thread: the text it completes
   * (UTF-8, possibly empty) and its token id. Returns 0 to go on; any other value N ends this
   * request (only it) with CACE_ABORTED and the message "on_token returned N" once the step that
   * streamed the piece ends: no further piece comes, on_done still follows. May be NULL. */
  int32_t (*on_token)(void* user_data, uint64_t request_id, int32_t token, const char* text, size_t length);
  /* Exactly once, last, on an engine thread; `result` is valid only during the call. May be NULL
   * (then nothing tells the host that the request ended). */
  void (*on_done)(void* user_data, const cace_result* result);
} cace_request_callbacks;

/* Queues the request; its id goes to *request_id (never 0). Fails with CACE_NOT_FOUND (unknown
 * model), CACE_INVALID_ARGUMENT, CACE_OUT_OF_RANGE (prompt + max_tokens beyond the context),
 * CACE_RESOURCE_EXHAUSTED (the queue is full); then no callback runs. `callbacks` is copied and
 * may be NULL. */
CACE_EXPORT cace_code cace_engine_submit(cace_engine* engine, const cace_request* request,
                                         const cace_request_callbacks* callbacks, uint64_t* request_id,
                                         cace_error** error);
/* Ends the request with CACE_CANCELLED wherever it is; its on_done follows on an engine thread.
 * *was_pending (may be NULL) is 1 when it had not ended yet. */
CACE_EXPORT cace_code cace_engine_cancel(cace_engine* engine, uint64_t request_id, int* was_pending,
                                         cace_error** error);

/* ---- Submit and poll (no callbacks into the host: suits Go) -------------------------------- */

typedef struct cace_stream cace_stream;
typedef struct cace_event cace_event;
typedef int32_t cace_event_kind;
#define CACE_EVENT_TOKEN 0
#define CACE_EVENT_DONE 1

/* As cace_engine_submit, but the pieces and the result queue up in *stream, which the host reads
 * with cace_stream_next from any one thread at a time. At most 4096 pieces wait untaken: a piece
 * beyond that ends the request with CACE_RESOURCE_EXHAUSTED (its DONE event still comes). */
CACE_EXPORT cace_code cace_engine_submit_stream(cace_engine* engine, const cace_request* request,
                                                cace_stream** stream, cace_error** error);
CACE_EXPORT uint64_t cace_stream_request_id(const cace_stream* stream);
/* Waits up to timeout_ms (negative: without limit) for the next event. CACE_OK with *event set
 * (the host frees it with cace_event_free), or CACE_OK with *event NULL on timeout. After the DONE
 * event, CACE_OUT_OF_RANGE: the stream has ended. */
CACE_EXPORT cace_code cace_stream_next(cace_stream* stream, int64_t timeout_ms, cace_event** event,
                                       cace_error** error);
/* Frees the stream; a request still running is cancelled (and streams nothing more). Accepts
 * NULL. Safe from any thread but not while another thread is inside cace_stream_next on the same
 * stream. */
CACE_EXPORT void cace_stream_destroy(cace_stream* stream);

CACE_EXPORT cace_event_kind cace_event_get_kind(const cace_event* event);
/* TOKEN events: the piece's text and token id. */
CACE_EXPORT const char* cace_event_text(const cace_event* event, size_t* length);
CACE_EXPORT int32_t cace_event_token(const cace_event* event);
/* DONE events: the result (valid until cace_event_free); NULL for a TOKEN event. */
CACE_EXPORT const cace_result* cace_event_result(const cace_event* event);
CACE_EXPORT void cace_event_free(cace_event* event);

/* ---- Metrics and the residency listing ----------------------------------------------------- */

/* Prometheus text exposition (cace_* metrics per model and kind); the host owns *text (NUL
 * terminated; length without it to *length, which may be NULL) and frees it with cace_free. */
CACE_EXPORT cace_code cace_engine_prometheus_text(const cace_engine* engine, char** text, size_t* length,
                                                  cace_error** error);

/* A copy of the counters at one moment, per model in the order they were added. */
typedef struct cace_metrics cace_metrics;
CACE_EXPORT cace_code cace_engine_metrics(const cace_engine* engine, cace_metrics** metrics, cace_error** error);
CACE_EXPORT void cace_metrics_destroy(cace_metrics* metrics);
CACE_EXPORT uint64_t cace_metrics_memory_budget_bytes(const cace_metrics* metrics);
CACE_EXPORT uint64_t cace_metrics_memory_used_bytes(const cace_metrics* metrics);
CACE_EXPORT size_t cace_metrics_model_count(const cace_metrics* metrics);
/* Per model, index below cace_metrics_model_count (else empty / 0). Request counts and tokens
 * are summed over the task kinds. */
CACE_EXPORT const char* cace_metrics_model_name(const cace_metrics* metrics, size_t index, size_t* length);
CACE_EXPORT uint64_t cace_metrics_model_requests_ok(const cace_metrics* metrics, size_t index);
CACE_EXPORT uint64_t cace_metrics_model_requests_failed(const cace_metrics* metrics, size_t index);
CACE_EXPORT uint64_t cace_metrics_model_completion_tokens(const cace_metrics* metrics, size_t index);
CACE_EXPORT uint64_t cace_metrics_model_loads(const cace_metrics* metrics, size_t index);
CACE_EXPORT uint64_t cace_metrics_model_evictions(const cace_metrics* metrics, size_t index);
CACE_EXPORT uint64_t cace_metrics_model_resident_bytes(const cace_metrics* metrics, size_t index);
/* KV bytes reserved for the admitted requests ((prompt + max_tokens) x bytes per token: what the
 * policy counts), and the bytes the backend's KV caches really hold now. */
CACE_EXPORT uint64_t cace_metrics_model_kv_reserved_bytes(const cace_metrics* metrics, size_t index);
CACE_EXPORT uint64_t cace_metrics_model_kv_allocated_bytes(const cace_metrics* metrics, size_t index);
CACE_EXPORT uint64_t cace_metrics_model_queued(const cace_metrics* metrics, size_t index);
CACE_EXPORT uint64_t cace_metrics_model_in_flight(const cace_metrics* metrics, size_t index);

/* The host cache (cace_engine_options_set_host_cache_bytes): its budget and the bytes of evicted
 * weights it holds now; per model, that model's bytes in it. */
CACE_EXPORT uint64_t cace_metrics_host_cache_budget_bytes(const cace_metrics* metrics);
CACE_EXPORT uint64_t cace_metrics_host_cache_used_bytes(const cace_metrics* metrics);
CACE_EXPORT uint64_t cace_metrics_model_host_cache_bytes(const cace_metrics* metrics, size_t index);

/* Where a load's weights came from. */
typedef int32_t cace_load_tier;
#define CACE_LOAD_TIER_DISK 0       /* read from the model's files */
#define CACE_LOAD_TIER_HOST_CACHE 1 /* copied from the host cache */
/* Loads of the model finished from one tier: how many, their weight bytes, their seconds summed
 * (cace_metrics_model_loads counts every tier). 0 for an unknown tier or index. */
CACE_EXPORT uint64_t cace_metrics_model_tier_loads(const cace_metrics* metrics, size_t index, cace_load_tier tier);
CACE_EXPORT uint64_t cace_metrics_model_tier_bytes(const cace_metrics* metrics, size_t index, cace_load_tier tier);
CACE_EXPORT double cace_metrics_model_tier_seconds(const cace_metrics* metrics, size_t index, cace_load_tier tier);

/* Prefetches (cace_engine_options_set_prefetch): loads started unasked while the load path was
 * idle; those whose model then served a request before its eviction; those a real request's load
 * cancelled. */
CACE_EXPORT uint64_t cace_metrics_prefetches(const cace_metrics* metrics);
CACE_EXPORT uint64_t cace_metrics_prefetches_used(const cace_metrics* metrics);
CACE_EXPORT uint64_t cace_metrics_prefetches_cancelled(const cace_metrics* metrics);

typedef int32_t cace_residency;
#define CACE_RESIDENCY_ABSENT 0
#define CACE_RESIDENCY_LOADING 1
#define CACE_RESIDENCY_RESIDENT 2
#define CACE_RESIDENCY_EVICTING 3
#define CACE_RESIDENCY_HOST_CACHE 4 /* out of the budget's memory, its weights in the host cache */
/* Later versions may add states: a host treats a value it does not know as not resident. */

/* The models as `ollama ps` lists them. */
typedef struct cace_model_list cace_model_list;
CACE_EXPORT cace_code cace_engine_list_models(const cace_engine* engine, cace_model_list** list,
                                              cace_error** error);
CACE_EXPORT void cace_model_list_destroy(cace_model_list* list);
CACE_EXPORT size_t cace_model_list_count(const cace_model_list* list);
CACE_EXPORT const char* cace_model_list_id(const cace_model_list* list, size_t index, size_t* length);
CACE_EXPORT cace_residency cace_model_list_state(const cace_model_list* list, size_t index);
CACE_EXPORT uint64_t cace_model_list_weight_bytes(const cace_model_list* list, size_t index);
CACE_EXPORT int cace_model_list_pinned(const cace_model_list* list, size_t index);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CACE_CACE_H_ */
