// Unicode Normalization Form C, which Qwen2's tokenizer applies to text before splitting it
// (Hugging Face's NFC normalizer): decompose canonically, put combining marks in canonical
// order, compose again. Bytes that are not well-formed UTF-8 pass through unchanged and block
// composition across them.
#ifndef CACE_LIB_TOKENIZER_NFC_H_
#define CACE_LIB_TOKENIZER_NFC_H_

#include <string>
#include <string_view>

namespace cace {

std::string ToNfc(std::string_view text);

// Canonical combining class (0 for starters).
int CombiningClass(char32_t cp);

}  // namespace cace

#endif  // CACE_LIB_TOKENIZER_NFC_H_
