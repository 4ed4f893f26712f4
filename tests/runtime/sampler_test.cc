#include <catch2/catch.hpp>

#include <map>
#include <vector>

#include "lib/runtime/sampler.h"

namespace cace {
namespace {

TEST_CASE("Greedy picks the argmax, lowest id on ties", "[sampler]") {
  Sampler s({});
  CHECK(s.Sample(std::vector<float>{0.1f, 3.0f, -1.0f, 3.0f}) == 1);
  CHECK(Argmax(std::vector<float>{-5.0f}) == 0);
}

TEST_CASE("Seeded sampling is reproducible and follows the distribution", "[sampler]") {
  const std::vector<float> logits = {0.0f, 1.0f, 2.0f, 3.0f};  // softmax: .032 .087 .237 .644
  SamplingOptions o{.temperature = 1.0f, .seed = 42};
  Sampler a(o), b(o);
  std::map<int, int> counts;
  for (int i = 0; i < 20000; ++i) {
    const int t = a.Sample(logits);
    REQUIRE(t == b.Sample(logits));
    ++counts[t];
  }
  CHECK(counts[3] / 20000.0 == Approx(0.644).margin(0.02));
  CHECK(counts[0] / 20000.0 == Approx(0.032).margin(0.01));
  Sampler c({.temperature = 1.0f, .seed = 43});
  int differ = 0;
  Sampler d(o);
  for (int i = 0; i < 100; ++i) differ += c.Sample(logits) != d.Sample(logits);
  CHECK(differ > 0);
}

TEST_CASE("Top-k and top-p keep only the most likely tokens", "[sampler]") {
  const std::vector<float> logits = {0.0f, 1.0f, 2.0f, 3.0f};
  Sampler k2({.temperature = 1.0f, .top_k = 2, .seed = 1});
  Sampler p5({.temperature = 1.0f, .top_p = 0.5f, .seed = 1});  // .644 alone reaches .5
  Sampler p8({.temperature = 1.0f, .top_p = 0.8f, .seed = 1});  // needs 3 and 2
  std::map<int, int> ck, cp8;
  for (int i = 0; i < 2000; ++i) {
    ++ck[k2.Sample(logits)];
    REQUIRE(p5.Sample(logits) == 3);
    ++cp8[p8.Sample(logits)];
  }
  CHECK(ck.size() == 2);
  CHECK(ck.count(3) == 1);
  CHECK(ck.count(2) == 1);
  CHECK(cp8.size() == 2);
  CHECK(cp8.count(2) == 1);
}

TEST_CASE("Low temperature approaches greedy", "[sampler]") {
  Sampler s({.temperature = 0.01f, .seed = 7});
  for (int i = 0; i < 100; ++i) REQUIRE(s.Sample(std::vector<float>{1.0f, 1.5f, 0.5f}) == 1);
}

TEST_CASE("Invalid sampling options are errors naming the field", "[sampler]") {
  CHECK(ValidateSamplingOptions({.temperature = -1.0f}).code() == absl::StatusCode::kInvalidArgument);
  CHECK(ValidateSamplingOptions({.top_k = -2}).code() == absl::StatusCode::kInvalidArgument);
  const absl::Status st = ValidateSamplingOptions({.top_p = 0.0f});
  CHECK(std::string(st.message()).find("top_p") != std::string::npos);
  CHECK(ValidateSamplingOptions({.temperature = 0.7f, .top_k = 40, .top_p = 0.9f}).ok());
}

}  // namespace
}  // namespace cace
