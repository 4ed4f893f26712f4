#include "lib/runtime/model_weights.h"

#include <limits>
#include <string>

#include "absl/strings/str_cat.h"

namespace cace {
namespace {

absl::Status CheckPositive(std::int64_t v, const char* field) {
  if (v <= 0 || v > std::numeric_limits<int>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat("model config: ", field, " = ", v, " is not in 1..", std::numeric_limits<int>::max()));
  }
  return absl::OkStatus();
}

absl::Status CheckMatrix(const WeightMatrix& m, std::int64_t rows, std::int64_t cols, const std::string& role) {
  if (m.data == nullptr) return absl::InvalidArgumentError(absl::StrCat("weights: ", role, " is missing"));
  if (m.rows != rows || m.cols != cols) {
    return absl::InvalidArgumentError(absl::StrCat("weights: ", role, " is [", m.rows, ", ", m.cols,
                                                   "], the config implies [", rows, ", ", cols, "]"));
  }
  if (!IsDirectMatmulType(m.dtype)) {
    return absl::InvalidArgumentError(
        absl::StrCat("weights: ", role, " has type ", std::string(DTypeName(m.dtype)), ", which the kernels do not read"));
  }
  const std::uintptr_t address = reinterpret_cast<std::uintptr_t>(m.data);
  if (address % (m.dtype == DType::kF32 ? 4 : 2) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("weights: ", role, " at address ", address,
                                                   " is not aligned for ", std::string(DTypeName(m.dtype))));
  }
  if (cols % DTypeBlockElements(m.dtype) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("weights: ", role, " row of ", cols,
                                                   " is not whole blocks of ", std::string(DTypeName(m.dtype))));
  }
  return absl::OkStatus();
}

absl::Status CheckVector(const float* v, const std::string& role) {
  if (v == nullptr) return absl::InvalidArgumentError(absl::StrCat("weights: ", role, " is missing"));
  return absl::OkStatus();
}

}  // namespace

bool IsDirectMatmulType(DType dtype) {
  return dtype == DType::kF32 || dtype == DType::kF16 || dtype == DType::kBF16 || dtype == DType::kQ8_0 ||
         dtype == DType::kQ4_K || dtype == DType::kQ6_K;
}

absl::StatusOr<LlamaShape> ShapeFromConfig(const ModelConfig& config, kmath::RopeStyle rope_style) {
  LlamaShape s;
  s.vocab_size = config.vocab_size;
  s.dim = config.hidden_size;
  s.ffn_dim = config.intermediate_size;
  s.n_layers = config.num_hidden_layers;
  s.n_heads = config.num_attention_heads;
  s.n_kv_heads = config.num_key_value_heads;
  s.head_dim = config.head_dim;
  s.max_positions = config.max_position_embeddings;
  s.rms_eps = static_cast<float>(config.rms_norm_eps);
  s.rope_theta = static_cast<float>(config.rope_theta);
  s.rope_style = rope_style;
  for (auto [v, field] : {std::pair{s.vocab_size, "vocab_size"}, {s.dim, "hidden_size"},
                          {s.ffn_dim, "intermediate_size"}, {s.n_layers, "num_hidden_layers"},
                          {s.n_heads, "num_attention_heads"}, {s.n_kv_heads, "num_key_value_heads"},
                          {s.head_dim, "head_dim"}, {s.max_positions, "max_position_embeddings"}}) {
    if (absl::Status st = CheckPositive(v, field); !st.ok()) return st;
  }
  if (s.n_heads % s.n_kv_heads != 0) {
    return absl::InvalidArgumentError(absl::StrCat("model config: num_attention_heads = ", s.n_heads,
                                                   " is not a multiple of num_key_value_heads = ", s.n_kv_heads));
  }
  if (s.head_dim % 2 != 0) {
    return absl::InvalidArgumentError(absl::StrCat("model config: head_dim = ", s.head_dim, " is odd"));
  }
  if (!(s.rope_theta > 0.0f) || !(s.rms_eps >= 0.0f)) {
    return absl::InvalidArgumentError("model config: rope_theta must be > 0 and rms_norm_eps >= 0");
  }
  return s;
}

absl::Status BindTensor(ModelWeights& w, TensorRole role, std::int64_t layer, DType dtype, const std::byte* data,
                        std::int64_t rows, std::int64_t cols) {
  const WeightMatrix matrix{dtype, data, rows, cols};
  const float* vector = reinterpret_cast<const float*>(data);
  const bool is_vector = role == TensorRole::kAttnNorm || role == TensorRole::kFfnNorm || role == TensorRole::kBq ||
                         role == TensorRole::kBk || role == TensorRole::kBv || role == TensorRole::kFinalNorm;
  if (is_vector && dtype != DType::kF32) {
    return absl::InvalidArgumentError(absl::StrCat("weights: ", std::string(TensorRoleName(role)), " is ",
                                                   std::string(DTypeName(dtype)), "; norms and biases are read as F32"));
  }
  switch (role) {
    case TensorRole::kEmbedding: w.embedding = matrix; return absl::OkStatus();
    case TensorRole::kFinalNorm: w.final_norm = vector; return absl::OkStatus();
    case TensorRole::kLmHead: w.lm_head = matrix; return absl::OkStatus();
    default: break;
  }
  if (layer < 0 || layer >= static_cast<std::int64_t>(w.layers.size())) {
    return absl::InvalidArgumentError(absl::StrCat("weights: ", std::string(TensorRoleName(role)), " of layer ", layer,
                                                   ", the model has ", w.layers.size()));
  }
  LayerWeights& l = w.layers[static_cast<std::size_t>(layer)];
  switch (role) {
    case TensorRole::kAttnNorm: l.attn_norm = vector; break;
    case TensorRole::kWq: l.wq = matrix; break;
    case TensorRole::kWk: l.wk = matrix; break;
    case TensorRole::kWv: l.wv = matrix; break;
    case TensorRole::kBq: l.bq = vector; break;
    case TensorRole::kBk: l.bk = vector; break;
    case TensorRole::kBv: l.bv = vector; break;
    case TensorRole::kWo: l.wo = matrix; break;
    case TensorRole::kFfnNorm: l.ffn_norm = vector; break;
    case TensorRole::kWGate: l.w_gate = matrix; break;
    case TensorRole::kWUp: l.w_up = matrix; break;
    case TensorRole::kWDown: l.w_down = matrix; break;
    default: break;
  }
  return absl::OkStatus();
}

absl::Status ValidateWeights(const ModelWeights& w) {
  const LlamaShape& s = w.shape;
  if (absl::Status st = CheckMatrix(w.embedding, s.vocab_size, s.dim, "embedding"); !st.ok()) return st;
  if (absl::Status st = CheckMatrix(w.lm_head, s.vocab_size, s.dim, "lm_head"); !st.ok()) return st;
  if (absl::Status st = CheckVector(w.final_norm, "final norm"); !st.ok()) return st;
  if (static_cast<std::int64_t>(w.layers.size()) != s.n_layers) {
    return absl::InvalidArgumentError(
        absl::StrCat("weights: ", w.layers.size(), " layers, the config says ", s.n_layers));
  }
  for (std::size_t i = 0; i < w.layers.size(); ++i) {
    const LayerWeights& l = w.layers[i];
    const std::string p = absl::StrCat("layer ", i, " ");
    for (auto [m, rows, cols, role] :
         {std::tuple{&l.wq, s.q_dim(), s.dim, "q"}, {&l.wk, s.kv_dim(), s.dim, "k"}, {&l.wv, s.kv_dim(), s.dim, "v"},
          {&l.wo, s.dim, s.q_dim(), "o"}, {&l.w_gate, s.ffn_dim, s.dim, "gate"}, {&l.w_up, s.ffn_dim, s.dim, "up"},
          {&l.w_down, s.dim, s.ffn_dim, "down"}}) {
      if (absl::Status st = CheckMatrix(*m, rows, cols, p + role); !st.ok()) return st;
    }
    if (absl::Status st = CheckVector(l.attn_norm, p + "attention norm"); !st.ok()) return st;
    if (absl::Status st = CheckVector(l.ffn_norm, p + "MLP norm"); !st.ok()) return st;
    const bool any_bias = l.bq || l.bk || l.bv;
    if (any_bias && !(l.bq && l.bk && l.bv)) {
      return absl::InvalidArgumentError(absl::StrCat("weights: ", p, "has some but not all of the q/k/v biases"));
    }
  }
  return absl::OkStatus();
}

std::uint64_t ModelWeights::BytesReadPerToken() const {
  const std::uint64_t dim = static_cast<std::uint64_t>(shape.dim);
  std::uint64_t bytes = lm_head.RowBytes() * static_cast<std::uint64_t>(lm_head.rows);
  bytes += embedding.RowBytes();  // one row looked up
  bytes += dim * sizeof(float);   // final norm
  for (const LayerWeights& l : layers) {
    for (const WeightMatrix* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) {
      bytes += m->RowBytes() * static_cast<std::uint64_t>(m->rows);
    }
    bytes += 2 * dim * sizeof(float);
    if (l.bq) bytes += static_cast<std::uint64_t>(shape.q_dim() + 2 * shape.kv_dim()) * sizeof(float);
  }
  return bytes;
}

}  // namespace cace
