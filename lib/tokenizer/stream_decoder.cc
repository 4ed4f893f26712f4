#include "lib/tokenizer/stream_decoder.h"

#include "lib/tokenizer/utf8.h"

namespace cace {

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, DecodeOptions options)
    : tokenizer_(tokenizer), options_(options) {}

absl::StatusOr<std::string> StreamDecoder::Push(TokenId id) {
  if (absl::Status s = tokenizer_.AppendTokenBytes(id, options_, &at_start_, &pending_); !s.ok()) {
    return s;
  }
  const std::size_t complete = CompletePrefixLength(pending_);
  std::string text = ToValidUtf8(std::string_view(pending_).substr(0, complete));
  pending_.erase(0, complete);
  return text;
}

std::string StreamDecoder::Finish() {
  std::string text = ToValidUtf8(pending_);
  pending_.clear();
  at_start_ = true;
  return text;
}

}  // namespace cace
