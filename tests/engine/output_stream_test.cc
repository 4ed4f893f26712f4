#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "lib/engine/output_stream.h"
#include "lib/tokenizer/tokenizer_file.h"
#include "tests/engine/engine_test_support.h"

namespace cace {
namespace {

// Streams `text` through the tiny tokenizer one byte token at a time.
struct Streamed {
  std::vector<std::string> pieces;
  std::string finished;
  bool stopped = false;
};

Streamed Stream(const Tokenizer& tokenizer, const std::string& text, std::vector<std::string> stops) {
  OutputStream stream(tokenizer, std::move(stops));
  Streamed out;
  for (TokenId id : tokenizer.Encode(text)) {
    auto piece = stream.Push(id, &out.stopped);
    REQUIRE(piece.ok());
    out.pieces.push_back(*piece);
    if (out.stopped) return out;
  }
  out.finished = stream.Finish();
  return out;
}

std::string Join(const Streamed& s) {
  std::string all;
  for (const std::string& p : s.pieces) all += p;
  return all + s.finished;
}

TEST_CASE("The output stream never splits a character and cuts at a stop string", "[engine]") {
  auto tokenizer = LoadTokenizer(testing::TinyModelDir("stream", 0) + "/tokenizer.json");
  REQUIRE(tokenizer.ok());
  const Tokenizer& t = **tokenizer;

  const Streamed plain = Stream(t, "añb€c", {});
  CHECK(Join(plain) == "añb€c");
  for (const std::string& piece : plain.pieces) {
    // Every piece is whole characters: no piece starts with a continuation byte.
    if (!piece.empty()) CHECK((static_cast<unsigned char>(piece[0]) & 0xC0) != 0x80);
  }

  const Streamed stopped = Stream(t, "abc<END>def", {"<END>"});
  CHECK(stopped.stopped);
  CHECK(Join(stopped) == "abc");

  // A false start of the stop string is held back, then released.
  const Streamed false_start = Stream(t, "ab<ENx", {"<END>"});
  CHECK_FALSE(false_start.stopped);
  CHECK(Join(false_start) == "ab<ENx");
  std::string so_far;
  for (const std::string& piece : false_start.pieces) {
    so_far += piece;
    // What might begin "<END>" is never streamed before the text shows it does not.
    CHECK_FALSE((so_far.ends_with("<") || so_far.ends_with("<E") || so_far.ends_with("<EN")));
  }
}

}  // namespace
}  // namespace cace
