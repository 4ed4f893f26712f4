// cace_tokenize: encodes text with a model's tokenizer (a GGUF file or a tokenizer.json) and prints
// the ids as JSON, or decodes ids back to text.
//
//   cace_tokenize --vocab FILE [--add-special] [--no-parse-special] < text
//       prints [id, ...] for the whole of standard input
//   cace_tokenize --vocab FILE --batch [...] < ["text", ...]
//       prints [{"ids": [...], "decoded": "..."}, ...], one entry per input string
//   cace_tokenize --vocab FILE --decode [--keep-special] < [id, ...]
//       prints the text of the ids
//   cace_tokenize --vocab FILE --fim [--add-special] < {"prefix": "...", "suffix": "..."}
//       prints the ids of a fill-in-the-middle prompt (BOS with --add-special)
//   cace_tokenize --vocab FILE --info
//       prints the model, pre-tokenizer, vocabulary size and special ids
#include <cstdio>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "fmt/format.h"
#include "lib/json/json.h"
#include "lib/tokenizer/fim_prompt.h"
#include "lib/tokenizer/tokenizer.h"
#include "lib/tokenizer/tokenizer_file.h"

namespace cace {
namespace {

struct Flags {
  std::string vocab;
  bool batch = false;
  bool decode = false;
  bool info = false;
  bool fim = false;
  EncodeOptions encode;
  DecodeOptions decode_options;
};

std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += fmt::format("\\u{:04x}", u);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string JsonIds(const std::vector<TokenId>& ids) { return fmt::format("[{}]", fmt::join(ids, ",")); }

std::string ReadStdin() {
  return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
}

int Fail(std::string_view message) {
  std::fprintf(stderr, "cace_tokenize: %.*s\n", static_cast<int>(message.size()), message.data());
  return 1;
}

int RunBatch(const Tokenizer& tokenizer, const Flags& flags) {
  absl::StatusOr<JsonValue> input = ParseJson(ReadStdin(), "standard input");
  if (!input.ok()) return Fail(input.status().ToString());
  if (!input->is_array()) return Fail("standard input: expected a JSON array of strings");
  std::string out = "[";
  for (std::size_t i = 0; i < input->items().size(); ++i) {
    const JsonValue& item = input->items()[i];
    if (!item.is_string()) return Fail(fmt::format("standard input[{}]: not a string", i));
    const std::vector<TokenId> ids = tokenizer.Encode(item.text(), flags.encode);
    absl::StatusOr<std::string> decoded = tokenizer.Decode(ids, flags.decode_options);
    if (!decoded.ok()) return Fail(decoded.status().ToString());
    out += fmt::format("{}{{\"ids\":{},\"decoded\":{}}}", i ? ",\n" : "", JsonIds(ids),
                       JsonString(*decoded));
  }
  std::cout << out << "]\n";
  return 0;
}

int RunDecode(const Tokenizer& tokenizer, const Flags& flags) {
  absl::StatusOr<JsonValue> input = ParseJson(ReadStdin(), "standard input");
  if (!input.ok()) return Fail(input.status().ToString());
  if (!input->is_array()) return Fail("standard input: expected a JSON array of ids");
  std::vector<TokenId> ids;
  for (std::size_t i = 0; i < input->items().size(); ++i) {
    const std::optional<std::int64_t> id = input->items()[i].AsInt64();
    if (!id || *id < INT32_MIN || *id > INT32_MAX) {
      return Fail(fmt::format("standard input[{}]: not a token id", i));
    }
    ids.push_back(static_cast<TokenId>(*id));
  }
  absl::StatusOr<std::string> text = tokenizer.Decode(ids, flags.decode_options);
  if (!text.ok()) return Fail(text.status().ToString());
  std::cout << *text;
  return 0;
}

int RunFim(const Tokenizer& tokenizer, const Flags& flags) {
  absl::StatusOr<JsonValue> input = ParseJson(ReadStdin(), "standard input");
  if (!input.ok()) return Fail(input.status().ToString());
  const JsonValue* prefix = input->Find("prefix");
  const JsonValue* suffix = input->Find("suffix");
  if (prefix == nullptr || !prefix->is_string() || suffix == nullptr || !suffix->is_string()) {
    return Fail("standard input: expected {\"prefix\": string, \"suffix\": string}");
  }
  absl::StatusOr<std::vector<TokenId>> ids =
      EncodeFimPrompt(tokenizer, prefix->text(), suffix->text(), flags.encode.add_special);
  if (!ids.ok()) return Fail(ids.status().ToString());
  std::cout << JsonIds(*ids) << "\n";
  return 0;
}

int RunInfo(const Tokenizer& tokenizer) {
  auto id = [](std::optional<TokenId> v) { return v ? std::to_string(*v) : std::string("null"); };
  const FimTokens& fim = tokenizer.fim();
  std::cout << fmt::format(
      "{{\"model\":\"{}\",\"pre_tokenizer\":\"{}\",\"vocab_size\":{},\"bos\":{},\"eos\":{},"
      "\"fim_prefix\":{},\"fim_suffix\":{},\"fim_middle\":{},\"fim_pad\":{}}}\n",
      tokenizer.model() == TokenizerModel::kByteLevelBpe ? "byte-level-bpe" : "sentencepiece",
      PreTokenizerName(tokenizer.pre_tokenizer()), tokenizer.vocab_size(), id(tokenizer.bos()),
      id(tokenizer.eos()), id(fim.prefix), id(fim.suffix), id(fim.middle), id(fim.pad));
  return 0;
}

int Main(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--vocab" && i + 1 < argc) {
      flags.vocab = argv[++i];
    } else if (arg == "--batch") {
      flags.batch = true;
    } else if (arg == "--decode") {
      flags.decode = true;
    } else if (arg == "--fim") {
      flags.fim = true;
    } else if (arg == "--info") {
      flags.info = true;
    } else if (arg == "--add-special") {
      flags.encode.add_special = true;
    } else if (arg == "--no-parse-special") {
      flags.encode.parse_special = false;
    } else if (arg == "--keep-special") {
      flags.decode_options.skip_special = false;
    } else {
      return Fail(fmt::format("unknown argument '{}' (see the top of cace_tokenize.cc)", arg));
    }
  }
  if (flags.vocab.empty()) return Fail("--vocab FILE (.gguf or tokenizer.json) is required");
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = LoadTokenizer(flags.vocab);
  if (!tokenizer.ok()) return Fail(tokenizer.status().ToString());
  if (flags.info) return RunInfo(**tokenizer);
  if (flags.batch) return RunBatch(**tokenizer, flags);
  if (flags.decode) return RunDecode(**tokenizer, flags);
  if (flags.fim) return RunFim(**tokenizer, flags);
  std::cout << JsonIds((*tokenizer)->Encode(ReadStdin(), flags.encode)) << "\n";
  return 0;
}

}  // namespace
}  // namespace cace

int main(int argc, char** argv) { return cace::Main(argc, argv); }
