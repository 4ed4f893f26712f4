// TokenizerData from the tokenizer.ggml.* metadata of a GGUF file.
#include "fmt/format.h"
#include "lib/loader/gguf.h"
#include "lib/loader/tokenizer_data.h"
#include "lib/loader/tokenizer_data_checks.h"

namespace cace {
namespace {

// A key that may be absent; any other error (wrong type) is reported.
template <typename T>
absl::Status Optional(absl::StatusOr<T> value, std::optional<T>& out) {
  if (value.ok()) {
    out = std::move(*value);
    return absl::OkStatus();
  }
  return absl::IsNotFound(value.status()) ? absl::OkStatus() : value.status();
}

absl::Status OptionalId(const GgufFile& file, std::string_view key, std::optional<std::int32_t>& out) {
  std::optional<std::int64_t> id;
  if (absl::Status s = Optional(file.GetInt(key), id); !s.ok()) return s;
  // llama.cpp writes -1 (or its u32 spelling) for "no such token".
  if (!id || *id == -1 || *id == 0xFFFFFFFF) return absl::OkStatus();
  if (*id < 0 || *id > INT32_MAX) {
    return absl::InvalidArgumentError(fmt::format("{}: field '{}': token id {} is out of range", file.name(), key, *id));
  }
  out = static_cast<std::int32_t>(*id);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TokenizerData> TokenizerDataFromGguf(const GgufFile& file) {
  TokenizerData data;
  absl::StatusOr<std::string> model = file.GetString("tokenizer.ggml.model");
  if (!model.ok()) return model.status();
  data.model = *model;
  std::optional<std::string> pre;
  if (absl::Status s = Optional(file.GetString("tokenizer.ggml.pre"), pre); !s.ok()) return s;
  data.pre = pre.value_or("");

  absl::StatusOr<std::vector<std::string>> tokens = file.GetStringArray("tokenizer.ggml.tokens");
  if (!tokens.ok()) return tokens.status();
  data.tokens = std::move(*tokens);

  std::optional<std::vector<double>> scores;
  if (absl::Status s = Optional(file.GetFloatArray("tokenizer.ggml.scores"), scores); !s.ok()) return s;
  if (scores) data.scores.assign(scores->begin(), scores->end());

  std::optional<std::vector<std::int64_t>> types;
  if (absl::Status s = Optional(file.GetIntArray("tokenizer.ggml.token_type"), types); !s.ok()) return s;
  if (types) {
    data.token_types.reserve(types->size());
    for (std::size_t i = 0; i < types->size(); ++i) {
      const std::int64_t t = (*types)[i];
      if (t < 0 || t > static_cast<std::int64_t>(TokenType::kByte)) {
        return absl::InvalidArgumentError(
            fmt::format("{}: field 'tokenizer.ggml.token_type'[{}]: unknown token type {}", file.name(), i, t));
      }
      data.token_types.push_back(static_cast<TokenType>(t));
    }
  }

  std::optional<std::vector<std::string>> merges;
  if (absl::Status s = Optional(file.GetStringArray("tokenizer.ggml.merges"), merges); !s.ok()) return s;
  if (merges) {
    absl::StatusOr<std::vector<std::pair<std::string, std::string>>> split =
        SplitMerges(*merges, file.name(), "tokenizer.ggml.merges");
    if (!split.ok()) return split.status();
    data.merges = std::move(*split);
  }

  const std::pair<std::string_view, std::optional<std::int32_t>*> ids[] = {
      {"tokenizer.ggml.bos_token_id", &data.bos_id},
      {"tokenizer.ggml.eos_token_id", &data.eos_id},
      {"tokenizer.ggml.eot_token_id", &data.eot_id},
      {"tokenizer.ggml.unknown_token_id", &data.unknown_id},
      {"tokenizer.ggml.padding_token_id", &data.padding_id},
      {"tokenizer.ggml.fim_pre_token_id", &data.fim_prefix_id},
      {"tokenizer.ggml.fim_suf_token_id", &data.fim_suffix_id},
      {"tokenizer.ggml.fim_mid_token_id", &data.fim_middle_id},
      {"tokenizer.ggml.fim_pad_token_id", &data.fim_pad_id},
      // Files converted before the fim_* keys existed.
      {"tokenizer.ggml.prefix_token_id", &data.fim_prefix_id},
      {"tokenizer.ggml.suffix_token_id", &data.fim_suffix_id},
      {"tokenizer.ggml.middle_token_id", &data.fim_middle_id},
  };
  for (const auto& [key, out] : ids) {
    if (out->has_value()) continue;
    if (absl::Status s = OptionalId(file, key, *out); !s.ok()) return s;
  }
  // A GGUF's unknown_token_id of a byte-level BPE is its tokenizer_config's unk token, not one the
  // BPE emits: llama.cpp drops a piece whose bytes have no token, as Hugging Face's BPE without
  // unk_token does (SmolLM2's vocabulary has no token for byte 0x1D).
  if (data.model == "gpt2") data.unknown_id.reset();
  if (absl::Status s = Optional(file.GetBool("tokenizer.ggml.add_bos_token"), data.add_bos); !s.ok()) return s;
  if (absl::Status s = Optional(file.GetBool("tokenizer.ggml.add_eos_token"), data.add_eos); !s.ok()) return s;

  if (absl::Status s = CheckTokenizerData(data, file.name()); !s.ok()) return s;
  return data;
}

}  // namespace cace
