// What each loader fuzz target does with one input, shared by the libFuzzer binaries and by the
// corpus replay test of the normal build. Every accepted file is then used the way the loader
// uses it (tensor bytes read, configs derived, blocks dequantized), so a check that lets a bad
// offset through shows up as an out-of-bounds read under the sanitizers.
#ifndef CACE_TESTS_FUZZ_LOADER_FUZZ_TARGETS_H_
#define CACE_TESTS_FUZZ_LOADER_FUZZ_TARGETS_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "lib/json/json.h"
#include "lib/loader/dequantize.h"
#include "lib/loader/gguf.h"
#include "lib/loader/model_config.h"
#include "lib/loader/safetensors.h"
#include "lib/loader/tokenizer_data.h"

namespace cace::fuzz {

// Where the XOR of touched bytes goes, so the reads cannot be optimised away.
inline volatile std::uint8_t g_sink = 0;

// Reads every byte of a span so the sanitizers see any out-of-bounds access.
inline std::uint8_t Touch(std::span<const std::byte> bytes) {
  std::uint8_t x = 0;
  for (std::byte b : bytes) x ^= static_cast<std::uint8_t>(b);
  return x;
}

inline void DequantizeFirstBlock(DType dtype, std::span<const std::byte> bytes) {
  const auto block_bytes = static_cast<std::size_t>(DTypeBlockBytes(dtype));
  if (bytes.size() < block_bytes) return;
  std::vector<float> out(static_cast<std::size_t>(DTypeBlockElements(dtype)));
  (void)DequantizeToF32(dtype, bytes.first(block_bytes), out);
}

inline int FuzzSafetensors(const std::uint8_t* data, std::size_t size) {
  auto file = SafetensorsFile::Parse(std::span(reinterpret_cast<const std::byte*>(data), size), "fuzz.safetensors");
  if (!file.ok()) return 0;
  std::uint8_t x = 0;
  for (const SafetensorsTensor& t : file->tensors()) {
    x ^= Touch(file->TensorData(t));
    DequantizeFirstBlock(t.dtype, file->TensorData(t));
  }
  g_sink = x;
  return 0;
}

inline int FuzzJsonConfig(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)ParseJson(text, "fuzz.json");
  if (auto config = ParseHfConfig(text, "config.json"); config.ok()) {
    (void)config->ParameterCount();
    (void)config->WeightBytes(DType::kBF16);
    (void)config->KvBytesPerToken();
  }
  (void)ParseTokenizerJson(text, "tokenizer.json");
  return 0;
}

inline int FuzzGguf(const std::uint8_t* data, std::size_t size) {
  auto file = GgufFile::Parse(std::span(reinterpret_cast<const std::byte*>(data), size), "fuzz.gguf");
  if (!file.ok()) return 0;
  std::uint8_t x = 0;
  for (const GgufTensorInfo& t : file->tensors()) {
    x ^= Touch(file->TensorData(t));
    DequantizeFirstBlock(t.dtype, file->TensorData(t));
  }
  if (auto config = ModelConfigFromGguf(*file); config.ok()) (void)config->ParameterCount();
  (void)TokenizerDataFromGguf(*file);
  g_sink = x;
  return 0;
}

}  // namespace cace::fuzz

#endif  // CACE_TESTS_FUZZ_LOADER_FUZZ_TARGETS_H_
