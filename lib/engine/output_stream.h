// The text a request streams: each generated token's piece from the tokenizer's StreamDecoder
// (never a split UTF-8 character), less what may be the start of a stop string, which is held
// back until the next tokens show whether it is one. A completed stop string ends the output
// before it; the stop string itself is never streamed.
#ifndef CACE_LIB_ENGINE_OUTPUT_STREAM_H_
#define CACE_LIB_ENGINE_OUTPUT_STREAM_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/tokenizer/stream_decoder.h"
#include "lib/tokenizer/tokenizer.h"

namespace cace {

class OutputStream {
 public:
  // `tokenizer` must outlive the stream; `stops` are non-empty strings.
  OutputStream(const Tokenizer& tokenizer, std::vector<std::string> stops);

  // The text that may be streamed after token `id`, possibly empty. Sets *stopped when a stop
  // string completed: the text returned is then the last, everything before the stop string.
  absl::StatusOr<std::string> Push(std::int32_t id, bool* stopped);
  // At the end of the output (EOS, max tokens): the text still held back.
  std::string Finish();

  const std::string& text() const { return text_; }  // everything returned so far

 private:
  // Cuts held_ at the earliest complete stop string, if any.
  bool CutAtStop();
  // Bytes at the end of held_ that begin some stop string.
  std::size_t HeldBackLength() const;

  StreamDecoder decoder_;
  std::vector<std::string> stops_;
  std::string held_;
  std::string text_;
};

}  // namespace cace

#endif  // CACE_LIB_ENGINE_OUTPUT_STREAM_H_
