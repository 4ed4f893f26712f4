// Typed look-ups of GGUF metadata values.
#include <cmath>

#include "fmt/format.h"
#include "lib/loader/gguf.h"

namespace cace {
namespace {

absl::Status Missing(const GgufFile& file, std::string_view key) {
  return absl::NotFoundError(fmt::format("{}: metadata key '{}' is missing", file.name(), key));
}

absl::Status Mismatch(const GgufFile& file, std::string_view key, const GgufValue& v, std::string_view wanted) {
  return absl::InvalidArgumentError(fmt::format("{}: metadata key '{}' is {} where {} was expected", file.name(), key,
                                                GgufTypeName(v.type), wanted));
}

std::optional<std::int64_t> AsInt(const GgufValue& v) {
  if (const auto* u = std::get_if<std::uint64_t>(&v.value)) {
    if (*u > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<std::int64_t>(*u);
  }
  if (const auto* i = std::get_if<std::int64_t>(&v.value)) return *i;
  return std::nullopt;
}

std::optional<double> AsFloat(const GgufValue& v) {
  if (const auto* d = std::get_if<double>(&v.value)) return *d;
  return std::nullopt;
}

}  // namespace

absl::StatusOr<std::string> GgufFile::GetString(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(*this, key);
  if (const auto* s = std::get_if<std::string>(&v->value)) return *s;
  return Mismatch(*this, key, *v, "string");
}

absl::StatusOr<std::int64_t> GgufFile::GetInt(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(*this, key);
  if (std::optional<std::int64_t> i = AsInt(*v)) return *i;
  return Mismatch(*this, key, *v, "an integer");
}

absl::StatusOr<std::uint64_t> GgufFile::GetUint(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(*this, key);
  if (const auto* u = std::get_if<std::uint64_t>(&v->value)) return *u;
  if (const auto* i = std::get_if<std::int64_t>(&v->value); i != nullptr && *i >= 0) {
    return static_cast<std::uint64_t>(*i);
  }
  return Mismatch(*this, key, *v, "a non-negative integer");
}

absl::StatusOr<double> GgufFile::GetFloat(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(*this, key);
  if (std::optional<double> d = AsFloat(*v)) return *d;
  return Mismatch(*this, key, *v, "a float");
}

absl::StatusOr<bool> GgufFile::GetBool(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(*this, key);
  if (const auto* b = std::get_if<bool>(&v->value)) return *b;
  return Mismatch(*this, key, *v, "a bool");
}

absl::StatusOr<std::vector<std::string>> GgufFile::GetStringArray(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(*this, key);
  const auto* array = std::get_if<GgufArray>(&v->value);
  if (array == nullptr || array->element_type != GgufType::kString) return Mismatch(*this, key, *v, "an array of strings");
  std::vector<std::string> out;
  out.reserve(array->items.size());
  for (const GgufValue& item : array->items) out.push_back(std::get<std::string>(item.value));
  return out;
}

absl::StatusOr<std::vector<double>> GgufFile::GetFloatArray(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(*this, key);
  const auto* array = std::get_if<GgufArray>(&v->value);
  if (array == nullptr || (array->element_type != GgufType::kFloat32 && array->element_type != GgufType::kFloat64)) {
    return Mismatch(*this, key, *v, "an array of floats");
  }
  std::vector<double> out;
  out.reserve(array->items.size());
  for (const GgufValue& item : array->items) out.push_back(std::get<double>(item.value));
  return out;
}

absl::StatusOr<std::vector<std::int64_t>> GgufFile::GetIntArray(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(*this, key);
  const auto* array = std::get_if<GgufArray>(&v->value);
  if (array == nullptr) return Mismatch(*this, key, *v, "an array of integers");
  std::vector<std::int64_t> out;
  out.reserve(array->items.size());
  for (std::size_t i = 0; i < array->items.size(); ++i) {
    std::optional<std::int64_t> x = AsInt(array->items[i]);
    if (!x) return Mismatch(*this, fmt::format("{}[{}]", key, i), array->items[i], "an integer");
    out.push_back(*x);
  }
  return out;
}

}  // namespace cace
