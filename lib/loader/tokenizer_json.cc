// TokenizerData from a Hugging Face tokenizer.json (and tokenizer_config.json beside it).
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_map.h"
#include "fmt/format.h"
#include "lib/json/json.h"
#include "lib/loader/tokenizer_data.h"
#include "lib/loader/tokenizer_data_checks.h"

namespace cace {
namespace {

constexpr std::int64_t kMaxTokens = std::int64_t{1} << 24;

absl::Status Invalid(std::string_view file, std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(fmt::format("{}: field '{}': {}", file, field, what));
}

absl::Status PlaceToken(TokenizerData& data, std::vector<bool>& filled, std::int64_t id, const std::string& text,
                        TokenType type, std::string_view file, std::string_view field) {
  if (id < 0 || id >= kMaxTokens) return Invalid(file, field, fmt::format("token id {} is out of range", id));
  const auto index = static_cast<std::size_t>(id);
  if (index >= data.tokens.size()) {
    data.tokens.resize(index + 1);
    data.token_types.resize(index + 1, TokenType::kUnused);
    filled.resize(index + 1, false);
  }
  if (filled[index] && data.tokens[index] != text) {
    return Invalid(file, field, fmt::format("token id {} is given to both \"{}\" and \"{}\"", id, data.tokens[index], text));
  }
  data.tokens[index] = text;
  data.token_types[index] = type;
  filled[index] = true;
  return absl::OkStatus();
}

absl::Status ReadMerges(const JsonValue& merges, TokenizerData& data, std::string_view file) {
  if (!merges.is_array()) return Invalid(file, "model.merges", "is not an array");
  std::vector<std::string> joined;
  for (std::size_t i = 0; i < merges.items().size(); ++i) {
    const JsonValue& m = merges.items()[i];
    if (m.is_string()) {
      joined.push_back(m.text());
    } else if (m.is_array() && m.items().size() == 2 && m.items()[0].is_string() && m.items()[1].is_string()) {
      data.merges.emplace_back(m.items()[0].text(), m.items()[1].text());
    } else {
      return Invalid(file, fmt::format("model.merges[{}]", i), "is neither \"a b\" nor [\"a\", \"b\"]");
    }
  }
  if (!joined.empty() && !data.merges.empty()) return Invalid(file, "model.merges", "mixes the string and pair forms");
  if (!joined.empty()) {
    absl::StatusOr<std::vector<std::pair<std::string, std::string>>> split = SplitMerges(joined, file, "model.merges");
    if (!split.ok()) return split.status();
    data.merges = std::move(*split);
  }
  return absl::OkStatus();
}

std::optional<std::int32_t> IdOf(const absl::flat_hash_map<std::string, std::int32_t>& ids,
                                 std::initializer_list<std::string_view> spellings) {
  for (std::string_view s : spellings) {
    if (auto it = ids.find(std::string(s)); it != ids.end()) return it->second;
  }
  return std::nullopt;
}

// bos_token / eos_token in tokenizer_config.json are a string or {"content": string}.
std::optional<std::string> TokenText(const JsonValue* v) {
  if (v == nullptr) return std::nullopt;
  if (v->is_string()) return v->text();
  if (v->is_object()) {
    if (const JsonValue* c = v->Find("content"); c != nullptr && c->is_string()) return c->text();
  }
  return std::nullopt;
}

absl::StatusOr<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(fmt::format("{}: cannot open", path));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

absl::StatusOr<TokenizerData> ParseTokenizerJson(std::string_view json_text, std::string_view name) {
  absl::StatusOr<JsonValue> root = ParseJson(json_text, name);
  if (!root.ok()) return root.status();
  if (!root->is_object()) return absl::InvalidArgumentError(fmt::format("{}: not a JSON object", name));
  const JsonValue* model = root->Find("model");
  if (model == nullptr || !model->is_object()) return Invalid(name, "model", "is missing or not an object");
  const JsonValue* type = model->Find("type");
  if (type != nullptr && (!type->is_string() || type->text() != "BPE")) {
    return Invalid(name, "model.type", "only BPE tokenizers are supported");
  }
  TokenizerData data;
  const JsonValue* byte_fallback = model->Find("byte_fallback");
  data.model = byte_fallback != nullptr && byte_fallback->AsBool().value_or(false) ? "llama" : "gpt2";
  if (const JsonValue* pre = root->Find("pre_tokenizer"); pre != nullptr && !pre->is_null()) {
    data.pre_tokenizer_json.assign(json_text.substr(pre->source_begin(), pre->source_end() - pre->source_begin()));
  }

  const JsonValue* vocab = model->Find("vocab");
  if (vocab == nullptr || !vocab->is_object()) return Invalid(name, "model.vocab", "is missing or not an object");
  std::vector<bool> filled;
  absl::flat_hash_map<std::string, std::int32_t> ids;
  for (const auto& [text, id] : vocab->members()) {
    std::optional<std::int64_t> i = id.AsInt64();
    if (!i) return Invalid(name, fmt::format("model.vocab.\"{}\"", text), "is not an integer id");
    if (absl::Status s = PlaceToken(data, filled, *i, text, TokenType::kNormal, name, "model.vocab"); !s.ok()) return s;
    ids[text] = static_cast<std::int32_t>(*i);
  }
  if (const JsonValue* merges = model->Find("merges"); merges != nullptr) {
    if (absl::Status s = ReadMerges(*merges, data, name); !s.ok()) return s;
  }

  if (const JsonValue* added = root->Find("added_tokens"); added != nullptr && !added->is_null()) {
    if (!added->is_array()) return Invalid(name, "added_tokens", "is not an array");
    for (std::size_t k = 0; k < added->items().size(); ++k) {
      const JsonValue& t = added->items()[k];
      const std::string field = fmt::format("added_tokens[{}]", k);
      const JsonValue* id = t.Find("id");
      const JsonValue* content = t.Find("content");
      if (id == nullptr || !id->AsInt64() || content == nullptr || !content->is_string()) {
        return Invalid(name, field, "needs an integer 'id' and a string 'content'");
      }
      AddedToken token{static_cast<std::int32_t>(0), content->text(), false};
      if (const JsonValue* special = t.Find("special")) token.special = special->AsBool().value_or(false);
      const std::int64_t i = *id->AsInt64();
      const TokenType kind = token.special ? TokenType::kControl : TokenType::kUserDefined;
      if (absl::Status s = PlaceToken(data, filled, i, token.content, kind, name, field); !s.ok()) return s;
      token.id = static_cast<std::int32_t>(i);
      ids[token.content] = token.id;
      data.added_tokens.push_back(std::move(token));
    }
  }
  if (const JsonValue* unk = model->Find("unk_token"); unk != nullptr && unk->is_string()) {
    data.unknown_id = IdOf(ids, {unk->text()});
  }
  data.fim_prefix_id = IdOf(ids, {"<|fim_prefix|>", "<fim_prefix>", "<｜fim▁begin｜>", "▁<PRE>", "<PRE>"});
  data.fim_suffix_id = IdOf(ids, {"<|fim_suffix|>", "<fim_suffix>", "<｜fim▁hole｜>", "▁<SUF>", "<SUF>"});
  data.fim_middle_id = IdOf(ids, {"<|fim_middle|>", "<fim_middle>", "<｜fim▁end｜>", "▁<MID>", "<MID>"});
  data.fim_pad_id = IdOf(ids, {"<|fim_pad|>", "<fim_pad>"});
  if (absl::Status s = CheckTokenizerData(data, name); !s.ok()) return s;
  return data;
}

absl::StatusOr<TokenizerData> ReadTokenizerJsonFile(const std::string& path) {
  absl::StatusOr<std::string> file_text = ReadText(path);
  if (!file_text.ok()) return file_text.status();
  absl::StatusOr<TokenizerData> data = ParseTokenizerJson(*file_text, path);
  if (!data.ok()) return data;

  // tokenizer.json does not name BOS/EOS; tokenizer_config.json beside it does.
  const std::string config_path = (std::filesystem::path(path).parent_path() / "tokenizer_config.json").string();
  if (!std::filesystem::exists(config_path)) return data;
  absl::StatusOr<std::string> config_text = ReadText(config_path);
  if (!config_text.ok()) return config_text.status();
  absl::StatusOr<JsonValue> config = ParseJson(*config_text, config_path);
  if (!config.ok()) return config.status();
  auto find_id = [&](const std::string& text) -> std::optional<std::int32_t> {
    for (std::size_t i = 0; i < data->tokens.size(); ++i) {
      if (data->tokens[i] == text) return static_cast<std::int32_t>(i);
    }
    return std::nullopt;
  };
  for (auto [key, out] : {std::pair{"bos_token", &data->bos_id}, std::pair{"eos_token", &data->eos_id},
                          std::pair{"pad_token", &data->padding_id}}) {
    if (std::optional<std::string> text = TokenText(config->Find(key))) {
      *out = find_id(*text);
      if (!*out) return Invalid(config_path, key, fmt::format("\"{}\" is not a token of {}", *text, path));
    }
  }
  for (auto [key, out] : {std::pair{"add_bos_token", &data->add_bos}, std::pair{"add_eos_token", &data->add_eos}}) {
    if (const JsonValue* v = config->Find(key); v != nullptr && v->is_bool()) *out = v->AsBool();
  }
  return data;
}

}  // namespace cace
