#include <algorithm>
#include <tuple>

#include "cace/model_registry.h"
#include "lib/policy/policies.h"

namespace cace {

void KeepAlivePolicy::OnRegister(ModelHandle model, const ModelSpec& spec) {
  if (model >= names_.size()) {
    names_.resize(model + 1);
    keep_alive_.resize(model + 1, default_keep_alive_);
  }
  names_[model] = spec.name;
  ranks_stale_ = true;
}

void KeepAlivePolicy::set_keep_alive(ModelHandle model, Seconds keep_alive) {
  if (model >= keep_alive_.size()) {
    keep_alive_.resize(model + 1, default_keep_alive_);
    names_.resize(model + 1);
  }
  keep_alive_[model] = keep_alive;
}

Seconds KeepAlivePolicy::keep_alive(ModelHandle model) const {
  return model < keep_alive_.size() ? keep_alive_[model] : default_keep_alive_;
}

void KeepAlivePolicy::ChooseVictims(const EvictionRequest& request, std::vector<ModelHandle>& victims) {
  if (ranks_stale_) {
    // Names are compared once per registration, not once per comparison in every decision.
    std::vector<std::uint32_t> by_name(names_.size());
    for (std::uint32_t i = 0; i < by_name.size(); ++i) by_name[i] = i;
    std::sort(by_name.begin(), by_name.end(),
              [&](std::uint32_t a, std::uint32_t b) { return names_[a] < names_[b]; });
    name_rank_.resize(names_.size());
    for (std::uint32_t r = 0; r < by_name.size(); ++r) name_rank_[by_name[r]] = r;
    ranks_stale_ = false;
  }
  const auto& c = request.candidates;
  // The order's keys, computed once per candidate rather than once per comparison.
  keys_.resize(c.size());
  for (std::size_t i = 0; i < c.size(); ++i) {
    const Seconds keep = keep_alive(c[i].model);
    const std::uint32_t rank = c[i].model < name_rank_.size() ? name_rank_[c[i].model] : c[i].model;
    keys_[i] = SortKey{request.now - c[i].last_use < keep, keep, rank, c[i].model};
  }
  // A heap, not a full sort: usually one or two victims are taken. "Evicted later" on top.
  auto evicted_later = [&](std::uint32_t a, std::uint32_t b) {
    const SortKey& x = keys_[a];
    const SortKey& y = keys_[b];
    return std::tie(x.unexpired, x.keep_alive, x.name_rank, x.model) >
           std::tie(y.unexpired, y.keep_alive, y.name_rank, y.model);
  };
  order_.resize(c.size());
  for (std::uint32_t i = 0; i < order_.size(); ++i) order_[i] = i;
  std::make_heap(order_.begin(), order_.end(), evicted_later);
  std::uint64_t freed = 0;
  for (auto end = order_.end(); freed < request.bytes_needed && end != order_.begin(); --end) {
    std::pop_heap(order_.begin(), end, evicted_later);
    victims.push_back(c[*(end - 1)].model);
    freed += c[*(end - 1)].bytes;
  }
}

Seconds KeepAlivePolicy::IdleTimeout(ModelHandle model) const { return keep_alive(model); }

}  // namespace cace
