// What the serving core's files share: the check that its own calls into its table succeed.
#ifndef CACE_LIB_ENGINE_CORE_CHECK_H_
#define CACE_LIB_ENGINE_CORE_CHECK_H_

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "cace/types.h"

namespace cace::core_internal {

// The core's calls into its table follow its own state machine, so a failure is a bug in the
// core: fail loudly rather than serve on from a state nobody expects.
inline void Check(const absl::Status& status) {
  if (!status.ok()) {
    std::fprintf(stderr, "cace serving core: %s\n", std::string(status.message()).c_str());
    std::abort();
  }
}

inline constexpr Seconds kNever = std::numeric_limits<Seconds>::infinity();

}  // namespace cace::core_internal

#endif  // CACE_LIB_ENGINE_CORE_CHECK_H_
