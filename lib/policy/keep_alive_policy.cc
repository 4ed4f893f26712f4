#include <algorithm>

#include "cace/model_registry.h"
#include "cace/policies.h"

namespace cace {

void KeepAlivePolicy::OnRegister(ModelHandle model, const ModelSpec& spec) {
  if (model >= names_.size()) {
    names_.resize(model + 1);
    keep_alive_.resize(model + 1, default_keep_alive_);
  }
  names_[model] = spec.name;
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
  const auto& c = request.candidates;
  order_.resize(c.size());
  for (std::uint32_t i = 0; i < order_.size(); ++i) order_[i] = i;
  auto expired = [&](std::uint32_t i) {
    return request.now - c[i].last_use >= keep_alive(c[i].model);
  };
  auto name = [&](std::uint32_t i) -> std::string_view {
    return c[i].model < names_.size() ? std::string_view(names_[c[i].model]) : std::string_view();
  };
  std::sort(order_.begin(), order_.end(), [&](std::uint32_t a, std::uint32_t b) {
    if (expired(a) != expired(b)) return expired(a);
    if (keep_alive(c[a].model) != keep_alive(c[b].model)) {
      return keep_alive(c[a].model) < keep_alive(c[b].model);
    }
    if (name(a) != name(b)) return name(a) < name(b);
    return c[a].model < c[b].model;
  });
  std::uint64_t freed = 0;
  for (std::uint32_t i : order_) {
    if (freed >= request.bytes_needed) break;
    victims.push_back(c[i].model);
    freed += c[i].bytes;
  }
}

Seconds KeepAlivePolicy::IdleTimeout(ModelHandle model) const { return keep_alive(model); }

}  // namespace cace
