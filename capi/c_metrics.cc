// Metrics: Prometheus text, the snapshot and the residency listing.
#include <cstdlib>
#include <cstring>

#include "capi/c_internal.h"

using cace::capi::EngineCall;
using cace::capi::Fail;
using cace::capi::Guarded;
using cace::capi::Ok;

namespace {

const cace::ModelMetrics* ModelAt(const cace_metrics* metrics, size_t index) {
  return metrics == nullptr || index >= metrics->snapshot.models.size() ? nullptr : &metrics->snapshot.models[index];
}

const cace::ResidencyEntry* EntryAt(const cace_model_list* list, size_t index) {
  return list == nullptr || index >= list->entries.size() ? nullptr : &list->entries[index];
}

const char* Name(const std::string* name, size_t* length) {
  static const std::string kEmpty;
  if (name == nullptr) name = &kEmpty;
  if (length != nullptr) *length = name->size();
  return name->c_str();
}

template <typename Field>
uint64_t SumKinds(const cace_metrics* metrics, size_t index, Field field) {
  const cace::ModelMetrics* model = ModelAt(metrics, index);
  if (model == nullptr) return 0;
  uint64_t total = 0;
  for (const cace::KindMetrics& kind : model->kinds) total += kind.*field;
  return total;
}

const cace::TierLoads* TierAt(const cace_metrics* metrics, size_t index, cace_load_tier tier) {
  const cace::ModelMetrics* model = ModelAt(metrics, index);
  if (model == nullptr) return nullptr;
  switch (tier) {
    case CACE_LOAD_TIER_DISK: return &model->from_disk;
    case CACE_LOAD_TIER_HOST_CACHE: return &model->from_host_cache;
    default: return nullptr;
  }
}

}  // namespace

extern "C" {

cace_code cace_engine_prometheus_text(const cace_engine* engine, char** text, size_t* length, cace_error** error) {
  return Guarded(error, [&] {
    if (text == nullptr) return Fail(error, CACE_INVALID_ARGUMENT, "text is NULL");
    *text = nullptr;
    EngineCall call(engine, error);
    if (call.engine() == nullptr) return call.code();
    const std::string prometheus = call.engine()->PrometheusMetrics();
    char* copy = static_cast<char*>(std::malloc(prometheus.size() + 1));  // freed by cace_free
    if (copy == nullptr) return Fail(error, CACE_RESOURCE_EXHAUSTED, "out of memory");
    std::memcpy(copy, prometheus.c_str(), prometheus.size() + 1);
    *text = copy;
    if (length != nullptr) *length = prometheus.size();
    return Ok(error);
  });
}

cace_code cace_engine_metrics(const cace_engine* engine, cace_metrics** metrics, cace_error** error) {
  return Guarded(error, [&] {
    if (metrics == nullptr) return Fail(error, CACE_INVALID_ARGUMENT, "metrics is NULL");
    *metrics = nullptr;
    EngineCall call(engine, error);
    if (call.engine() == nullptr) return call.code();
    *metrics = new cace_metrics{call.engine()->Metrics()};
    return Ok(error);
  });
}

void cace_metrics_destroy(cace_metrics* metrics) { delete metrics; }

uint64_t cace_metrics_memory_budget_bytes(const cace_metrics* metrics) {
  return metrics == nullptr ? 0 : metrics->snapshot.memory_budget_bytes;
}

uint64_t cace_metrics_memory_used_bytes(const cace_metrics* metrics) {
  return metrics == nullptr ? 0 : metrics->snapshot.memory_used_bytes;
}

size_t cace_metrics_model_count(const cace_metrics* metrics) {
  return metrics == nullptr ? 0 : metrics->snapshot.models.size();
}

const char* cace_metrics_model_name(const cace_metrics* metrics, size_t index, size_t* length) {
  const cace::ModelMetrics* model = ModelAt(metrics, index);
  return Name(model == nullptr ? nullptr : &model->model, length);
}

uint64_t cace_metrics_model_requests_ok(const cace_metrics* metrics, size_t index) {
  return SumKinds(metrics, index, &cace::KindMetrics::requests_ok);
}

uint64_t cace_metrics_model_requests_failed(const cace_metrics* metrics, size_t index) {
  return SumKinds(metrics, index, &cace::KindMetrics::requests_failed);
}

uint64_t cace_metrics_model_completion_tokens(const cace_metrics* metrics, size_t index) {
  return SumKinds(metrics, index, &cace::KindMetrics::completion_tokens);
}

uint64_t cace_metrics_model_loads(const cace_metrics* metrics, size_t index) {
  const cace::ModelMetrics* model = ModelAt(metrics, index);
  return model == nullptr ? 0 : model->loads;
}

uint64_t cace_metrics_model_evictions(const cace_metrics* metrics, size_t index) {
  const cace::ModelMetrics* model = ModelAt(metrics, index);
  return model == nullptr ? 0 : model->evictions;
}

uint64_t cace_metrics_model_resident_bytes(const cace_metrics* metrics, size_t index) {
  const cace::ModelMetrics* model = ModelAt(metrics, index);
  return model == nullptr ? 0 : model->resident_bytes;
}

uint64_t cace_metrics_model_kv_reserved_bytes(const cace_metrics* metrics, size_t index) {
  const cace::ModelMetrics* model = ModelAt(metrics, index);
  return model == nullptr ? 0 : model->kv_reserved_bytes;
}

uint64_t cace_metrics_model_kv_allocated_bytes(const cace_metrics* metrics, size_t index) {
  const cace::ModelMetrics* model = ModelAt(metrics, index);
  return model == nullptr ? 0 : model->kv_allocated_bytes;
}

uint64_t cace_metrics_model_queued(const cace_metrics* metrics, size_t index) {
  const cace::ModelMetrics* model = ModelAt(metrics, index);
  return model == nullptr ? 0 : model->queued;
}

uint64_t cace_metrics_model_in_flight(const cace_metrics* metrics, size_t index) {
  const cace::ModelMetrics* model = ModelAt(metrics, index);
  return model == nullptr ? 0 : model->in_flight;
}

uint64_t cace_metrics_host_cache_budget_bytes(const cace_metrics* metrics) {
  return metrics == nullptr ? 0 : metrics->snapshot.host_cache_budget_bytes;
}

uint64_t cace_metrics_host_cache_used_bytes(const cace_metrics* metrics) {
  return metrics == nullptr ? 0 : metrics->snapshot.host_cache_used_bytes;
}

uint64_t cace_metrics_model_host_cache_bytes(const cace_metrics* metrics, size_t index) {
  const cace::ModelMetrics* model = ModelAt(metrics, index);
  return model == nullptr ? 0 : model->host_cache_bytes;
}

uint64_t cace_metrics_model_tier_loads(const cace_metrics* metrics, size_t index, cace_load_tier tier) {
  const cace::TierLoads* loads = TierAt(metrics, index, tier);
  return loads == nullptr ? 0 : loads->loads;
}

uint64_t cace_metrics_model_tier_bytes(const cace_metrics* metrics, size_t index, cace_load_tier tier) {
  const cace::TierLoads* loads = TierAt(metrics, index, tier);
  return loads == nullptr ? 0 : loads->bytes;
}

double cace_metrics_model_tier_seconds(const cace_metrics* metrics, size_t index, cace_load_tier tier) {
  const cace::TierLoads* loads = TierAt(metrics, index, tier);
  return loads == nullptr ? 0 : loads->seconds;
}

uint64_t cace_metrics_prefetches(const cace_metrics* metrics) {
  return metrics == nullptr ? 0 : metrics->snapshot.prefetches;
}

uint64_t cace_metrics_prefetches_used(const cace_metrics* metrics) {
  return metrics == nullptr ? 0 : metrics->snapshot.prefetches_used;
}

uint64_t cace_metrics_prefetches_cancelled(const cace_metrics* metrics) {
  return metrics == nullptr ? 0 : metrics->snapshot.prefetches_cancelled;
}

cace_code cace_engine_list_models(const cace_engine* engine, cace_model_list** list, cace_error** error) {
  return Guarded(error, [&] {
    if (list == nullptr) return Fail(error, CACE_INVALID_ARGUMENT, "list is NULL");
    *list = nullptr;
    EngineCall call(engine, error);
    if (call.engine() == nullptr) return call.code();
    *list = new cace_model_list{call.engine()->ListModels()};
    return Ok(error);
  });
}

void cace_model_list_destroy(cace_model_list* list) { delete list; }

size_t cace_model_list_count(const cace_model_list* list) { return list == nullptr ? 0 : list->entries.size(); }

const char* cace_model_list_id(const cace_model_list* list, size_t index, size_t* length) {
  const cace::ResidencyEntry* entry = EntryAt(list, index);
  return Name(entry == nullptr ? nullptr : &entry->model, length);
}

cace_residency cace_model_list_state(const cace_model_list* list, size_t index) {
  const cace::ResidencyEntry* entry = EntryAt(list, index);
  if (entry == nullptr) return CACE_RESIDENCY_ABSENT;
  switch (entry->state) {
    case cace::Residency::kAbsent: return CACE_RESIDENCY_ABSENT;
    case cace::Residency::kLoading: return CACE_RESIDENCY_LOADING;
    case cace::Residency::kResident: return CACE_RESIDENCY_RESIDENT;
    case cace::Residency::kEvicting: return CACE_RESIDENCY_EVICTING;
    case cace::Residency::kHostCache: return CACE_RESIDENCY_HOST_CACHE;
  }
  return CACE_RESIDENCY_ABSENT;
}

uint64_t cace_model_list_weight_bytes(const cace_model_list* list, size_t index) {
  const cace::ResidencyEntry* entry = EntryAt(list, index);
  return entry == nullptr ? 0 : entry->weight_bytes;
}

int cace_model_list_pinned(const cace_model_list* list, size_t index) {
  const cace::ResidencyEntry* entry = EntryAt(list, index);
  return entry != nullptr && entry->pinned ? 1 : 0;
}

}  // extern "C"
