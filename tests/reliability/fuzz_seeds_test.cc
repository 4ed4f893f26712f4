// The seeds (and crash inputs found since) of the C ABI fuzz target, replayed in the normal build,
// where the fuzzers (clang only) are not built: each input runs through the same target function,
// whose checks abort on a broken promise. In reliability_tests, so ThreadSanitizer sees it.
#include <catch2/catch.hpp>

#include "tests/fuzz/capi_fuzz_target.h"
#include "tests/reliability/replay_inputs.h"

namespace cace {
namespace {

TEST_CASE("C ABI call-sequence fuzz inputs replay cleanly", "[reliability][fuzz]") {
  CHECK(testing::ReplayInputs("/tests/fuzz/corpus/fuzz_capi", fuzz::FuzzCapiCalls) >= 3);
}

}  // namespace
}  // namespace cace
