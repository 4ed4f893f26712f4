#include "lib/json/json.h"

#include <charconv>
#include <cmath>

#include "absl/container/flat_hash_set.h"
#include "fmt/format.h"

namespace cace {

std::string_view JsonKindName(JsonValue::Kind kind) {
  switch (kind) {
    case JsonValue::Kind::kNull: return "null";
    case JsonValue::Kind::kBool: return "bool";
    case JsonValue::Kind::kNumber: return "number";
    case JsonValue::Kind::kString: return "string";
    case JsonValue::Kind::kArray: return "array";
    case JsonValue::Kind::kObject: return "object";
  }
  return "?";
}

std::optional<bool> JsonValue::AsBool() const {
  if (kind_ != Kind::kBool) return std::nullopt;
  return bool_;
}

std::optional<double> JsonValue::AsDouble() const {
  if (kind_ != Kind::kNumber) return std::nullopt;
  double value = 0;
  const char* end = text_.data() + text_.size();
  auto [ptr, ec] = std::from_chars(text_.data(), end, value);
  // Out-of-range literals (1e999) are not numbers cace can use.
  if (ec != std::errc() || ptr != end || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<std::int64_t> JsonValue::AsInt64() const {
  if (kind_ != Kind::kNumber) return std::nullopt;
  std::int64_t value = 0;
  const char* end = text_.data() + text_.size();
  auto [ptr, ec] = std::from_chars(text_.data(), end, value);
  if (ec == std::errc() && ptr == end) return value;
  // Integral values written with a fraction or exponent (e.g. 1e6, 2.0).
  std::optional<double> d = AsDouble();
  if (!d || std::trunc(*d) != *d || std::fabs(*d) > 9.007199254740992e15) return std::nullopt;
  return static_cast<std::int64_t>(*d);
}

std::optional<std::uint64_t> JsonValue::AsUint64() const {
  if (kind_ != Kind::kNumber) return std::nullopt;
  std::uint64_t value = 0;
  const char* end = text_.data() + text_.size();
  auto [ptr, ec] = std::from_chars(text_.data(), end, value);
  if (ec == std::errc() && ptr == end) return value;
  std::optional<std::int64_t> i = AsInt64();
  if (!i || *i < 0) return std::nullopt;
  return static_cast<std::uint64_t>(*i);
}

const JsonValue* JsonValue::Find(std::string_view key) const {
  for (const auto& [k, v] : members_) {
    if (k == key) return &v;
  }
  return nullptr;
}

class JsonParser {
 public:
  JsonParser(std::string_view text, std::string_view name, const JsonLimits& limits)
      : text_(text), name_(name), limits_(limits) {}

  absl::StatusOr<JsonValue> ParseDocument() {
    if (text_.size() > limits_.max_bytes) {
      return absl::InvalidArgumentError(fmt::format("{}: JSON text of {} bytes exceeds the limit of {} bytes",
                                                    name_, text_.size(), limits_.max_bytes));
    }
    JsonValue value;
    SkipSpace();
    if (!ParseValue(value, 0)) return Error();
    SkipSpace();
    if (pos_ != text_.size()) {
      Fail("unexpected text after the JSON value");
      return Error();
    }
    return value;
  }

 private:
  absl::Status Error() const {
    return absl::InvalidArgumentError(fmt::format("{}: JSON error at byte {}: {}", name_, error_pos_, error_));
  }
  bool Fail(std::string what) {
    if (error_.empty()) {
      error_ = std::move(what);
      error_pos_ = pos_;
    }
    return false;
  }
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return text_[pos_]; }

  void SkipSpace() {
    while (!AtEnd() && (Peek() == ' ' || Peek() == '\t' || Peek() == '\n' || Peek() == '\r')) ++pos_;
  }

  bool Expect(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return Fail(fmt::format("expected '{}'", word));
    pos_ += word.size();
    return true;
  }

  bool ParseValue(JsonValue& out, int depth) {
    if (AtEnd()) return Fail("unexpected end of text, expected a value");
    out.source_begin_ = pos_;
    bool ok = false;
    switch (Peek()) {
      case '{': ok = ParseObject(out, depth + 1); break;
      case '[': ok = ParseArray(out, depth + 1); break;
      case '"': out.kind_ = JsonValue::Kind::kString; ok = ParseString(out.text_); break;
      case 't': out.kind_ = JsonValue::Kind::kBool; out.bool_ = true; ok = Expect("true"); break;
      case 'f': out.kind_ = JsonValue::Kind::kBool; out.bool_ = false; ok = Expect("false"); break;
      case 'n': out.kind_ = JsonValue::Kind::kNull; ok = Expect("null"); break;
      default: ok = ParseNumber(out); break;
    }
    out.source_end_ = pos_;
    return ok;
  }

  bool ParseObject(JsonValue& out, int depth) {
    if (depth > limits_.max_depth) return Fail(fmt::format("nesting deeper than {}", limits_.max_depth));
    out.kind_ = JsonValue::Kind::kObject;
    ++pos_;
    SkipSpace();
    if (!AtEnd() && Peek() == '}') {
      ++pos_;
      return true;
    }
    absl::flat_hash_set<std::string> seen;
    while (true) {
      SkipSpace();
      if (AtEnd() || Peek() != '"') return Fail("expected a string key");
      const std::size_t key_pos = pos_;
      std::string key;
      if (!ParseString(key)) return false;
      if (!seen.insert(key).second) {
        pos_ = key_pos;
        return Fail(fmt::format("duplicate key \"{}\"", key));
      }
      SkipSpace();
      if (AtEnd() || Peek() != ':') return Fail("expected ':'");
      ++pos_;
      SkipSpace();
      JsonValue value;
      if (!ParseValue(value, depth)) return false;
      out.members_.emplace_back(std::move(key), std::move(value));
      SkipSpace();
      if (AtEnd()) return Fail("unexpected end of text in an object");
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() == '}') {
        ++pos_;
        return true;
      }
      return Fail("expected ',' or '}'");
    }
  }

  bool ParseArray(JsonValue& out, int depth) {
    if (depth > limits_.max_depth) return Fail(fmt::format("nesting deeper than {}", limits_.max_depth));
    out.kind_ = JsonValue::Kind::kArray;
    ++pos_;
    SkipSpace();
    if (!AtEnd() && Peek() == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      SkipSpace();
      JsonValue value;
      if (!ParseValue(value, depth)) return false;
      out.items_.push_back(std::move(value));
      SkipSpace();
      if (AtEnd()) return Fail("unexpected end of text in an array");
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() == ']') {
        ++pos_;
        return true;
      }
      return Fail("expected ',' or ']'");
    }
  }

  bool ParseHex4(std::uint32_t& out) {
    if (text_.size() - pos_ < 4) return Fail("truncated \\u escape");
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_++];
      out <<= 4;
      if (c >= '0' && c <= '9') out |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') out |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') out |= static_cast<std::uint32_t>(c - 'A' + 10);
      else return Fail("bad hex digit in \\u escape");
    }
    return true;
  }

  static void AppendUtf8(std::string& s, std::uint32_t cp) {
    if (cp < 0x80) {
      s.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      s.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  bool ParseString(std::string& out) {
    ++pos_;  // opening quote
    while (true) {
      if (AtEnd()) return Fail("unterminated string");
      const char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return Fail("control character in a string");
      if (c != '\\') {
        out.push_back(c);
        ++pos_;
        continue;
      }
      ++pos_;
      if (AtEnd()) return Fail("unterminated escape");
      const char e = text_[pos_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          std::uint32_t cp = 0;
          if (!ParseHex4(cp)) return false;
          if (cp >= 0xDC00 && cp <= 0xDFFF) return Fail("unpaired low surrogate in \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            std::uint32_t low = 0;
            if (text_.substr(pos_, 2) != "\\u") return Fail("high surrogate without a low surrogate");
            pos_ += 2;
            if (!ParseHex4(low)) return false;
            if (low < 0xDC00 || low > 0xDFFF) return Fail("high surrogate without a low surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          AppendUtf8(out, cp);
          break;
        }
        default: --pos_; return Fail("unknown escape");
      }
    }
  }

  bool ParseNumber(JsonValue& out) {
    const std::size_t start = pos_;
    auto digits = [&] {
      const std::size_t from = pos_;
      while (!AtEnd() && Peek() >= '0' && Peek() <= '9') ++pos_;
      return pos_ - from;
    };
    if (!AtEnd() && Peek() == '-') ++pos_;
    if (AtEnd() || Peek() < '0' || Peek() > '9') return Fail("unexpected character, expected a value");
    if (Peek() == '0') {
      ++pos_;
    } else {
      digits();
    }
    if (!AtEnd() && Peek() == '.') {
      ++pos_;
      if (digits() == 0) return Fail("expected digits after '.'");
    }
    if (!AtEnd() && (Peek() == 'e' || Peek() == 'E')) {
      ++pos_;
      if (!AtEnd() && (Peek() == '+' || Peek() == '-')) ++pos_;
      if (digits() == 0) return Fail("expected digits in the exponent");
    }
    out.kind_ = JsonValue::Kind::kNumber;
    out.text_.assign(text_.substr(start, pos_ - start));
    return true;
  }

  std::string_view text_;
  std::string_view name_;
  JsonLimits limits_;
  std::size_t pos_ = 0;
  std::string error_;
  std::size_t error_pos_ = 0;
};

absl::StatusOr<JsonValue> ParseJson(std::string_view text, std::string_view name, const JsonLimits& limits) {
  return JsonParser(text, name, limits).ParseDocument();
}

}  // namespace cace
