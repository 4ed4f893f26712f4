#include "capi/host_policy.h"

#include "cace/model_registry.h"

// One decision, as choose_victims sees it.
struct cace_eviction_choice {
  const cace::EvictionRequest* request = nullptr;
  std::vector<cace::ModelHandle>* victims = nullptr;
};

namespace cace::capi {
namespace {

cace_task_kind Kind(TaskKind kind) { return static_cast<cace_task_kind>(KindIndex(kind)); }

class HostPolicy final : public EvictionPolicy {
 public:
  explicit HostPolicy(std::shared_ptr<HostPolicyTable> table) : table_(std::move(table)) {}

  std::string_view name() const override { return table_->name; }
  void OnRegister(ModelHandle model, const ModelSpec& spec) override {
    if (auto f = table_->callbacks.on_register) f(state(), model, spec.name.data(), spec.name.size(), spec.weight_bytes);
  }
  void OnAccess(const AccessEvent& event) override {
    if (auto f = table_->callbacks.on_access) f(state(), event.model, Kind(event.kind), event.time);
  }
  void OnComplete(const CompletionEvent& event) override {
    if (auto f = table_->callbacks.on_complete) {
      f(state(), event.model, Kind(event.kind), event.time, event.output_tokens);
    }
  }
  void OnLoad(ModelHandle model, Seconds now) override {
    if (auto f = table_->callbacks.on_load) f(state(), model, now);
  }
  void OnEvict(ModelHandle model, Seconds now) override {
    if (auto f = table_->callbacks.on_evict) f(state(), model, now);
  }
  void ChooseVictims(const EvictionRequest& request, std::vector<ModelHandle>& victims) override {
    cace_eviction_choice choice{&request, &victims};
    table_->callbacks.choose_victims(state(), &choice);
  }

 private:
  void* state() const { return table_->callbacks.state; }
  std::shared_ptr<HostPolicyTable> table_;
};

}  // namespace

std::unique_ptr<EvictionPolicy> MakeHostPolicy(std::shared_ptr<HostPolicyTable> table) {
  return std::make_unique<HostPolicy>(std::move(table));
}

}  // namespace cace::capi

namespace {

const cace::Candidate* CandidateAt(const cace_eviction_choice* choice, size_t index) {
  if (choice == nullptr || choice->request == nullptr || index >= choice->request->candidates.size()) return nullptr;
  return &choice->request->candidates[index];
}

}  // namespace

extern "C" {

size_t cace_eviction_candidate_count(const cace_eviction_choice* choice) {
  return choice == nullptr || choice->request == nullptr ? 0 : choice->request->candidates.size();
}

uint32_t cace_eviction_candidate_model(const cace_eviction_choice* choice, size_t index) {
  const cace::Candidate* c = CandidateAt(choice, index);
  return c == nullptr ? 0 : c->model;
}

uint64_t cace_eviction_candidate_bytes(const cace_eviction_choice* choice, size_t index) {
  const cace::Candidate* c = CandidateAt(choice, index);
  return c == nullptr ? 0 : c->bytes;
}

double cace_eviction_candidate_last_use(const cace_eviction_choice* choice, size_t index) {
  const cace::Candidate* c = CandidateAt(choice, index);
  return c == nullptr ? 0 : c->last_use;
}

double cace_eviction_candidate_load_seconds(const cace_eviction_choice* choice, size_t index) {
  const cace::Candidate* c = CandidateAt(choice, index);
  return c == nullptr ? 0 : c->load_seconds;
}

int32_t cace_eviction_candidate_in_flight(const cace_eviction_choice* choice, size_t index) {
  const cace::Candidate* c = CandidateAt(choice, index);
  return c == nullptr ? 0 : c->in_flight;
}

uint64_t cace_eviction_bytes_needed(const cace_eviction_choice* choice) {
  return choice == nullptr || choice->request == nullptr ? 0 : choice->request->bytes_needed;
}

double cace_eviction_now(const cace_eviction_choice* choice) {
  return choice == nullptr || choice->request == nullptr ? 0 : choice->request->now;
}

cace_code cace_eviction_add_victim(cace_eviction_choice* choice, uint32_t model) {
  if (choice == nullptr || choice->victims == nullptr) return CACE_INVALID_ARGUMENT;
  try {
    choice->victims->push_back(model);
  } catch (...) {
    return CACE_RESOURCE_EXHAUSTED;
  }
  return CACE_OK;
}

}  // extern "C"
