// Launchers of the transformer kernels of the CUDA backend. Plain C++ types only, so the host
// .cc that wraps them into the Backend interface never sees a kernel and the .cu never sees
// Abseil. Every launcher enqueues on `stream` and returns cudaGetLastError().
#ifndef CACE_CUDA_RUNTIME_KERNELS_H_
#define CACE_CUDA_RUNTIME_KERNELS_H_

#include <cstdint>

#include <cuda_runtime_api.h>

namespace cace::cuda {

// Where each token of a batch goes: its position and its sequence's KV cache.
struct TokenSlot {
  float* kv_base;        // the cache: keys(l) = kv_base + 2*l*capacity*kv_dim, values(l) after them
  std::int64_t capacity; // tokens the cache holds
  std::int32_t pos;      // position of this token in its sequence
};

// x[t][i] = bf16 embedding row tokens[t], widened.
cudaError_t Embedding(const std::uint16_t* table_bf16, const std::int32_t* tokens, int n, int dim, float* x,
                      cudaStream_t stream);
// out[r] = rmsnorm(x[rows[r]]) * weight; rows == nullptr means row r itself. One block per row.
cudaError_t RmsNorm(const float* x, const std::int32_t* rows, const float* weight, int n_rows, int dim, float eps,
                    float* out, cudaStream_t stream);
// F32 -> BF16 for the GEMM inputs.
cudaError_t ToBf16(const float* x, std::int64_t count, std::uint16_t* out, cudaStream_t stream);
// y[t][i] += bias[i] (bias == nullptr: nothing), for n rows of width.
cudaError_t AddBias(float* y, const float* bias, int n, int width, cudaStream_t stream);
// Rotates q [n][n_heads][head_dim] and k [n][n_kv_heads][head_dim] by each token's position.
cudaError_t Rope(float* q, float* k, const TokenSlot* slots, int n, int n_heads, int n_kv_heads, int head_dim,
                 float theta, int rope_style, cudaStream_t stream);
// Copies k and v [n][kv_dim] into each token's cache at its position, layer `layer`.
cudaError_t StoreKv(const float* k, const float* v, const TokenSlot* slots, int n, int layer, int kv_dim,
                    cudaStream_t stream);
// Causal attention of q [n][n_heads][head_dim] over each token's cache positions 0..pos of
// layer `layer`; out [n][n_heads][head_dim]. One warp per (token, head).
cudaError_t Attention(const float* q, const TokenSlot* slots, int n, int layer, int n_heads, int n_kv_heads,
                      int head_dim, float* out, cudaStream_t stream);
// gate[i] = silu(gate[i]) * up[i]
cudaError_t SiluMul(float* gate, const float* up, std::int64_t count, cudaStream_t stream);
// x[i] += delta[i]
cudaError_t Add(float* x, const float* delta, std::int64_t count, cudaStream_t stream);

}  // namespace cace::cuda

#endif  // CACE_CUDA_RUNTIME_KERNELS_H_
