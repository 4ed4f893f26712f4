// The CPU backend: the Llama forward pass in F32 over weights of any directly read type,
// multi-threaded over matrix rows and attention heads.
#ifndef CACE_LIB_RUNTIME_CPU_BACKEND_H_
#define CACE_LIB_RUNTIME_CPU_BACKEND_H_

#include <memory>
#include <string>
#include <vector>

#include "lib/runtime/aligned_vector.h"
#include "lib/runtime/cpu_attention.h"
#include "lib/runtime/backend.h"
#include "lib/runtime/cpu_features.h"
#include "lib/runtime/cpu_matmul.h"
#include "lib/runtime/model_weights.h"
#include "lib/runtime/thread_pool.h"

namespace cace {

struct CpuBackendOptions {
  int threads = 0;  // 0: one per hardware thread
  // Prefill products through OpenBLAS sgemm where cace was built with it. Off: the own kernels
  // are faster wherever measured (benchmarks/decode_bench.cc, BM_Prefill), and a BLAS library's
  // speed hangs on its guess of the processor (Debian's OpenBLAS 0.3.21 takes a recent Xeon for
  // an SSE3 machine).
  bool use_blas = false;
  // Q8_0 matrices multiply activations quantized to int8 in blocks of 32, as llama.cpp does
  // (cpu_gemm_int8.h): integer dot products in decode (2.2x the F32 kernel's speed for one token
  // in cpu_gemm_bench), at the price of rounding each activation by up to 1/254 of its block's
  // largest. Off: F32 activations, the arithmetic of the plain reference (DotRow).
  bool int8_activations = true;
  std::string kv_owner = "kv:cpu";  // pool tag of the KV caches NewSequence takes from a pool
};

// One Forward at a time (it reuses its activation buffers).
class CpuBackend final : public Backend {
 public:
  // Validates the weights (host memory); they stay shared with the caller (a registry may hold them too).
  static absl::StatusOr<std::unique_ptr<CpuBackend>> Create(std::shared_ptr<const ModelWeights> weights,
                                                            CpuBackendOptions options = {});

  std::string_view name() const override { return "cpu"; }
  const LlamaShape& shape() const override { return weights_->shape; }
  absl::StatusOr<std::unique_ptr<KvCache>> NewSequence(std::int64_t capacity, MemoryPool* pool) override;
  absl::Status Forward(std::span<const SequenceStep> steps, LogitsMode mode, std::vector<float>* logits) override;
  std::uint64_t weight_bytes() const override { return weights_->held_bytes; }

 private:
  CpuBackend(std::shared_ptr<const ModelWeights> weights, const CpuBackendOptions& options);

  void AttentionLayer(const LayerWeights& layer, std::int64_t layer_index, std::int64_t n);
  // Attention of the batch's decode tokens (decode_spans_) in layer l, scores scaled by scale, into att_.
  void DecodeAttention(std::int64_t l, float scale);
  void MlpLayer(const LayerWeights& layer, std::int64_t n);

  // Consecutive tokens of one step of several tokens (the batch's tokens first_token..+n_tokens)
  // and one query head.
  struct AttentionBlock {
    std::int64_t first_token;
    std::int64_t n_tokens;
    std::int64_t head;
  };
  // A step of one token (the batch's token `token`) over its cached positions [begin, end), the
  // query heads of key/value heads [kv_begin, kv_end).
  struct DecodeSpan {
    std::int64_t token;
    std::int64_t begin;
    std::int64_t end;
    std::int64_t kv_begin;
    std::int64_t kv_end;
  };

  std::shared_ptr<const ModelWeights> weights_;
  std::string kv_owner_;
  ThreadPool pool_;
  CpuMatmul matmul_;
  CpuIsa isa_;
  std::vector<AlignedVector<float>> attention_scratch_;  // scores, one buffer per pool thread
  std::vector<AttentionBlock> attention_blocks_;         // of the current batch
  std::vector<DecodeSpan> decode_spans_;                 // of the current batch, a token's in a row
  std::vector<DecodeChunk> decode_chunks_;               // decode_spans_ in the layer at hand
  // Per decode span: the partial softmax of every query head (DecodeChunk's out, max and sum).
  AlignedVector<float> decode_parts_;

  // Per-token bookkeeping of the current batch: which cache, which position.
  std::vector<KvCache*> token_cache_;
  std::vector<std::int64_t> token_pos_;
  std::vector<float> rope_cos_;  // [n][head_dim / 2] rotary table of each token's position
  std::vector<float> rope_sin_;  // [n][head_dim / 2]
  // Activations of the current batch, n = tokens in the batch.
  AlignedVector<float> x_;    // [n][dim]     residual stream
  AlignedVector<float> xb_;   // [n][dim]     normalised input of a sub-layer
  AlignedVector<float> xb2_;  // [n][dim]     output of a sub-layer, before the residual add
  AlignedVector<float> q_;    // [n][q_dim]   queries
  AlignedVector<float> k_;    // [n][kv_dim]  keys of the new tokens
  AlignedVector<float> v_;    // [n][kv_dim]  values of the new tokens
  AlignedVector<float> att_;  // [n][q_dim]   attention output per head
  AlignedVector<float> hb_;   // [n][ffn_dim] gate, then silu(gate) * up
  AlignedVector<float> hb2_;  // [n][ffn_dim] up
};

}  // namespace cace

#endif  // CACE_LIB_RUNTIME_CPU_BACKEND_H_
