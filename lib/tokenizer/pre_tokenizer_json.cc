#include "lib/tokenizer/pre_tokenizer_json.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "fmt/format.h"
#include "lib/json/json.h"
#include "lib/tokenizer/deepseek_llm_classes.h"

namespace cace {
namespace {

constexpr std::string_view kName = "tokenizer.json pre_tokenizer";

// One step of the pipeline written as a short signature: "ByteLevel(regex)", "ByteLevel",
// "Digits(individual)", "Split(<pattern>)". Options that change nothing for these kinds are left
// out; options that would change the split make the step unrecognised.
absl::StatusOr<std::string> StepSignature(const JsonValue& step) {
  const JsonValue* type = step.Find("type");
  if (type == nullptr || !type->is_string()) {
    return absl::InvalidArgumentError(fmt::format("{}: a step has no \"type\"", kName));
  }
  auto flag = [&](std::string_view key, bool fallback) {
    const JsonValue* v = step.Find(key);
    return v != nullptr ? v->AsBool().value_or(fallback) : fallback;
  };
  const std::string& t = type->text();
  if (t == "ByteLevel") {
    if (flag("add_prefix_space", false)) return std::string("ByteLevel(add_prefix_space)");
    return std::string(flag("use_regex", true) ? "ByteLevel(regex)" : "ByteLevel");
  }
  if (t == "Digits") {
    return std::string(flag("individual_digits", false) ? "Digits(individual)" : "Digits");
  }
  if (t == "Split") {
    const JsonValue* pattern = step.Find("pattern");
    const JsonValue* regex = pattern != nullptr ? pattern->Find("Regex") : nullptr;
    const JsonValue* behavior = step.Find("behavior");
    if (regex == nullptr || !regex->is_string() || behavior == nullptr ||
        behavior->text() != "Isolated" || flag("invert", false)) {
      return std::string("Split(unsupported options)");
    }
    return "Split(" + regex->text() + ")";
  }
  return t;
}

struct Known {
  std::vector<std::string> steps;
  PreTokenizerKind kind;
};

const std::vector<Known>& KnownPipelines() {
  static const auto* known = new std::vector<Known>{
      {{"ByteLevel(regex)"}, PreTokenizerKind::kGpt2},
      {{"Split('s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+)",
        "ByteLevel"},
       PreTokenizerKind::kGpt2},
      {{"Digits(individual)", "ByteLevel(regex)"}, PreTokenizerKind::kStarCoder},
      {{"Split([\r\n])", "Split(\\s?\\p{L}+)", "Split(\\s?\\p{P}+)",
        "Split([\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+)", "Digits(individual)", "ByteLevel"},
       PreTokenizerKind::kDeepSeekCoder},
      {{"Split([\r\n])", "Split(\\s?[" + RangesAsRegexClass(kDeepSeekLlmLetters) + "]+)",
        "Split(\\s?[" + RangesAsRegexClass(kDeepSeekLlmPunctuation) + "]+)", "Split(\\s+$)",
        "Split([\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+)", "Split(\\p{N}+)", "ByteLevel"},
       PreTokenizerKind::kDeepSeekLlm},
      {{"Split((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
        "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+)",
        "ByteLevel"},
       PreTokenizerKind::kLlama3},
      {{"Split((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
        "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+)",
        "ByteLevel"},
       PreTokenizerKind::kQwen2},
  };
  return *known;
}

}  // namespace

absl::StatusOr<PreTokenizerKind> PreTokenizerFromJson(std::string_view json) {
  absl::StatusOr<JsonValue> root = ParseJson(json, kName);
  if (!root.ok()) return root.status();
  std::vector<std::string> steps;
  const JsonValue* type = root->Find("type");
  if (type != nullptr && type->text() == "Sequence") {
    const JsonValue* list = root->Find("pretokenizers");
    if (list == nullptr || !list->is_array()) {
      return absl::InvalidArgumentError(fmt::format("{}: Sequence has no \"pretokenizers\"", kName));
    }
    for (const JsonValue& step : list->items()) {
      absl::StatusOr<std::string> sig = StepSignature(step);
      if (!sig.ok()) return sig.status();
      steps.push_back(*std::move(sig));
    }
  } else {
    absl::StatusOr<std::string> sig = StepSignature(*root);
    if (!sig.ok()) return sig.status();
    steps.push_back(*std::move(sig));
  }
  for (const Known& k : KnownPipelines()) {
    if (k.steps == steps) return k.kind;
  }
  std::string described;
  for (const std::string& s : steps) described += (described.empty() ? "" : ", ") + s;
  return absl::InvalidArgumentError(
      fmt::format("{}: unsupported pre-tokenizer [{}]", kName, described));
}

}  // namespace cace
