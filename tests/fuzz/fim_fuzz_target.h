// FIM prompt building on untrusted code: the input's first byte picks one of the four real
// vocabularies of data/tokenizers and BOS; the rest, split at its first 0xFF byte, is the prefix
// and the suffix. Checks, beyond not crashing: a vocabulary without FIM tokens is refused
// (FailedPrecondition); otherwise every id is in the vocabulary and the prompt holds exactly one
// prefix, one suffix and one middle token, in that order, the middle last: "<fim_middle>" written
// in the code cannot end the prompt early. Shared by fuzz_fim_prompt and
// tests/reliability/fim_seeds_test.cc.
#ifndef CACE_TESTS_FUZZ_FIM_FUZZ_TARGET_H_
#define CACE_TESTS_FUZZ_FIM_FUZZ_TARGET_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lib/tokenizer/fim_prompt.h"
#include "lib/tokenizer/tokenizer_file.h"

namespace cace::fuzz {

// Aborts (what a fuzzer reports) naming the broken check. A macro for __FILE__ and __LINE__:
// clang 14, which builds the fuzzers, has no std::source_location with libstdc++.
#define CACE_FIM_REQUIRE(condition)                                                \
  do {                                                                          \
    if (!(condition)) {                                                         \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                             \
    }                                                                           \
  } while (false)

inline const std::vector<std::unique_ptr<Tokenizer>>& FimTokenizers() {
  static const auto* all = [] {
    auto* v = new std::vector<std::unique_ptr<Tokenizer>>();
    for (const char* name : {"deepseek-coder", "starcoder", "gpt-2", "llama-spm"}) {
      auto t = LoadTokenizer(std::string(CACE_DATA_DIR) + "/tokenizers/ggml-vocab-" + name + ".gguf");
      CACE_FIM_REQUIRE(t.ok());
      v->push_back(*std::move(t));
    }
    return v;
  }();
  return *all;
}

inline int FuzzFimPrompt(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Tokenizer& t = *FimTokenizers()[data[0] % 4];
  const bool add_bos = (data[0] & 4) != 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::size_t cut = std::min(rest.find('\xFF'), rest.size());
  const std::string_view prefix = rest.substr(0, cut);
  const std::string_view suffix = cut < rest.size() ? rest.substr(cut + 1) : std::string_view();
  auto ids = EncodeFimPrompt(t, prefix, suffix, add_bos);
  if (!t.fim().complete()) {
    CACE_FIM_REQUIRE(!ids.ok() && ids.status().code() == absl::StatusCode::kFailedPrecondition);
    return 0;
  }
  CACE_FIM_REQUIRE(ids.ok());
  for (TokenId id : *ids) CACE_FIM_REQUIRE(id >= 0 && static_cast<std::size_t>(id) < t.vocab_size());
  const auto count = [&](TokenId id) { return std::count(ids->begin(), ids->end(), id); };
  CACE_FIM_REQUIRE(count(*t.fim().prefix) == 1 && count(*t.fim().suffix) == 1 && count(*t.fim().middle) == 1);
  const auto at = [&](TokenId id) { return std::find(ids->begin(), ids->end(), id) - ids->begin(); };
  CACE_FIM_REQUIRE(at(*t.fim().prefix) < at(*t.fim().suffix));
  CACE_FIM_REQUIRE(ids->back() == *t.fim().middle);
  return 0;
}

}  // namespace cace::fuzz

#endif  // CACE_TESTS_FUZZ_FIM_FUZZ_TARGET_H_
