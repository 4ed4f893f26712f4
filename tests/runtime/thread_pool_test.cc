#include <catch2/catch.hpp>

#include <atomic>
#include <vector>

#include "lib/runtime/thread_pool.h"

namespace cace {
namespace {

TEST_CASE("ParallelFor covers every index exactly once, job after job", "[thread_pool]") {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    REQUIRE(pool.size() == threads);
    for (std::int64_t n : {1, 2, 5, 7, 64, 1000, 3, 0}) {
      for (int rep = 0; rep < 50; ++rep) {
        std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
        std::atomic<int> bad_thread{0};
        pool.ParallelFor(n, [&](std::int64_t b, std::int64_t e, int thread) {
          if (thread < 0 || thread >= pool.size()) bad_thread.fetch_add(1);
          for (std::int64_t i = b; i < e; ++i) hits[static_cast<std::size_t>(i)].fetch_add(1);
        });
        REQUIRE(bad_thread.load() == 0);
        for (auto& h : hits) REQUIRE(h.load() == 1);
      }
    }
  }
}

}  // namespace
}  // namespace cace
