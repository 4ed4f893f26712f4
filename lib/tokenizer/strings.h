// String helpers. Debian's Abseil is built with its own absl::string_view (not std::string_view),
// so std::string_view keys are converted explicitly before hash map lookups.
#ifndef CACE_LIB_TOKENIZER_STRINGS_H_
#define CACE_LIB_TOKENIZER_STRINGS_H_

#include <string>
#include <string_view>

#include "absl/strings/string_view.h"

namespace cace {

inline absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// `text` with every `from` (non-empty) replaced by `to`.
inline std::string ReplaceAll(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t pos = 0;;) {
    const std::size_t hit = text.find(from, pos);
    if (hit == std::string_view::npos) {
      out.append(text.substr(pos));
      return out;
    }
    out.append(text.substr(pos, hit - pos));
    out.append(to);
    pos = hit + from.size();
  }
}

}  // namespace cace

#endif  // CACE_LIB_TOKENIZER_STRINGS_H_
