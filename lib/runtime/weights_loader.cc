#include "lib/runtime/weights_loader.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/loader/dequantize.h"
#include "lib/loader/gguf.h"
#include "lib/loader/model_config.h"
#include "lib/loader/safetensors.h"

namespace cace {
namespace {

// One tensor as the builder sees it, whatever the file format.
struct RawTensor {
  DType dtype = DType::kF32;
  std::vector<std::int64_t> shape;  // outermost first
  std::span<const std::byte> bytes;
};
using TensorLookup = std::function<std::optional<RawTensor>(const std::string& name)>;

// Tensor names of each role in one naming convention.
struct TensorNames {
  std::string embedding, final_norm, lm_head;
  std::function<std::string(std::int64_t layer, const char* role)> layer;
};

TensorNames HfNames() {
  return {"model.embed_tokens.weight", "model.norm.weight", "lm_head.weight", [](std::int64_t i, const char* role) {
            return absl::StrCat("model.layers.", i, ".", role);
          }};
}

// The same roles in llama.cpp's names.
std::string GgufRole(const char* hf_role) {
  static const std::pair<const char*, const char*> kMap[] = {
      {"input_layernorm.weight", "attn_norm.weight"},     {"self_attn.q_proj.weight", "attn_q.weight"},
      {"self_attn.k_proj.weight", "attn_k.weight"},       {"self_attn.v_proj.weight", "attn_v.weight"},
      {"self_attn.q_proj.bias", "attn_q.bias"},           {"self_attn.k_proj.bias", "attn_k.bias"},
      {"self_attn.v_proj.bias", "attn_v.bias"},           {"self_attn.o_proj.weight", "attn_output.weight"},
      {"post_attention_layernorm.weight", "ffn_norm.weight"}, {"mlp.gate_proj.weight", "ffn_gate.weight"},
      {"mlp.up_proj.weight", "ffn_up.weight"},            {"mlp.down_proj.weight", "ffn_down.weight"}};
  for (const auto& [hf, gguf] : kMap) {
    if (std::string_view(hf) == hf_role) return gguf;
  }
  return hf_role;
}

TensorNames GgufNames() {
  return {"token_embd.weight", "output_norm.weight", "output.weight", [](std::int64_t i, const char* role) {
            return absl::StrCat("blk.", i, ".", GgufRole(role));
          }};
}

class Builder {
 public:
  Builder(std::string file, TensorLookup lookup, WeightLoadOptions options, ModelWeights* out)
      : file_(std::move(file)), lookup_(std::move(lookup)), options_(options), out_(out) {}

  absl::StatusOr<WeightMatrix> Matrix(const std::string& name, std::int64_t rows, std::int64_t cols) {
    std::optional<RawTensor> t = lookup_(name);
    if (!t) return absl::NotFoundError(absl::StrCat(file_, ": tensor ", name, " is missing"));
    if (t->shape != std::vector<std::int64_t>{rows, cols}) {
      return absl::InvalidArgumentError(absl::StrCat(file_, ": tensor ", name, " has shape ", ShapeText(t->shape),
                                                     ", the config implies [", rows, ", ", cols, "]"));
    }
    WeightMatrix m{t->dtype, t->bytes.data(), rows, cols};
    const std::uintptr_t address = reinterpret_cast<std::uintptr_t>(t->bytes.data());
    const bool aligned = t->dtype == DType::kF32 ? address % 4 == 0 : address % 2 == 0;
    if (!options_.all_f32 && IsDirectMatmulType(t->dtype) && aligned) return m;
    absl::StatusOr<const float*> wide = Widen(name, *t, rows * cols);
    if (!wide.ok()) return wide.status();
    return WeightMatrix{DType::kF32, reinterpret_cast<const std::byte*>(*wide), rows, cols};
  }

  // A vector of `n` values as F32; nullptr when absent and `optional`.
  absl::StatusOr<const float*> Vector(const std::string& name, std::int64_t n, bool optional) {
    std::optional<RawTensor> t = lookup_(name);
    if (!t) {
      if (optional) return nullptr;
      return absl::NotFoundError(absl::StrCat(file_, ": tensor ", name, " is missing"));
    }
    if (t->shape != std::vector<std::int64_t>{n}) {
      return absl::InvalidArgumentError(
          absl::StrCat(file_, ": tensor ", name, " has shape ", ShapeText(t->shape), ", the config implies [", n, "]"));
    }
    return Widen(name, *t, n);
  }

  bool Has(const std::string& name) { return lookup_(name).has_value(); }

 private:
  static std::string ShapeText(const std::vector<std::int64_t>& shape) {
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) absl::StrAppend(&s, i ? ", " : "", shape[i]);
    return s + "]";
  }

  absl::StatusOr<const float*> Widen(const std::string& name, const RawTensor& t, std::int64_t count) {
    auto buffer = std::make_unique<float[]>(static_cast<std::size_t>(count));
    absl::Status st = DequantizeToF32(t.dtype, t.bytes, std::span<float>(buffer.get(), static_cast<std::size_t>(count)));
    if (!st.ok()) return absl::InvalidArgumentError(absl::StrCat(file_, ": tensor ", name, ": ", st.message()));
    const float* p = buffer.get();
    out_->owned.push_back(std::move(buffer));
    return p;
  }

  std::string file_;
  TensorLookup lookup_;
  WeightLoadOptions options_;
  ModelWeights* out_;
};

#define CACE_ASSIGN(lhs, expr)            \
  do {                                    \
    auto cace_result_ = (expr);           \
    if (!cace_result_.ok()) return cace_result_.status(); \
    lhs = *cace_result_;                  \
  } while (0)

absl::StatusOr<std::shared_ptr<ModelWeights>> Build(const ModelConfig& config, kmath::RopeStyle rope_style,
                                                    const std::string& file, TensorLookup lookup,
                                                    const TensorNames& names, WeightLoadOptions options,
                                                    std::shared_ptr<const void> keep_alive) {
  auto w = std::make_shared<ModelWeights>();
  CACE_ASSIGN(w->shape, ShapeFromConfig(config, rope_style));
  w->keep_alive.push_back(std::move(keep_alive));
  const LlamaShape& s = w->shape;
  Builder b(file, std::move(lookup), options, w.get());
  CACE_ASSIGN(w->embedding, b.Matrix(names.embedding, s.vocab_size, s.dim));
  CACE_ASSIGN(w->final_norm, b.Vector(names.final_norm, s.dim, false));
  // Tied embeddings: the config says so, or (GGUF) there is no separate output matrix.
  if (config.tie_word_embeddings && !b.Has(names.lm_head)) {
    w->lm_head = w->embedding;
  } else {
    CACE_ASSIGN(w->lm_head, b.Matrix(names.lm_head, s.vocab_size, s.dim));
  }
  for (std::int64_t i = 0; i < s.n_layers; ++i) {
    LayerWeights l;
    const auto name = [&](const char* role) { return names.layer(i, role); };
    CACE_ASSIGN(l.attn_norm, b.Vector(name("input_layernorm.weight"), s.dim, false));
    CACE_ASSIGN(l.wq, b.Matrix(name("self_attn.q_proj.weight"), s.q_dim(), s.dim));
    CACE_ASSIGN(l.wk, b.Matrix(name("self_attn.k_proj.weight"), s.kv_dim(), s.dim));
    CACE_ASSIGN(l.wv, b.Matrix(name("self_attn.v_proj.weight"), s.kv_dim(), s.dim));
    const bool bias_required = config.attention_bias;
    CACE_ASSIGN(l.bq, b.Vector(name("self_attn.q_proj.bias"), s.q_dim(), !bias_required));
    CACE_ASSIGN(l.bk, b.Vector(name("self_attn.k_proj.bias"), s.kv_dim(), !bias_required));
    CACE_ASSIGN(l.bv, b.Vector(name("self_attn.v_proj.bias"), s.kv_dim(), !bias_required));
    CACE_ASSIGN(l.wo, b.Matrix(name("self_attn.o_proj.weight"), s.dim, s.q_dim()));
    CACE_ASSIGN(l.ffn_norm, b.Vector(name("post_attention_layernorm.weight"), s.dim, false));
    CACE_ASSIGN(l.w_gate, b.Matrix(name("mlp.gate_proj.weight"), s.ffn_dim, s.dim));
    CACE_ASSIGN(l.w_up, b.Matrix(name("mlp.up_proj.weight"), s.ffn_dim, s.dim));
    CACE_ASSIGN(l.w_down, b.Matrix(name("mlp.down_proj.weight"), s.dim, s.ffn_dim));
    w->layers.push_back(l);
  }
  if (absl::Status st = ValidateWeights(*w); !st.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": ", st.message()));
  }
  return w;
}

kmath::RopeStyle GgufRopeStyle(Architecture arch) {
  return arch == Architecture::kQwen2 ? kmath::RopeStyle::kHalf : kmath::RopeStyle::kInterleaved;
}

}  // namespace

absl::StatusOr<std::shared_ptr<ModelWeights>> LoadSafetensorsModel(const std::string& dir, WeightLoadOptions options) {
  absl::StatusOr<ModelConfig> config = ReadHfConfigFile(dir + "/config.json");
  if (!config.ok()) return config.status();
  const std::string path = dir + "/model.safetensors";
  absl::StatusOr<SafetensorsFile> opened = SafetensorsFile::Open(path);
  if (!opened.ok()) return opened.status();
  auto file = std::make_shared<SafetensorsFile>(*std::move(opened));
  TensorLookup lookup = [file](const std::string& name) -> std::optional<RawTensor> {
    const SafetensorsTensor* t = file->Find(name);
    if (t == nullptr) return std::nullopt;
    return RawTensor{t->dtype, t->shape, file->TensorData(*t)};
  };
  return Build(*config, kmath::RopeStyle::kHalf, path, std::move(lookup), HfNames(), options, file);
}

absl::StatusOr<std::shared_ptr<ModelWeights>> LoadGgufModel(const std::string& path, WeightLoadOptions options) {
  absl::StatusOr<GgufFile> opened = GgufFile::Open(path);
  if (!opened.ok()) return opened.status();
  auto file = std::make_shared<GgufFile>(*std::move(opened));
  absl::StatusOr<ModelConfig> config = ModelConfigFromGguf(*file);
  if (!config.ok()) return config.status();
  const kmath::RopeStyle style = GgufRopeStyle(config->architecture);
  TensorLookup lookup = [file](const std::string& name) -> std::optional<RawTensor> {
    const GgufTensorInfo* t = file->FindTensor(name);
    if (t == nullptr) return std::nullopt;
    return RawTensor{t->dtype, t->shape, file->TensorData(*t)};
  };
  return Build(*config, style, path, std::move(lookup), GgufNames(), options, file);
}

absl::StatusOr<std::shared_ptr<ModelWeights>> WeightsFromPool(const LoadedModel& model, const MemoryPool& pool,
                                                              WeightLoadOptions options) {
  if (pool.kind() != MemoryKind::kHost) {
    return absl::InvalidArgumentError(absl::StrCat(model.path, ": the CPU runtime reads weights from a host pool"));
  }
  absl::StatusOr<void*> address = pool.Address(model.allocation);
  if (!address.ok()) return address.status();
  const std::byte* base = static_cast<const std::byte*>(*address);
  const LoadedModel* m = &model;
  TensorLookup lookup = [m, base](const std::string& name) -> std::optional<RawTensor> {
    const LoadedTensor* t = m->Find(name);
    if (t == nullptr) return std::nullopt;
    return RawTensor{t->dtype, t->shape, std::span<const std::byte>(base + t->offset, t->bytes)};
  };
  const bool gguf = model.format == ModelFormat::kGguf;
  const kmath::RopeStyle style = gguf ? GgufRopeStyle(model.config.architecture) : kmath::RopeStyle::kHalf;
  return Build(model.config, style, model.path, std::move(lookup), gguf ? GgufNames() : HfNames(), options, nullptr);
}

}  // namespace cace
