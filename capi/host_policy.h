// A policy supplied by a C host (cace_policy_callbacks) as a cace::EvictionPolicy.
#ifndef CACE_CAPI_HOST_POLICY_H_
#define CACE_CAPI_HOST_POLICY_H_

#include <memory>

#include "capi/c_internal.h"

namespace cace::capi {

std::unique_ptr<EvictionPolicy> MakeHostPolicy(std::shared_ptr<HostPolicyTable> table);

}  // namespace cace::capi

#endif  // CACE_CAPI_HOST_POLICY_H_
