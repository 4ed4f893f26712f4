// Tokenizer throughput on the four real vocabularies of data/tokenizers: encoding source
// code (words repeat, so most pre-tokens come from the BPE cache) beside encoding text whose
// words never repeat (every pre-token runs the merge loop), and decoding / streaming ids back.
//
// Counters: MB_s (input bytes per second), tok_s (tokens per second).
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "lib/tokenizer/stream_decoder.h"
#include "lib/tokenizer/tokenizer.h"
#include "lib/tokenizer/tokenizer_file.h"

namespace cace {
namespace {

const char* const kVocabs[] = {"deepseek-coder", "starcoder", "gpt-2", "llama-spm"};

std::unique_ptr<Tokenizer> Load(int index) {
  const std::string path =
      std::string(CACE_DATA_DIR) + "/tokenizers/ggml-vocab-" + kVocabs[index] + ".gguf";
  auto tokenizer = LoadTokenizer(path);
  return tokenizer.ok() ? *std::move(tokenizer) : nullptr;
}

// About 64 KiB of Python-like and C-like code.
std::string CodeText() {
  const std::string chunk =
      "def process_batch(items: list[dict], limit: int = 100) -> list[str]:\n"
      "    \"\"\"Return the names of the first `limit` valid items.\"\"\"\n"
      "    out = []\n    for i, item in enumerate(items):\n"
      "        if i >= limit or not item.get('valid', False):\n            continue\n"
      "        out.append(item['name'].strip().lower())\n    return out\n\n"
      "static int compare(const void* a, const void* b) {\n"
      "\tconst int x = *(const int*)a, y = *(const int*)b;\n\treturn (x > y) - (x < y);\n}\n";
  std::string text;
  while (text.size() < (64u << 10)) text += chunk;
  return text;
}

// The same size of text whose identifiers are fresh random letters, so the cache never hits.
std::string FreshWordsText() {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> letter('a', 'z');
  std::uniform_int_distribution<int> length(3, 12);
  std::string text;
  while (text.size() < (64u << 10)) {
    const int n = length(rng);
    for (int i = 0; i < n; ++i) text.push_back(static_cast<char>(letter(rng)));
    text += (text.size() % 7 == 0) ? "(\n    " : " = ";
  }
  return text;
}

void Encode(benchmark::State& state, const std::string& text) {
  const auto tokenizer = Load(static_cast<int>(state.range(0)));
  if (!tokenizer) {
    state.SkipWithError("cannot load the vocabulary from data/tokenizers");
    return;
  }
  state.SetLabel(kVocabs[state.range(0)]);
  std::size_t tokens = 0;
  for (auto _ : state) {
    const std::vector<TokenId> ids = tokenizer->Encode(text);
    tokens += ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.counters["MB_s"] = benchmark::Counter(static_cast<double>(text.size() * state.iterations()) / 1e6,
                                              benchmark::Counter::kIsRate);
  state.counters["tok_s"] = benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
}

void BM_EncodeCode(benchmark::State& state) {
  static const std::string text = CodeText();
  Encode(state, text);
}

void BM_EncodeFreshWords(benchmark::State& state) {
  // Each iteration must miss the cache, so every iteration gets text never seen before.
  const auto tokenizer = Load(static_cast<int>(state.range(0)));
  if (!tokenizer) {
    state.SkipWithError("cannot load the vocabulary from data/tokenizers");
    return;
  }
  state.SetLabel(kVocabs[state.range(0)]);
  std::string text = FreshWordsText();
  std::size_t tokens = 0;
  std::size_t bytes = 0;
  std::mt19937 rng(11);
  for (auto _ : state) {
    state.PauseTiming();
    for (char& c : text) {
      if (c >= 'a' && c <= 'z') c = static_cast<char>('a' + (c - 'a' + rng() % 26) % 26);
    }
    state.ResumeTiming();
    const std::vector<TokenId> ids = tokenizer->Encode(text);
    tokens += ids.size();
    bytes += text.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.counters["MB_s"] = benchmark::Counter(static_cast<double>(bytes) / 1e6, benchmark::Counter::kIsRate);
  state.counters["tok_s"] = benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
}

void BM_Decode(benchmark::State& state) {
  const auto tokenizer = Load(static_cast<int>(state.range(0)));
  if (!tokenizer) {
    state.SkipWithError("cannot load the vocabulary from data/tokenizers");
    return;
  }
  state.SetLabel(kVocabs[state.range(0)]);
  const std::vector<TokenId> ids = tokenizer->Encode(CodeText());
  const bool streaming = state.range(1) != 0;
  for (auto _ : state) {
    if (streaming) {
      StreamDecoder stream(*tokenizer);
      std::size_t n = 0;
      for (TokenId id : ids) n += stream.Push(id)->size();
      benchmark::DoNotOptimize(n);
    } else {
      benchmark::DoNotOptimize(tokenizer->Decode(ids)->size());
    }
  }
  state.counters["tok_s"] = benchmark::Counter(static_cast<double>(ids.size() * state.iterations()),
                                               benchmark::Counter::kIsRate);
}

BENCHMARK(BM_EncodeCode)->DenseRange(0, 3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeFreshWords)->DenseRange(0, 3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Decode)->ArgsProduct({{0, 1, 2, 3}, {0, 1}})->ArgNames({"vocab", "stream"})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace cace

BENCHMARK_MAIN();
