// Small vocabularies built in code, so that each rule of the tokenizer is tested on its own.
#ifndef CACE_TESTS_TOKENIZER_TEST_VOCABS_H_
#define CACE_TESTS_TOKENIZER_TEST_VOCABS_H_

#include <string>
#include <utility>
#include <vector>

#include "lib/tokenizer/byte_level.h"
#include "lib/tokenizer/utf8.h"
#include "lib/tokenizer/vocab.h"

namespace cace::testing {

// Byte-level BPE: ids 0..255 are the bytes in order, then `extra` tokens (byte-level text), then
// `merges` ("left right", in rank order).
inline VocabConfig ByteLevelVocab(const std::vector<std::string>& extra,
                                  const std::vector<std::pair<std::string, std::string>>& merges,
                                  PreTokenizerKind pre = PreTokenizerKind::kGpt2) {
  VocabConfig c;
  c.model = TokenizerModel::kByteLevelBpe;
  c.pre_tokenizer = pre;
  for (unsigned b = 0; b < 256; ++b) {
    std::string t;
    AppendUtf8(ByteToCodepoint(static_cast<std::uint8_t>(b)), &t);
    c.tokens.push_back(t);
  }
  for (const std::string& t : extra) c.tokens.push_back(t);
  c.kinds.assign(c.tokens.size(), TokenKind::kNormal);
  c.merges = merges;
  return c;
}

inline TokenId Byte(char c) { return static_cast<TokenId>(static_cast<unsigned char>(c)); }

}  // namespace cace::testing

#endif  // CACE_TESTS_TOKENIZER_TEST_VOCABS_H_
