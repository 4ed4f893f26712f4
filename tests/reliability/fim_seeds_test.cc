// The FIM prompt fuzz target's seeds (and crash inputs found since), replayed in the normal build.
// Apart from reliability_tests: nothing here runs threads, so the ThreadSanitizer tree skips it.
#include <catch2/catch.hpp>

#include "tests/fuzz/fim_fuzz_target.h"
#include "tests/reliability/replay_inputs.h"

namespace cace {
namespace {

TEST_CASE("FIM prompt fuzz inputs replay cleanly", "[fuzz]") {
  CHECK(testing::ReplayInputs("/tests/fuzz/corpus/fuzz_fim_prompt", fuzz::FuzzFimPrompt) >= 5);
}

}  // namespace
}  // namespace cace
