// Decoding while tokens are generated: a token may end inside a UTF-8 character (byte-level BPE
// and byte fallback split characters across tokens), so bytes of an unfinished character are held
// back until the token that completes them arrives. The pieces returned, joined, equal
// Tokenizer::Decode of all the ids.
#ifndef CACE_LIB_TOKENIZER_STREAM_DECODER_H_
#define CACE_LIB_TOKENIZER_STREAM_DECODER_H_

#include <string>

#include "absl/status/statusor.h"
#include "lib/tokenizer/tokenizer.h"

namespace cace {

class StreamDecoder {
 public:
  // `tokenizer` must outlive this decoder.
  explicit StreamDecoder(const Tokenizer& tokenizer, DecodeOptions options = {});

  // The text that `id` completes: valid UTF-8, possibly empty. On an id outside the vocabulary,
  // an error, and the decoder is as it was before the call.
  absl::StatusOr<std::string> Push(TokenId id);

  // The end of the stream: what is still held back, an unfinished character as U+FFFD.
  std::string Finish();

 private:
  const Tokenizer& tokenizer_;
  DecodeOptions options_;
  std::string pending_;
  bool at_start_ = true;
};

}  // namespace cace

#endif  // CACE_LIB_TOKENIZER_STREAM_DECODER_H_
