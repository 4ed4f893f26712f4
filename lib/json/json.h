// A small JSON parser for the files cace reads (config.json, tokenizer.json, safetensors
// headers). Depth- and size-limited, with errors that give the byte offset. Numbers keep their
// text so 64-bit integers (safetensors offsets) are read exactly.
#ifndef CACE_LIB_JSON_JSON_H_
#define CACE_LIB_JSON_JSON_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace cace {

class JsonValue {
 public:
  enum class Kind : std::uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_number() const { return kind_ == Kind::kNumber; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_object() const { return kind_ == Kind::kObject; }

  // Typed reads; nullopt when the kind differs or the number does not fit the type exactly
  // (AsInt64 / AsUint64 reject fractions and exponents that leave a fraction).
  std::optional<bool> AsBool() const;
  std::optional<double> AsDouble() const;
  std::optional<std::int64_t> AsInt64() const;
  std::optional<std::uint64_t> AsUint64() const;
  // The decoded string (kString) or the number's text (kNumber).
  const std::string& text() const { return text_; }

  const std::vector<JsonValue>& items() const { return items_; }  // kArray
  const std::vector<std::pair<std::string, JsonValue>>& members() const { return members_; }  // kObject
  // Member of an object by key; null when absent or not an object.
  const JsonValue* Find(std::string_view key) const;

  // Byte range of this value in the parsed text, e.g. to keep a sub-object's raw JSON.
  std::size_t source_begin() const { return source_begin_; }
  std::size_t source_end() const { return source_end_; }

 private:
  friend class JsonParser;
  Kind kind_ = Kind::kNull;
  bool bool_ = false;
  std::string text_;
  std::vector<JsonValue> items_;
  std::vector<std::pair<std::string, JsonValue>> members_;
  std::size_t source_begin_ = 0;
  std::size_t source_end_ = 0;
};

struct JsonLimits {
  int max_depth = 64;
  std::size_t max_bytes = std::size_t{1} << 30;
};

// Parses one JSON document (RFC 8259; surrounding whitespace allowed, nothing else after it).
// Duplicate object keys are an error. `name` (a file name) starts every error message:
// "<name>: JSON error at byte <offset>: <what>".
absl::StatusOr<JsonValue> ParseJson(std::string_view text, std::string_view name,
                                    const JsonLimits& limits = {});

std::string_view JsonKindName(JsonValue::Kind kind);

}  // namespace cace

#endif  // CACE_LIB_JSON_JSON_H_
