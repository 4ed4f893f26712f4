// The transformer kernels of the CUDA backend. Their arithmetic is the CACE_HD functions of
// lib/runtime/kernels_math.h, the same the CPU backend runs; these kernels only distribute it over
// threads.
#include "cuda/runtime_kernels.h"

#include "lib/runtime/kernels_math.h"

namespace cace::cuda {
namespace {

constexpr int kThreads = 256;

int Blocks(std::int64_t count) { return static_cast<int>((count + kThreads - 1) / kThreads); }

__global__ void EmbeddingKernel(const std::uint16_t* table, const std::int32_t* tokens, int n, int dim, float* x) {
  const std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (i >= static_cast<std::int64_t>(n) * dim) return;
  const std::int64_t t = i / dim, c = i % dim;
  x[i] = kmath::Bf16ToFloat(table[static_cast<std::int64_t>(tokens[t]) * dim + c]);
}

__global__ void RmsNormKernel(const float* x, const std::int32_t* rows, const float* weight, int dim, float eps,
                              float* out) {
  const std::int64_t r = blockIdx.x;
  const float* row = x + (rows ? rows[r] : r) * static_cast<std::int64_t>(dim);
  __shared__ float partial[kThreads];
  float ss = 0.0f;
  for (int i = threadIdx.x; i < dim; i += blockDim.x) ss += row[i] * row[i];
  partial[threadIdx.x] = ss;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) partial[threadIdx.x] += partial[threadIdx.x + stride];
    __syncthreads();
  }
  const float inv = kmath::RmsInvFromSumSquares(partial[0], dim, eps);
  for (int i = threadIdx.x; i < dim; i += blockDim.x) out[r * dim + i] = kmath::RmsNormElement(row[i], weight[i], inv);
}

__global__ void ToBf16Kernel(const float* x, std::int64_t count, std::uint16_t* out) {
  const std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (i < count) out[i] = quant::FloatToBf16(x[i]);
}

__global__ void AddBiasKernel(float* y, const float* bias, int n, int width) {
  const std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (i < static_cast<std::int64_t>(n) * width) y[i] += bias[i % width];
}

// One thread per (token, head of q or k, pair).
__global__ void RopeKernel(float* q, float* k, const TokenSlot* slots, int n, int n_heads, int n_kv_heads,
                           int head_dim, float theta, int style) {
  const int half = head_dim / 2;
  const int heads = n_heads + n_kv_heads;
  const std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (i >= static_cast<std::int64_t>(n) * heads * half) return;
  const int pair = static_cast<int>(i % half);
  const int head = static_cast<int>((i / half) % heads);
  const std::int64_t t = i / (static_cast<std::int64_t>(half) * heads);
  float* vec = head < n_heads ? q + (t * n_heads + head) * head_dim
                              : k + (t * n_kv_heads + (head - n_heads)) * head_dim;
  const float angle = kmath::RopeAngle(slots[t].pos, pair, head_dim, theta);
  int i0, i1;
  kmath::RopePairIndex(static_cast<kmath::RopeStyle>(style), pair, head_dim, &i0, &i1);
  kmath::RopeRotatePair(&vec[i0], &vec[i1], cosf(angle), sinf(angle));
}

__device__ float* LayerKeys(const TokenSlot& s, int layer, int kv_dim) {
  return s.kv_base + 2 * static_cast<std::int64_t>(layer) * s.capacity * kv_dim;
}

__global__ void StoreKvKernel(const float* k, const float* v, const TokenSlot* slots, int n, int layer, int kv_dim) {
  const std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (i >= static_cast<std::int64_t>(n) * kv_dim) return;
  const std::int64_t t = i / kv_dim, c = i % kv_dim;
  const TokenSlot s = slots[t];
  float* keys = LayerKeys(s, layer, kv_dim);
  float* values = keys + s.capacity * kv_dim;
  keys[static_cast<std::int64_t>(s.pos) * kv_dim + c] = k[i];
  values[static_cast<std::int64_t>(s.pos) * kv_dim + c] = v[i];
}

// One warp per (token, head); lane j holds dims j, j+32, ... of the running weighted sum.
constexpr int kMaxHeadDim = 256;
__global__ void AttentionKernel(const float* q, const TokenSlot* slots, int n, int layer, int n_heads, int n_kv_heads,
                                int head_dim, float* out) {
  const std::int64_t warp = (blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (warp >= static_cast<std::int64_t>(n) * n_heads) return;
  const std::int64_t t = warp / n_heads;
  const int h = static_cast<int>(warp % n_heads);
  const int kv_dim = n_kv_heads * head_dim;
  const int kv_off = (h / (n_heads / n_kv_heads)) * head_dim;
  const TokenSlot s = slots[t];
  const float* keys = LayerKeys(s, layer, kv_dim);
  const float* values = keys + s.capacity * kv_dim;
  const float* qh = q + (t * n_heads + h) * head_dim;
  const float scale = 1.0f / sqrtf(static_cast<float>(head_dim));
  float acc[kMaxHeadDim / 32];
  const int per_lane = (head_dim + 31) / 32;
  for (int j = 0; j < per_lane; ++j) acc[j] = 0.0f;
  kmath::SoftmaxState state = kmath::SoftmaxInit();
  for (int p = 0; p <= s.pos; ++p) {
    const float* kp = keys + static_cast<std::int64_t>(p) * kv_dim + kv_off;
    float dot = 0.0f;
    for (int d = lane; d < head_dim; d += 32) dot += qh[d] * kp[d];
    for (int o = 16; o > 0; o /= 2) dot += __shfl_xor_sync(0xFFFFFFFFu, dot, o);
    float weight;
    const float rescale = kmath::SoftmaxPush(&state, dot * scale, &weight);
    const float* vp = values + static_cast<std::int64_t>(p) * kv_dim + kv_off;
    for (int j = 0, d = lane; d < head_dim; ++j, d += 32) kmath::AttendAccumulate(&acc[j], &vp[d], 1, rescale, weight);
  }
  float* o = out + (t * n_heads + h) * head_dim;
  for (int j = 0, d = lane; d < head_dim; ++j, d += 32) {
    kmath::AttendFinish(&acc[j], 1, state);
    o[d] = acc[j];
  }
}

__global__ void SiluMulKernel(float* gate, const float* up, std::int64_t count) {
  const std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (i < count) kmath::SiluMulRow(&gate[i], &up[i], 1);
}

__global__ void AddKernel(float* x, const float* delta, std::int64_t count) {
  const std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (i < count) kmath::AddRow(&x[i], &delta[i], 1);
}

}  // namespace

cudaError_t Embedding(const std::uint16_t* table, const std::int32_t* tokens, int n, int dim, float* x,
                      cudaStream_t stream) {
  EmbeddingKernel<<<Blocks(static_cast<std::int64_t>(n) * dim), kThreads, 0, stream>>>(table, tokens, n, dim, x);
  return cudaGetLastError();
}

cudaError_t RmsNorm(const float* x, const std::int32_t* rows, const float* weight, int n_rows, int dim, float eps,
                    float* out, cudaStream_t stream) {
  RmsNormKernel<<<n_rows, kThreads, 0, stream>>>(x, rows, weight, dim, eps, out);
  return cudaGetLastError();
}

cudaError_t ToBf16(const float* x, std::int64_t count, std::uint16_t* out, cudaStream_t stream) {
  ToBf16Kernel<<<Blocks(count), kThreads, 0, stream>>>(x, count, out);
  return cudaGetLastError();
}

cudaError_t AddBias(float* y, const float* bias, int n, int width, cudaStream_t stream) {
  if (bias == nullptr) return cudaSuccess;
  AddBiasKernel<<<Blocks(static_cast<std::int64_t>(n) * width), kThreads, 0, stream>>>(y, bias, n, width);
  return cudaGetLastError();
}

cudaError_t Rope(float* q, float* k, const TokenSlot* slots, int n, int n_heads, int n_kv_heads, int head_dim,
                 float theta, int rope_style, cudaStream_t stream) {
  const std::int64_t count = static_cast<std::int64_t>(n) * (n_heads + n_kv_heads) * (head_dim / 2);
  RopeKernel<<<Blocks(count), kThreads, 0, stream>>>(q, k, slots, n, n_heads, n_kv_heads, head_dim, theta, rope_style);
  return cudaGetLastError();
}

cudaError_t StoreKv(const float* k, const float* v, const TokenSlot* slots, int n, int layer, int kv_dim,
                    cudaStream_t stream) {
  StoreKvKernel<<<Blocks(static_cast<std::int64_t>(n) * kv_dim), kThreads, 0, stream>>>(k, v, slots, n, layer, kv_dim);
  return cudaGetLastError();
}

cudaError_t Attention(const float* q, const TokenSlot* slots, int n, int layer, int n_heads, int n_kv_heads,
                      int head_dim, float* out, cudaStream_t stream) {
  if (head_dim > kMaxHeadDim) return cudaErrorInvalidValue;
  const std::int64_t threads = static_cast<std::int64_t>(n) * n_heads * 32;
  AttentionKernel<<<Blocks(threads), kThreads, 0, stream>>>(q, slots, n, layer, n_heads, n_kv_heads, head_dim, out);
  return cudaGetLastError();
}

cudaError_t SiluMul(float* gate, const float* up, std::int64_t count, cudaStream_t stream) {
  SiluMulKernel<<<Blocks(count), kThreads, 0, stream>>>(gate, up, count);
  return cudaGetLastError();
}

cudaError_t Add(float* x, const float* delta, std::int64_t count, cudaStream_t stream) {
  AddKernel<<<Blocks(count), kThreads, 0, stream>>>(x, delta, count);
  return cudaGetLastError();
}

}  // namespace cace::cuda
