/* A C host of cace through the C ABI (libcace_c): adds a model, streams a completion through a
 * token callback, submits a second request and cancels it, polls a third, and reads the metrics.
 *   cace_c_host MODEL_PATH
 * Exits 0 when each step did what it should; prints what it saw. */
#include <cace/cace.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the callbacks tell the main thread; they run on the engine's threads. */
typedef struct {
  pthread_mutex_t mutex;
  pthread_cond_t done_changed;
  int done;
  cace_code code;
  size_t pieces;
} request_state;

/* Returns 0 to go on; a host whose sink fails returns non-zero, which ends the request. */
static int32_t on_token(void* user_data, uint64_t id, int32_t token, const char* text, size_t length) {
  request_state* state = user_data;
  (void)id;
  (void)token;
  pthread_mutex_lock(&state->mutex);
  state->pieces++;
  pthread_mutex_unlock(&state->mutex);
  if (fwrite(text, 1, length, stdout) != length) return 1;
  fflush(stdout);
  return 0;
}

static void on_done(void* user_data, const cace_result* result) {
  request_state* state = user_data;
  pthread_mutex_lock(&state->mutex);
  state->done = 1;
  state->code = cace_result_code(result);
  pthread_mutex_unlock(&state->mutex);
  pthread_cond_signal(&state->done_changed);
}

static void wait_done(request_state* state) {
  pthread_mutex_lock(&state->mutex);
  while (!state->done) pthread_cond_wait(&state->done_changed, &state->mutex);
  pthread_mutex_unlock(&state->mutex);
}

static int check(cace_code code, cace_error* error, const char* what) {
  if (code == CACE_OK) return 1;
  fprintf(stderr, "%s: %s: %s\n", what, cace_code_name(code), cace_error_message(error, NULL));
  cace_error_free(error);
  return 0;
}

int main(int argc, char** argv) {
  cace_error* error = NULL;
  cace_engine_options* options;
  cace_model_options* model;
  cace_engine* engine;
  cace_request* request;
  cace_request_callbacks callbacks;
  request_state streamed = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0};
  request_state cancelled = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0};
  uint64_t id = 0;
  int was_pending = 0, ok = 1;
  cace_stream* stream = NULL;
  cace_event* event = NULL;
  size_t polled_pieces = 0;
  char* text = NULL;
  size_t text_length = 0;

  if (argc != 2) {
    fprintf(stderr, "usage: %s MODEL_PATH\n", argv[0]);
    return 2;
  }
  printf("cace %s (header %d.%d.%d)\n", cace_version_string(), CACE_VERSION_MAJOR, CACE_VERSION_MINOR,
         CACE_VERSION_PATCH);

  options = cace_engine_options_create();
  if (!check(cace_engine_options_set_memory_budget(options, 256u << 20, &error), error, "budget")) return 1;
  if (!check(cace_engine_options_set_policy(options, "cace", 4, &error), error, "policy")) return 1;
  if (!check(cace_engine_options_set_compute_threads(options, 1, &error), error, "threads")) return 1;
  engine = cace_engine_create(options, &error);
  cace_engine_options_destroy(options);
  if (engine == NULL) return check(cace_error_code(error), error, "create"), 1;

  model = cace_model_options_create();
  cace_model_options_set_id(model, "tiny", 4, NULL);
  ok = check(cace_engine_add_model(engine, argv[1], strlen(argv[1]), model, &error), error, "add_model");
  cace_model_options_destroy(model);
  if (!ok) return 1;

  /* 1. Stream a completion through callbacks. */
  request = cace_request_create();
  cace_request_set_model(request, "tiny", 4, NULL);
  cace_request_set_prompt(request, "def fib(n):", 11, NULL);
  cace_request_set_max_tokens(request, 12, NULL);
  memset(&callbacks, 0, sizeof callbacks);
  callbacks.struct_size = sizeof callbacks;
  callbacks.user_data = &streamed;
  callbacks.on_token = on_token;
  callbacks.on_done = on_done;
  if (!check(cace_engine_submit(engine, request, &callbacks, &id, &error), error, "submit")) return 1;
  wait_done(&streamed);
  printf("\nstreamed: %zu pieces, %s\n", streamed.pieces, cace_code_name(streamed.code));
  ok &= streamed.code == CACE_OK && streamed.pieces > 0;

  /* 2. Submit a long one and cancel it at once. */
  cace_request_set_max_tokens(request, 100000, NULL);
  callbacks.user_data = &cancelled;
  callbacks.on_token = NULL;
  if (cace_engine_submit(engine, request, &callbacks, &id, &error) != CACE_OK) {
    /* A context too short for 100000 tokens: ask for what fits. */
    cace_error_free(error);
    cace_request_set_max_tokens(request, 64, NULL);
    if (!check(cace_engine_submit(engine, request, &callbacks, &id, &error), error, "submit")) return 1;
  }
  if (!check(cace_engine_cancel(engine, id, &was_pending, &error), error, "cancel")) return 1;
  wait_done(&cancelled);
  printf("cancelled: was pending %d, %s\n", was_pending, cace_code_name(cancelled.code));
  ok &= !was_pending || cancelled.code == CACE_CANCELLED;

  /* 3. Submit and poll. */
  cace_request_set_max_tokens(request, 8, NULL);
  if (!check(cace_engine_submit_stream(engine, request, &stream, &error), error, "submit_stream")) return 1;
  for (;;) {
    if (!check(cace_stream_next(stream, 10000, &event, &error), error, "next")) return 1;
    if (event == NULL) continue; /* timed out: keep waiting */
    if (cace_event_get_kind(event) == CACE_EVENT_DONE) {
      printf("polled: %zu pieces, %s, %lld completion tokens\n", polled_pieces,
             cace_code_name(cace_result_code(cace_event_result(event))),
             (long long)cace_result_completion_tokens(cace_event_result(event)));
      ok &= cace_result_code(cace_event_result(event)) == CACE_OK;
      cace_event_free(event);
      break;
    }
    polled_pieces++;
    cace_event_free(event);
  }
  cace_stream_destroy(stream);
  cace_request_destroy(request);

  /* 4. Metrics. */
  if (!check(cace_engine_prometheus_text(engine, &text, &text_length, &error), error, "metrics")) return 1;
  ok &= strstr(text, "cace_requests_total") != NULL;
  printf("metrics: %zu bytes of Prometheus text\n", text_length);
  cace_free(text);

  cace_engine_destroy(engine);
  printf("%s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
