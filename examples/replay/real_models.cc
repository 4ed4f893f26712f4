#include "examples/replay/real_models.h"

#include <cstdio>
#include <filesystem>

#include "fmt/format.h"
#include "lib/loader/tiny_model_writer.h"

namespace cace {

namespace {

struct GeneratedModel {
  const char* name;
  bool gguf;
  DType dtype;
  TinyModelSpec spec;
};

TinyModelSpec Spec(Architecture arch, std::int64_t hidden, std::int64_t intermediate, std::int64_t layers,
                   std::int64_t heads, std::int64_t kv_heads, std::uint64_t seed) {
  TinyModelSpec s;
  s.architecture = arch;
  s.hidden_size = hidden;
  s.intermediate_size = intermediate;
  s.num_hidden_layers = layers;
  s.num_attention_heads = heads;
  s.num_key_value_heads = kv_heads;
  s.max_position_embeddings = 1024;
  s.seed = seed;
  return s;
}

std::vector<GeneratedModel> Generated(ModelSet set) {
  if (set == ModelSet::kTest) {
    return {{"tiny-a", false, DType::kF32, Spec(Architecture::kLlama, 64, 128, 2, 4, 2, 1)},
            {"tiny-b", true, DType::kF16, Spec(Architecture::kQwen2, 64, 192, 2, 4, 2, 2)}};
  }
  // Sizes in the CPU backend's pool (F16/BF16/F32/Q8_0 are kept as stored).
  return {{"llama-40m-f32", false, DType::kF32, Spec(Architecture::kLlama, 384, 1024, 6, 6, 2, 11)},
          {"qwen2-50m-bf16", false, DType::kBF16, Spec(Architecture::kQwen2, 512, 1408, 8, 8, 2, 12)},
          {"llama-60m-q8", true, DType::kQ8_0, Spec(Architecture::kLlama, 640, 1792, 10, 10, 2, 13)},
          {"llama-160m-f16", true, DType::kF16, Spec(Architecture::kLlama, 768, 2048, 12, 12, 4, 14)}};
}

}  // namespace

absl::StatusOr<std::vector<ModelFile>> MakeRealModels(ModelSet set, const std::string& work_dir,
                                                      const std::string& smollm2_gguf) {
  std::error_code ec;
  std::filesystem::create_directories(work_dir, ec);
  if (ec) return absl::InternalError(fmt::format("cannot create {}: {}", work_dir, ec.message()));
  std::vector<ModelFile> files;
  for (const GeneratedModel& g : Generated(set)) {
    ModelFile f{g.name, g.gguf ? fmt::format("{}/{}.gguf", work_dir, g.name) : fmt::format("{}/{}", work_dir, g.name)};
    const std::string marker = g.gguf ? f.path : f.path + "/model.safetensors";
    if (!std::filesystem::exists(marker)) {
      const absl::Status written = g.gguf ? WriteTinyGgufModel(g.spec, f.path, g.dtype)
                                          : WriteTinySafetensorsModel(g.spec, f.path, g.dtype);
      if (!written.ok()) return written;
    }
    files.push_back(std::move(f));
  }
  if (set == ModelSet::kFull) {
    if (!smollm2_gguf.empty() && std::filesystem::exists(smollm2_gguf)) {
      files.push_back(ModelFile{"smollm2-135m", smollm2_gguf});
    } else {
      std::fprintf(stderr, "SmolLM2-135M left out: no file at '%s' (fetch it with "
                   "examples/replay/fetch_smollm2.sh)\n", smollm2_gguf.c_str());
    }
  }
  return files;
}

}  // namespace cace
