// Added tokens (control and user-defined) are found in the text as written and split out before
// pre-tokenization, so "<fim_prefix>" in a prompt is one token and never reaches BPE. At each
// position the longest added token wins, then the scan goes on after it (Hugging Face's
// leftmost-longest matching).
#ifndef CACE_LIB_TOKENIZER_SPECIAL_TOKENS_H_
#define CACE_LIB_TOKENIZER_SPECIAL_TOKENS_H_

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "lib/tokenizer/vocab.h"

namespace cace {

class SpecialTokenMatcher {
 public:
  struct Entry {
    std::string text;
    TokenId id;
  };

  // Takes every non-empty token of kind kControl, kUserDefined or kUnknown.
  explicit SpecialTokenMatcher(const VocabConfig& config);

  // One stretch of the text: either plain text (id < 0) or one added token.
  struct Fragment {
    std::string_view text;
    TokenId id;
  };
  // Splits `text` into plain-text stretches and added tokens, in order.
  std::vector<Fragment> Split(std::string_view text) const;

  bool empty() const { return entries_.empty(); }

 private:
  std::vector<Entry> entries_;
  // For each first byte, indices into entries_, longest text first.
  std::array<std::vector<int>, 256> by_first_byte_;
};

}  // namespace cace

#endif  // CACE_LIB_TOKENIZER_SPECIAL_TOKENS_H_
