#include "lib/loader/tensor_names.h"

#include "fmt/format.h"

namespace cace {
namespace {

struct RoleNames {
  TensorRole role;
  const char* hf;    // after "model.layers.N." for layer tensors
  const char* gguf;  // after "blk.N."
  const char* text;
};

constexpr RoleNames kRoles[] = {
    {TensorRole::kEmbedding, "model.embed_tokens.weight", "token_embd.weight", "embedding"},
    {TensorRole::kAttnNorm, "input_layernorm.weight", "attn_norm.weight", "attention norm"},
    {TensorRole::kWq, "self_attn.q_proj.weight", "attn_q.weight", "q"},
    {TensorRole::kWk, "self_attn.k_proj.weight", "attn_k.weight", "k"},
    {TensorRole::kWv, "self_attn.v_proj.weight", "attn_v.weight", "v"},
    {TensorRole::kBq, "self_attn.q_proj.bias", "attn_q.bias", "q bias"},
    {TensorRole::kBk, "self_attn.k_proj.bias", "attn_k.bias", "k bias"},
    {TensorRole::kBv, "self_attn.v_proj.bias", "attn_v.bias", "v bias"},
    {TensorRole::kWo, "self_attn.o_proj.weight", "attn_output.weight", "o"},
    {TensorRole::kFfnNorm, "post_attention_layernorm.weight", "ffn_norm.weight", "MLP norm"},
    {TensorRole::kWGate, "mlp.gate_proj.weight", "ffn_gate.weight", "gate"},
    {TensorRole::kWUp, "mlp.up_proj.weight", "ffn_up.weight", "up"},
    {TensorRole::kWDown, "mlp.down_proj.weight", "ffn_down.weight", "down"},
    {TensorRole::kFinalNorm, "model.norm.weight", "output_norm.weight", "final norm"},
    {TensorRole::kLmHead, "lm_head.weight", "output.weight", "lm_head"},
};

const RoleNames& Names(TensorRole role) { return kRoles[static_cast<int>(role)]; }

}  // namespace

std::string_view TensorRoleName(TensorRole role) { return Names(role).text; }

std::vector<ExpectedTensor> ExpectedTensors(const ModelConfig& c, TensorNaming naming) {
  const bool hf = naming == TensorNaming::kHuggingFace;
  const std::int64_t q = c.num_attention_heads * c.head_dim;
  const std::int64_t kv = c.num_key_value_heads * c.head_dim;
  std::vector<ExpectedTensor> out;
  auto add = [&](TensorRole role, std::int64_t layer, std::vector<std::int64_t> shape) {
    const RoleNames& n = Names(role);
    std::string name = hf ? n.hf : n.gguf;
    if (layer >= 0) name = (hf ? fmt::format("model.layers.{}.", layer) : fmt::format("blk.{}.", layer)) + name;
    const bool matrix = shape.size() == 2;
    out.push_back(ExpectedTensor{std::move(name), role, layer, std::move(shape), matrix});
  };
  add(TensorRole::kEmbedding, -1, {c.vocab_size, c.hidden_size});
  for (std::int64_t i = 0; i < c.num_hidden_layers; ++i) {
    add(TensorRole::kAttnNorm, i, {c.hidden_size});
    add(TensorRole::kWq, i, {q, c.hidden_size});
    add(TensorRole::kWk, i, {kv, c.hidden_size});
    add(TensorRole::kWv, i, {kv, c.hidden_size});
    if (c.attention_bias) {
      add(TensorRole::kBq, i, {q});
      add(TensorRole::kBk, i, {kv});
      add(TensorRole::kBv, i, {kv});
    }
    add(TensorRole::kWo, i, {c.hidden_size, q});
    add(TensorRole::kFfnNorm, i, {c.hidden_size});
    add(TensorRole::kWGate, i, {c.intermediate_size, c.hidden_size});
    add(TensorRole::kWUp, i, {c.intermediate_size, c.hidden_size});
    add(TensorRole::kWDown, i, {c.hidden_size, c.intermediate_size});
  }
  add(TensorRole::kFinalNorm, -1, {c.hidden_size});
  if (!c.tie_word_embeddings) add(TensorRole::kLmHead, -1, {c.vocab_size, c.hidden_size});
  return out;
}

}  // namespace cace
