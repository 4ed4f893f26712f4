#include "lib/loader/tensor_names.h"

#include "fmt/format.h"

namespace cace {

std::vector<ExpectedTensor> ExpectedTensors(const ModelConfig& c, TensorNaming naming) {
  const bool hf = naming == TensorNaming::kHuggingFace;
  const std::int64_t q = c.num_attention_heads * c.head_dim;
  const std::int64_t kv = c.num_key_value_heads * c.head_dim;
  std::vector<ExpectedTensor> out;
  auto matrix = [&](std::string name, std::int64_t rows, std::int64_t cols) {
    out.push_back(ExpectedTensor{std::move(name), {rows, cols}, true});
  };
  auto vector = [&](std::string name, std::int64_t n) { out.push_back(ExpectedTensor{std::move(name), {n}, false}); };

  matrix(hf ? "model.embed_tokens.weight" : "token_embd.weight", c.vocab_size, c.hidden_size);
  for (std::int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = hf ? fmt::format("model.layers.{}.", i) : fmt::format("blk.{}.", i);
    vector(p + (hf ? "input_layernorm.weight" : "attn_norm.weight"), c.hidden_size);
    matrix(p + (hf ? "self_attn.q_proj.weight" : "attn_q.weight"), q, c.hidden_size);
    matrix(p + (hf ? "self_attn.k_proj.weight" : "attn_k.weight"), kv, c.hidden_size);
    matrix(p + (hf ? "self_attn.v_proj.weight" : "attn_v.weight"), kv, c.hidden_size);
    if (c.attention_bias) {
      vector(p + (hf ? "self_attn.q_proj.bias" : "attn_q.bias"), q);
      vector(p + (hf ? "self_attn.k_proj.bias" : "attn_k.bias"), kv);
      vector(p + (hf ? "self_attn.v_proj.bias" : "attn_v.bias"), kv);
    }
    matrix(p + (hf ? "self_attn.o_proj.weight" : "attn_output.weight"), c.hidden_size, q);
    vector(p + (hf ? "post_attention_layernorm.weight" : "ffn_norm.weight"), c.hidden_size);
    matrix(p + (hf ? "mlp.gate_proj.weight" : "ffn_gate.weight"), c.intermediate_size, c.hidden_size);
    matrix(p + (hf ? "mlp.up_proj.weight" : "ffn_up.weight"), c.intermediate_size, c.hidden_size);
    matrix(p + (hf ? "mlp.down_proj.weight" : "ffn_down.weight"), c.hidden_size, c.intermediate_size);
  }
  vector(hf ? "model.norm.weight" : "output_norm.weight", c.hidden_size);
  if (!c.tie_word_embeddings) matrix(hf ? "lm_head.weight" : "output.weight", c.vocab_size, c.hidden_size);
  return out;
}

}  // namespace cace
