// Fuzzes encoding and decoding with the four real vocabularies of data/tokenizers. The first
// byte picks the vocabulary and the options; the rest is the text. Checks, beyond not crashing:
// every id is in the vocabulary; with added tokens not parsed, decoding gives the text back
// (ill-formed UTF-8 as U+FFFD); streaming decode joins to the whole decode; every pre-tokenizer
// covers the text; NFC is idempotent.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lib/tokenizer/nfc.h"
#include "lib/tokenizer/pre_tokenizer.h"
#include "lib/tokenizer/stream_decoder.h"
#include "lib/tokenizer/tokenizer.h"
#include "lib/tokenizer/tokenizer_file.h"
#include "lib/tokenizer/utf8.h"

namespace cace {
namespace {

constexpr const char* kVocabs[] = {"deepseek-coder", "starcoder", "gpt-2", "llama-spm"};

std::unique_ptr<Tokenizer> Load(const char* name) {
  const std::string path = std::string(CACE_DATA_DIR) + "/tokenizers/ggml-vocab-" + name + ".gguf";
  auto tokenizer = LoadTokenizer(path);
  if (!tokenizer.ok()) std::abort();
  return *std::move(tokenizer);
}

const std::vector<std::unique_ptr<Tokenizer>>& Tokenizers() {
  static const auto* all = [] {
    auto* v = new std::vector<std::unique_ptr<Tokenizer>>();
    for (const char* name : kVocabs) v->push_back(Load(name));
    return v;
  }();
  return *all;
}

void Check(bool ok) {
  if (!ok) std::abort();
}

void FuzzOne(std::uint8_t selector, std::string_view text) {
  const Tokenizer& t = *Tokenizers()[selector % 4];
  const bool parse_special = (selector & 4) != 0;
  const std::vector<TokenId> ids =
      t.Encode(text, {.add_special = (selector & 8) != 0, .parse_special = parse_special});
  for (TokenId id : ids) Check(id >= 0 && static_cast<std::size_t>(id) < t.vocab_size());
  const auto decoded = t.Decode(ids);
  Check(decoded.ok());
  Check(ToValidUtf8(*decoded) == *decoded);
  // Not lossless: StarCoder's vocabulary lacks a few bytes; DeepSeek-Coder stands for the bytes
  // that never occur in UTF-8 by added tokens that decode as the characters they are written
  // with; SentencePiece reads ▁ in the text as a space.
  bool lossless = true;
  switch (selector % 4) {
    case 0: lossless = ToValidUtf8(text) == text; break;
    case 1: lossless = false; break;
    case 3: lossless = text.find("\xE2\x96\x81") == std::string_view::npos; break;
    default: break;
  }
  if (!parse_special && lossless) Check(*decoded == ToValidUtf8(text));
  StreamDecoder stream(t);
  std::string joined;
  for (TokenId id : ids) {
    auto piece = stream.Push(id);
    Check(piece.ok());
    joined += *piece;
  }
  joined += stream.Finish();
  Check(joined == *decoded);
  // Every pre-tokenizer cuts the text into non-empty pieces that cover it exactly.
  for (PreTokenizerKind kind :
       {PreTokenizerKind::kGpt2, PreTokenizerKind::kLlama3, PreTokenizerKind::kQwen2,
        PreTokenizerKind::kDeepSeekCoder, PreTokenizerKind::kDeepSeekLlm,
        PreTokenizerKind::kStarCoder}) {
    std::vector<std::string_view> pieces;
    PreTokenize(kind, text, &pieces);
    std::size_t covered = 0;
    for (std::string_view piece : pieces) {
      Check(!piece.empty() && piece.data() == text.data() + covered);
      covered += piece.size();
    }
    Check(covered == text.size());
  }
  // NFC (Qwen2's normalizer) is idempotent and keeps well-formed text well-formed.
  const std::string nfc = ToNfc(text);
  Check(ToNfc(nfc) == nfc);
  if (ToValidUtf8(text) == text) Check(ToValidUtf8(nfc) == nfc);
}

}  // namespace
}  // namespace cace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  cace::FuzzOne(data[0],
                std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  return 0;
}
