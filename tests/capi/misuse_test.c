/* Every entry point of cace.h called with NULL, and every engine call on a closed engine: each
 * returns an error code (with an error object saying why) or a documented empty value, and none
 * crashes. Compiled as C99 with -Wall -Wextra -pedantic -Werror, which also checks that the header
 * is C99. check_exports.sh checks that this file names every function the library exports. */
#include <cace/cace.h>

#include <stdio.h>
#include <string.h>

static int failures = 0;

/* The call failed with `want`, and said so through *error. */
static void expect_code(const char* call, cace_code got, cace_error* error, cace_code want) {
  if (got != want || error == NULL || cace_error_code(error) != want || cace_error_message(error, NULL)[0] == '\0') {
    fprintf(stderr, "FAIL %s: got %s (error %s: \"%s\"), want %s\n", call, cace_code_name(got),
            cace_code_name(cace_error_code(error)), cace_error_message(error, NULL), cace_code_name(want));
    ++failures;
  }
  cace_error_free(error);
}

#define EXPECT(want, call_expression)                  \
  do {                                                 \
    cace_error* error = NULL;                          \
    cace_code got = (call_expression);                 \
    expect_code(#call_expression, got, error, want);   \
  } while (0)

#define EXPECT_TRUE(condition)                                  \
  do {                                                          \
    if (!(condition)) {                                         \
      fprintf(stderr, "FAIL %s\n", #condition);                 \
      ++failures;                                               \
    }                                                           \
  } while (0)

static void choose_nothing(void* state, cace_eviction_choice* choice) {
  (void)state;
  (void)choice;
}

static int warnings = 0;
static void count_warning(void* user_data, const char* text, size_t length) {
  (void)user_data;
  (void)text;
  (void)length;
  ++warnings;
}

static int destroyed = 0;
static void count_destroy(void* state) {
  (void)state;
  ++destroyed;
}

int main(void) {
  const int32_t tokens[1] = {1};
  uint64_t id = 0;
  int pending = 0;
  char* text = NULL;
  size_t length = 7;
  cace_stream* stream = NULL;
  cace_event* event = NULL;
  cace_metrics* metrics = NULL;
  cace_model_list* list = NULL;
  cace_engine_options* options;
  cace_engine* engine;
  cace_model_options* model;
  cace_request* request;
  cace_policy_callbacks policy;

  /* Basics. */
  EXPECT_TRUE(cace_version() == CACE_VERSION_NUMBER);
  EXPECT_TRUE(strlen(cace_version_string()) > 0);
  EXPECT_TRUE(strcmp(cace_code_name(CACE_NOT_FOUND), "NOT_FOUND") == 0);
  EXPECT_TRUE(strcmp(cace_code_name(999), "UNKNOWN") == 0);
  EXPECT_TRUE(cace_error_code(NULL) == CACE_OK);
  EXPECT_TRUE(cace_error_message(NULL, &length)[0] == '\0' && length == 0);
  cace_error_free(NULL);
  cace_free(NULL);

  /* Options with NULL. */
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_options_set_memory_budget(NULL, 1, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_options_set_backend(NULL, CACE_BACKEND_CPU, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_options_set_policy(NULL, "lru", 3, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_options_set_cace_weight(NULL, "kind_prior", 10, 1.0, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_options_set_host_policy(NULL, "h", 1, NULL, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_options_set_max_pending_requests(NULL, 1, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_options_set_max_batch(NULL, 1, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_options_set_compute_threads(NULL, 1, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_options_set_default_keep_alive(NULL, 1, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_options_set_host_cache_bytes(NULL, 1, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_options_set_prefetch(NULL, 1, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_options_set_state_file(NULL, "s", 1, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_options_set_warning_callback(NULL, count_warning, NULL, &error));
  cace_engine_options_destroy(NULL);
  {
    cace_error* error = NULL;
    EXPECT_TRUE(cace_engine_create(NULL, &error) == NULL);
    expect_code("cace_engine_create(NULL)", cace_error_code(error), error, CACE_INVALID_ARGUMENT);
  }
  EXPECT(CACE_INVALID_ARGUMENT, cace_model_options_set_id(NULL, "a", 1, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_model_options_set_pin(NULL, 1, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_model_options_set_keep_alive(NULL, 1, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_model_options_set_priority(NULL, 1, &error));
  cace_model_options_destroy(NULL);

  /* Bad values on real options: a NULL string with a length, unknown names, sizes that do not fit. */
  options = cace_engine_options_create();
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_options_set_memory_budget(options, 0, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_options_set_backend(options, 7, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_options_set_policy(options, NULL, 3, &error));
  EXPECT(CACE_NOT_FOUND, cace_engine_options_set_cace_weight(options, "no_such_weight", 14, 1.0, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_options_set_max_batch(options, 0, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_options_set_state_file(options, NULL, 4, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_options_set_state_file(options, "a\0b", 3, &error));
  memset(&policy, 0, sizeof policy);
  policy.struct_size = sizeof policy;
  policy.destroy = count_destroy;
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_options_set_host_policy(options, "h", 1, &policy, &error));
  EXPECT_TRUE(destroyed == 1); /* refused, yet its state was handed over and destroyed */
  policy.choose_victims = choose_nothing;
  policy.struct_size = 4; /* smaller than any table */
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_options_set_host_policy(options, "h", 1, &policy, &error));
  {
    cace_error* error = NULL;
    EXPECT_TRUE(cace_engine_create(options, &error) == NULL); /* no budget */
    expect_code("cace_engine_create(no budget)", cace_error_code(error), error, CACE_INVALID_ARGUMENT);
  }
  {
    cace_error* error = NULL;
    /* Success sets *error to NULL. */
    EXPECT_TRUE(cace_engine_options_set_memory_budget(options, 64u << 20, &error) == CACE_OK && error == NULL);
  }
  cace_engine_options_set_policy(options, "no-such-policy", 14, NULL);
  {
    cace_error* error = NULL;
    EXPECT_TRUE(cace_engine_create(options, &error) == NULL);
    expect_code("cace_engine_create(unknown policy)", cace_error_code(error), error, CACE_INVALID_ARGUMENT);
  }
  cace_engine_options_set_policy(options, "lru", 3, NULL);
  /* Warnings would count here (none is expected: no state file, no host cache). */
  EXPECT_TRUE(cace_engine_options_set_warning_callback(options, count_warning, NULL, NULL) == CACE_OK);

  /* Requests with NULL and bad values. */
  EXPECT(CACE_INVALID_ARGUMENT, cace_request_set_model(NULL, "a", 1, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_request_set_prompt(NULL, "a", 1, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_request_set_prompt_tokens(NULL, tokens, 1, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_request_set_fill_in_middle(NULL, "a", 1, "b", 1, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_request_set_kind(NULL, CACE_TASK_CHAT, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_request_set_max_tokens(NULL, 1, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_request_set_sampling(NULL, 0, 1, 0, 0, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_request_add_stop(NULL, "a", 1, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_request_set_deadline(NULL, 1, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_request_set_keep_alive(NULL, 1, &error));
  cace_request_destroy(NULL);
  request = cace_request_create();
  EXPECT(CACE_INVALID_ARGUMENT, cace_request_set_prompt_tokens(request, NULL, 1, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_request_set_kind(request, 42, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_request_set_max_tokens(request, 0, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_request_set_sampling(request, -1, 1, 0, 0, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_request_add_stop(request, "", 0, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_request_set_deadline(request, -1, &error));
  cace_request_set_model(request, "nobody", 6, NULL);
  cace_request_set_prompt(request, "hi", 2, NULL);

  /* Engine calls with a NULL engine. */
  model = cace_model_options_create();
  cace_model_options_set_id(model, "m", 1, NULL);
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_close(NULL, &error));
  cace_engine_destroy(NULL);
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_add_model(NULL, "p", 1, model, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_remove_model(NULL, "m", 1, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_pin(NULL, "m", 1, 1, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_set_keep_alive(NULL, "m", 1, 1, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_set_priority(NULL, "m", 1, 1, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_preload(NULL, "m", 1, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_unload(NULL, "m", 1, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_submit(NULL, request, NULL, &id, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_cancel(NULL, 1, &pending, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_submit_stream(NULL, request, &stream, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_prometheus_text(NULL, &text, &length, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_metrics(NULL, &metrics, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_list_models(NULL, &list, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_save_state(NULL, &error));

  /* An open engine: NULL arguments, unknown names. */
  engine = cace_engine_create(options, NULL);
  EXPECT_TRUE(engine != NULL);
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_add_model(engine, "p", 1, NULL, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_add_model(engine, NULL, 5, model, &error));
  EXPECT(CACE_NOT_FOUND, cace_engine_pin(engine, "nobody", 6, 1, &error));
  EXPECT(CACE_NOT_FOUND, cace_engine_remove_model(engine, "nobody", 6, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_submit(engine, NULL, NULL, &id, &error));
  EXPECT(CACE_NOT_FOUND, cace_engine_submit(engine, request, NULL, &id, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_submit_stream(engine, request, NULL, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_prometheus_text(engine, NULL, &length, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_metrics(engine, NULL, &error));
  EXPECT(CACE_INVALID_ARGUMENT, cace_engine_list_models(engine, NULL, &error));
  EXPECT(CACE_FAILED_PRECONDITION, cace_engine_save_state(engine, &error)); /* no state file set */
  {
    cace_error* error = NULL;
    EXPECT_TRUE(cace_engine_cancel(engine, 12345, &pending, &error) == CACE_OK && error == NULL && pending == 0);
  }

  /* Closed: every engine call fails with FAILED_PRECONDITION; close again is fine. */
  EXPECT_TRUE(cace_engine_close(engine, NULL) == CACE_OK);
  EXPECT_TRUE(cace_engine_close(engine, NULL) == CACE_OK);
  EXPECT(CACE_FAILED_PRECONDITION, cace_engine_add_model(engine, "p", 1, model, &error));
  EXPECT(CACE_FAILED_PRECONDITION, cace_engine_remove_model(engine, "m", 1, &error));
  EXPECT(CACE_FAILED_PRECONDITION, cace_engine_pin(engine, "m", 1, 1, &error));
  EXPECT(CACE_FAILED_PRECONDITION, cace_engine_set_keep_alive(engine, "m", 1, 1, &error));
  EXPECT(CACE_FAILED_PRECONDITION, cace_engine_set_priority(engine, "m", 1, 1, &error));
  EXPECT(CACE_FAILED_PRECONDITION, cace_engine_preload(engine, "m", 1, &error));
  EXPECT(CACE_FAILED_PRECONDITION, cace_engine_unload(engine, "m", 1, &error));
  EXPECT(CACE_FAILED_PRECONDITION, cace_engine_submit(engine, request, NULL, &id, &error));
  EXPECT(CACE_FAILED_PRECONDITION, cace_engine_cancel(engine, 1, &pending, &error));
  EXPECT(CACE_FAILED_PRECONDITION, cace_engine_submit_stream(engine, request, &stream, &error));
  EXPECT(CACE_FAILED_PRECONDITION, cace_engine_prometheus_text(engine, &text, &length, &error));
  EXPECT(CACE_FAILED_PRECONDITION, cace_engine_metrics(engine, &metrics, &error));
  EXPECT(CACE_FAILED_PRECONDITION, cace_engine_list_models(engine, &list, &error));
  EXPECT(CACE_FAILED_PRECONDITION, cace_engine_save_state(engine, &error));
  cace_engine_destroy(engine);
  EXPECT_TRUE(warnings == 0);

  /* Streams, events, results, metrics, lists, eviction choices: NULL gives errors or empty values. */
  EXPECT(CACE_INVALID_ARGUMENT, cace_stream_next(NULL, 0, &event, &error));
  EXPECT_TRUE(cace_stream_request_id(NULL) == 0);
  cace_stream_destroy(NULL);
  EXPECT_TRUE(cace_event_get_kind(NULL) == CACE_EVENT_TOKEN);
  EXPECT_TRUE(cace_event_text(NULL, &length)[0] == '\0' && length == 0);
  EXPECT_TRUE(cace_event_token(NULL) == 0);
  EXPECT_TRUE(cace_event_result(NULL) == NULL);
  cace_event_free(NULL);
  EXPECT_TRUE(cace_result_id(NULL) == 0);
  EXPECT_TRUE(cace_result_code(NULL) == CACE_INVALID_ARGUMENT);
  EXPECT_TRUE(cace_result_message(NULL, &length)[0] == '\0');
  EXPECT_TRUE(cace_result_reason(NULL) == CACE_END_ERROR);
  EXPECT_TRUE(cace_result_text(NULL, &length)[0] == '\0');
  EXPECT_TRUE(cace_result_prompt_tokens(NULL) == 0 && cace_result_completion_tokens(NULL) == 0);
  EXPECT_TRUE(cace_result_ttft_seconds(NULL) == -1 && cace_result_e2e_seconds(NULL) == -1);
  EXPECT_TRUE(cace_metrics_memory_budget_bytes(NULL) == 0 && cace_metrics_memory_used_bytes(NULL) == 0);
  EXPECT_TRUE(cace_metrics_model_count(NULL) == 0);
  EXPECT_TRUE(cace_metrics_model_name(NULL, 0, &length)[0] == '\0');
  EXPECT_TRUE(cace_metrics_model_requests_ok(NULL, 0) == 0 && cace_metrics_model_requests_failed(NULL, 0) == 0);
  EXPECT_TRUE(cace_metrics_model_completion_tokens(NULL, 0) == 0 && cace_metrics_model_loads(NULL, 0) == 0);
  EXPECT_TRUE(cace_metrics_model_evictions(NULL, 0) == 0 && cace_metrics_model_resident_bytes(NULL, 0) == 0);
  EXPECT_TRUE(cace_metrics_model_queued(NULL, 0) == 0 && cace_metrics_model_in_flight(NULL, 0) == 0);
  EXPECT_TRUE(cace_metrics_model_kv_reserved_bytes(NULL, 0) == 0 && cace_metrics_model_kv_allocated_bytes(NULL, 0) == 0);
  EXPECT_TRUE(cace_metrics_host_cache_budget_bytes(NULL) == 0 && cace_metrics_host_cache_used_bytes(NULL) == 0);
  EXPECT_TRUE(cace_metrics_model_host_cache_bytes(NULL, 0) == 0);
  EXPECT_TRUE(cace_metrics_model_tier_loads(NULL, 0, CACE_LOAD_TIER_DISK) == 0);
  EXPECT_TRUE(cace_metrics_model_tier_bytes(NULL, 0, CACE_LOAD_TIER_HOST_CACHE) == 0);
  EXPECT_TRUE(cace_metrics_model_tier_seconds(NULL, 0, CACE_LOAD_TIER_DISK) == 0);
  EXPECT_TRUE(cace_metrics_prefetches(NULL) == 0 && cace_metrics_prefetches_used(NULL) == 0);
  EXPECT_TRUE(cace_metrics_prefetches_cancelled(NULL) == 0);
  cace_metrics_destroy(NULL);
  EXPECT_TRUE(cace_model_list_count(NULL) == 0 && cace_model_list_id(NULL, 0, &length)[0] == '\0');
  EXPECT_TRUE(cace_model_list_state(NULL, 0) == CACE_RESIDENCY_ABSENT);
  EXPECT_TRUE(cace_model_list_weight_bytes(NULL, 0) == 0 && cace_model_list_pinned(NULL, 0) == 0);
  cace_model_list_destroy(NULL);
  EXPECT_TRUE(cace_eviction_candidate_count(NULL) == 0 && cace_eviction_candidate_model(NULL, 0) == 0);
  EXPECT_TRUE(cace_eviction_candidate_bytes(NULL, 0) == 0 && cace_eviction_candidate_last_use(NULL, 0) == 0);
  EXPECT_TRUE(cace_eviction_candidate_load_seconds(NULL, 0) == 0 && cace_eviction_candidate_in_flight(NULL, 0) == 0);
  EXPECT_TRUE(cace_eviction_bytes_needed(NULL) == 0 && cace_eviction_now(NULL) == 0);
  EXPECT_TRUE(cace_eviction_add_victim(NULL, 0) == CACE_INVALID_ARGUMENT);

  cace_request_destroy(request);
  cace_model_options_destroy(model);
  cace_engine_options_destroy(options);
  if (failures == 0) printf("ok: every entry point refused NULL and closed handles\n");
  return failures == 0 ? 0 : 1;
}
