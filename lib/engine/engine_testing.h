// For tests: an Engine whose threads call the given hooks (lib/engine/engine_scheduler.h), so a
// test can act at an exact point (cancel during a prefill, block a load) without timing.
#ifndef CACE_LIB_ENGINE_ENGINE_TESTING_H_
#define CACE_LIB_ENGINE_ENGINE_TESTING_H_

#include <memory>

#include "absl/status/statusor.h"
#include "cace/engine.h"
#include "lib/engine/engine_scheduler.h"

namespace cace {

absl::StatusOr<std::unique_ptr<Engine>> CreateEngineForTest(EngineOptions options, EngineHooks hooks);

}  // namespace cace

#endif  // CACE_LIB_ENGINE_ENGINE_TESTING_H_
