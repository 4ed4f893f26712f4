#include "lib/tokenizer/pre_tokenizer.h"

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <string>

#include "absl/status/status.h"
#include "fmt/format.h"
#include "lib/tokenizer/deepseek_llm_classes.h"
#include "lib/tokenizer/unicode.h"
#include "lib/tokenizer/utf8.h"

namespace cace {
namespace {

// The text decoded once; matchers work in code points, pieces are cut at byte offsets.
class Chars {
 public:
  explicit Chars(std::string_view text) {
    for (std::size_t pos = 0; pos < text.size();) {
      const Utf8Char c = DecodeUtf8(text, pos);
      cps_.push_back(c.cp);
      offsets_.push_back(pos);
      pos += c.size;
    }
    offsets_.push_back(text.size());
  }
  std::size_t size() const { return cps_.size(); }
  char32_t operator[](std::size_t i) const { return cps_[i]; }
  std::size_t offset(std::size_t i) const { return offsets_[i]; }

 private:
  std::u32string cps_;
  std::vector<std::size_t> offsets_;
};

// A half-open range of code point indices: a piece, or the text a matcher may look at. Matchers
// never look past `end`, as a regex applied to one piece cannot see its neighbours.
struct Span {
  std::size_t begin;
  std::size_t end;
};

bool IsSpace(char32_t c) { return IsWhitespace(c); }
bool IsNewline(char32_t c) { return c == '\r' || c == '\n'; }
// [^\s\p{L}\p{N}]
bool IsOtherThanSpaceLetterNumber(char32_t c) {
  return !IsWhitespace(c) && !IsLetter(c) && !IsNumber(c);
}

template <typename Pred>
std::size_t RunLength(const Chars& s, std::size_t i, std::size_t end, Pred pred) {
  std::size_t n = 0;
  while (i + n < end && pred(s[i + n])) ++n;
  return n;
}

char32_t AsciiLower(char32_t c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

// 's|'t|'re|'ve|'m|'ll|'d, optionally ignoring ASCII case.
std::size_t MatchContraction(const Chars& s, std::size_t i, std::size_t end, bool ignore_case) {
  if (s[i] != '\'') return 0;
  static constexpr std::u32string_view kSuffixes[] = {U"s", U"t", U"re", U"ve", U"m", U"ll", U"d"};
  for (std::u32string_view suffix : kSuffixes) {
    if (i + 1 + suffix.size() > end) continue;
    bool ok = true;
    for (std::size_t k = 0; k < suffix.size() && ok; ++k) {
      const char32_t c = s[i + 1 + k];
      ok = (ignore_case ? AsciiLower(c) : c) == suffix[k];
    }
    if (ok) return 1 + suffix.size();
  }
  return 0;
}

// \s+(?!\S)|\s+ : a run of whitespace that stops before the last one when a non-space follows,
// so that the last space can lead the next word.
std::size_t MatchWhitespace(const Chars& s, std::size_t i, std::size_t end) {
  const std::size_t run = RunLength(s, i, end, IsSpace);
  if (run == 0) return 0;
  if (i + run == end || run == 1) return run;
  return run - 1;
}

// GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
std::size_t MatchGpt2(const Chars& s, std::size_t i, std::size_t end) {
  if (std::size_t n = MatchContraction(s, i, end, /*ignore_case=*/false)) return n;
  const std::size_t lead = s[i] == ' ' ? 1 : 0;
  if (std::size_t n = RunLength(s, i + lead, end, IsLetter)) return lead + n;
  if (std::size_t n = RunLength(s, i + lead, end, IsNumber)) return lead + n;
  if (std::size_t n = RunLength(s, i + lead, end, IsOtherThanSpaceLetterNumber)) return lead + n;
  return MatchWhitespace(s, i, end);
}

// Llama 3 and Qwen2; they differ only in how many digits a number piece takes.
std::size_t MatchLlama3Style(const Chars& s, std::size_t i, std::size_t end,
                             std::size_t max_digits) {
  if (std::size_t n = MatchContraction(s, i, end, /*ignore_case=*/true)) return n;
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (std::size_t n = RunLength(s, i, end, IsLetter)) return n;
  if (!IsNewline(s[i]) && !IsNumber(s[i])) {
    if (std::size_t n = RunLength(s, i + 1, end, IsLetter)) return 1 + n;
  }
  // \p{N}{1,max}
  if (std::size_t n = RunLength(s, i, end, IsNumber)) return n < max_digits ? n : max_digits;
  //  ?[^\s\p{L}\p{N}]+[\r\n]*
  const std::size_t lead = s[i] == ' ' ? 1 : 0;
  if (std::size_t n = RunLength(s, i + lead, end, IsOtherThanSpaceLetterNumber)) {
    return lead + n + RunLength(s, i + lead + n, end, IsNewline);
  }
  // \s*[\r\n]+ : whitespace up to and including the run's last newline.
  const std::size_t run = RunLength(s, i, end, IsSpace);
  for (std::size_t k = run; k > 0; --k) {
    if (IsNewline(s[i + k - 1])) return k;
  }
  return MatchWhitespace(s, i, end);
}

// DeepSeek-Coder's stages.
std::size_t MatchNewline(const Chars& s, std::size_t i, std::size_t) { return IsNewline(s[i]); }

template <bool (*Pred)(char32_t)>
std::size_t MatchOptionalSpaceThenRun(const Chars& s, std::size_t i, std::size_t end) {
  // \s?X+ : the space is taken only when X follows it.
  if (std::size_t n = RunLength(s, i, end, Pred)) return n;
  if (!IsSpace(s[i])) return 0;
  const std::size_t n = RunLength(s, i + 1, end, Pred);
  return n > 0 ? 1 + n : 0;
}

bool IsDeepSeekCjk(char32_t c) {
  // [一-龥ࠀ-一가-퟿] as written in DeepSeek-Coder's tokenizer.json.
  return (c >= 0x4E00 && c <= 0x9FA5) || (c >= 0x0800 && c <= 0x4E00) ||
         (c >= 0xAC00 && c <= 0xD7FF);
}

std::size_t MatchCjkRun(const Chars& s, std::size_t i, std::size_t end) {
  return RunLength(s, i, end, IsDeepSeekCjk);
}

std::size_t MatchOneNumber(const Chars& s, std::size_t i, std::size_t) { return IsNumber(s[i]); }

// DeepSeek LLM's stages.
bool IsDeepSeekLlmLetter(char32_t c) {
  // The letter ranges are sorted: binary search, as most text asks about letters.
  const auto* it = std::upper_bound(std::begin(kDeepSeekLlmLetters), std::end(kDeepSeekLlmLetters),
                                    c, [](char32_t x, const CodepointRange& r) { return x < r.first; });
  return it != std::begin(kDeepSeekLlmLetters) && c <= (it - 1)->last;
}
bool IsDeepSeekLlmPunctuation(char32_t c) { return InRanges(kDeepSeekLlmPunctuation, c); }

std::size_t MatchNumberRun(const Chars& s, std::size_t i, std::size_t end) {
  return RunLength(s, i, end, IsNumber);
}

using Matcher = std::size_t (*)(const Chars&, std::size_t, std::size_t);
using Stage = std::vector<Span> (*)(const Chars&, const std::vector<Span>&);

// Hugging Face's Split with behavior "Isolated": each match is a piece, and so is each stretch of
// text between matches. Matches are found left to right and never overlap.
std::vector<Span> SplitIsolated(const Chars& s, const std::vector<Span>& in, Matcher match) {
  std::vector<Span> out;
  out.reserve(in.size());
  for (const Span& span : in) {
    std::size_t gap = span.begin;
    std::size_t i = span.begin;
    while (i < span.end) {
      const std::size_t n = match(s, i, span.end);
      if (n == 0) {
        ++i;
        continue;
      }
      if (gap < i) out.push_back({gap, i});
      out.push_back({i, i + n});
      i += n;
      gap = i;
    }
    if (gap < span.end) out.push_back({gap, span.end});
  }
  return out;
}

template <Matcher M>
std::vector<Span> Isolate(const Chars& s, const std::vector<Span>& in) {
  return SplitIsolated(s, in, M);
}

// Split \s+$ (Isolated) on pieces that hold no newline: the whitespace that ends a piece becomes
// a piece of its own. Done directly, since trying the regex at every position of a long run of
// spaces would be quadratic.
std::vector<Span> SplitTrailingWhitespace(const Chars& s, const std::vector<Span>& in) {
  std::vector<Span> out;
  out.reserve(in.size());
  for (const Span& span : in) {
    std::size_t k = span.end;
    while (k > span.begin && IsSpace(s[k - 1])) --k;
    if (k > span.begin && k < span.end) {
      out.push_back({span.begin, k});
      out.push_back({k, span.end});
    } else {
      out.push_back(span);
    }
  }
  return out;
}

std::size_t MatchQwen2(const Chars& s, std::size_t i, std::size_t end) {
  return MatchLlama3Style(s, i, end, 1);
}
std::size_t MatchLlama3(const Chars& s, std::size_t i, std::size_t end) {
  return MatchLlama3Style(s, i, end, 3);
}

std::vector<Stage> Stages(PreTokenizerKind kind) {
  switch (kind) {
    case PreTokenizerKind::kGpt2:
      return {Isolate<MatchGpt2>};
    case PreTokenizerKind::kLlama3:
      return {Isolate<MatchLlama3>};
    case PreTokenizerKind::kQwen2:
      return {Isolate<MatchQwen2>};
    case PreTokenizerKind::kDeepSeekCoder:
      return {Isolate<MatchNewline>, Isolate<MatchOptionalSpaceThenRun<IsLetter>>,
              Isolate<MatchOptionalSpaceThenRun<IsPunctuation>>, Isolate<MatchCjkRun>,
              Isolate<MatchOneNumber>};
    case PreTokenizerKind::kDeepSeekLlm:
      return {Isolate<MatchNewline>, Isolate<MatchOptionalSpaceThenRun<IsDeepSeekLlmLetter>>,
              Isolate<MatchOptionalSpaceThenRun<IsDeepSeekLlmPunctuation>>,
              SplitTrailingWhitespace, Isolate<MatchCjkRun>, Isolate<MatchNumberRun>};
    case PreTokenizerKind::kStarCoder:
      return {Isolate<MatchOneNumber>, Isolate<MatchGpt2>};
  }
  return {};
}

struct NamedKind {
  std::string_view name;
  PreTokenizerKind kind;
};

// The first name of each kind is the one PreTokenizerName gives.
constexpr NamedKind kNames[] = {
    {"gpt-2", PreTokenizerKind::kGpt2},
    {"gpt2", PreTokenizerKind::kGpt2},
    // llama.cpp's converter writes "default" for a byte-level BPE whose pre-tokenizer it does not
    // recognise; Hugging Face's ByteLevel default is the GPT-2 regex.
    {"default", PreTokenizerKind::kGpt2},
    {"llama3", PreTokenizerKind::kLlama3},
    {"llama-bpe", PreTokenizerKind::kLlama3},
    {"llama-v3", PreTokenizerKind::kLlama3},
    {"qwen2", PreTokenizerKind::kQwen2},
    {"deepseek-coder", PreTokenizerKind::kDeepSeekCoder},
    {"deepseek-llm", PreTokenizerKind::kDeepSeekLlm},
    {"starcoder", PreTokenizerKind::kStarCoder},
    {"refact", PreTokenizerKind::kStarCoder},
    // SmolLM and SmolLM2: their tokenizer.json's pre-tokenizer is Digits(individual_digits) then
    // ByteLevel(use_regex), StarCoder's; llama.cpp's converter names it "smollm".
    {"smollm", PreTokenizerKind::kStarCoder},
};

}  // namespace

absl::StatusOr<PreTokenizerKind> PreTokenizerFromName(std::string_view name) {
  for (const NamedKind& n : kNames) {
    if (n.name == name) return n.kind;
  }
  std::string known;
  for (const NamedKind& n : kNames) known += fmt::format("{}{}", known.empty() ? "" : ", ", n.name);
  return absl::InvalidArgumentError(fmt::format(
      "tokenizer.ggml.pre: unsupported pre-tokenizer '{}' (supported: {})", name, known));
}

std::string_view PreTokenizerName(PreTokenizerKind kind) {
  for (const NamedKind& n : kNames) {
    if (n.kind == kind) return n.name;
  }
  return "unknown";
}

void PreTokenize(PreTokenizerKind kind, std::string_view text,
                 std::vector<std::string_view>* pieces) {
  const Chars chars(text);
  if (chars.size() == 0) return;
  std::vector<Span> spans = {{0, chars.size()}};
  for (Stage stage : Stages(kind)) spans = stage(chars, spans);
  for (const Span& span : spans) {
    const std::size_t from = chars.offset(span.begin);
    pieces->push_back(text.substr(from, chars.offset(span.end) - from));
  }
}

}  // namespace cace
