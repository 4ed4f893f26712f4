// Host side of the CUDA backend: reads the weights where the loader put them in the device pool
// (BF16 matrices, F32 vectors), takes KV caches from a pool, owns the activation buffers and the
// cuBLAS handle, and turns every CUDA and cuBLAS error into an absl::Status. Parallel to
// lib/runtime/cpu_backend.cc: the same steps in the same order.
#include "cuda/cuda_backend.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cuda/runtime_kernels.h"

namespace cace {
namespace {

absl::Status CudaStatus(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("cuda backend: ", what, ": ", cudaGetErrorString(err)));
}

absl::Status CublasStatus(cublasStatus_t st, const char* what) {
  if (st == CUBLAS_STATUS_SUCCESS) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("cuda backend: ", what, ": ", cublasGetStatusString(st)));
}

#define CACE_RETURN_IF_ERROR(expr)               \
  do {                                           \
    if (absl::Status st_ = (expr); !st_.ok()) return st_; \
  } while (0)

// A device allocation that grows on demand and is freed with its owner.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { cudaFree(ptr_); }

  absl::Status Reserve(std::size_t bytes) {
    if (bytes <= bytes_) return absl::OkStatus();
    cudaFree(ptr_);
    ptr_ = nullptr;
    bytes_ = 0;
    CACE_RETURN_IF_ERROR(CudaStatus(cudaMalloc(&ptr_, bytes), "cudaMalloc"));
    bytes_ = bytes;
    return absl::OkStatus();
  }
  template <typename T>
  T* as() const { return static_cast<T*>(ptr_); }
  std::size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
};

// A BF16 matrix view as the GEMMs take it (a device pointer, row-major [out][in]).
const std::uint16_t* Bf16(const WeightMatrix& m) { return reinterpret_cast<const std::uint16_t*>(m.data); }

class CudaBackend final : public Backend {
 public:
  CudaBackend(std::shared_ptr<const ModelWeights> weights, const CudaBackendOptions& options)
      : weights_(std::move(weights)), device_(options.device), kv_owner_(options.kv_owner) {}
  ~CudaBackend() override {
    cudaSetDevice(device_);
    if (cublas_) cublasDestroy(cublas_);
    if (stream_) cudaStreamDestroy(stream_);
  }

  absl::Status Init() {
    CACE_RETURN_IF_ERROR(CudaStatus(cudaSetDevice(device_), "cudaSetDevice"));
    CACE_RETURN_IF_ERROR(CudaStatus(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate"));
    CACE_RETURN_IF_ERROR(CublasStatus(cublasCreate(&cublas_), "cublasCreate"));
    return CublasStatus(cublasSetStream(cublas_, stream_), "cublasSetStream");
  }

  std::string_view name() const override { return "cuda"; }
  const LlamaShape& shape() const override { return weights_->shape; }
  std::uint64_t weight_bytes() const override { return weights_->held_bytes; }

  absl::StatusOr<std::unique_ptr<KvCache>> NewSequence(std::int64_t capacity, MemoryPool* pool) override {
    const LlamaShape& s = shape();
    if (capacity <= 0 || capacity > s.max_positions) {
      return absl::InvalidArgumentError(
          absl::StrCat("cuda backend: sequence capacity ", capacity, " is not in 1..", s.max_positions));
    }
    const KvLayout layout{s.n_layers, capacity, s.kv_dim()};
    std::unique_ptr<KvCache> cache;
    if (pool != nullptr) {
      auto made = KvCache::FromPool(pool, MemoryKind::kDevice, layout, kv_owner_);
      if (!made.ok()) return made.status();
      cache = *std::move(made);
    } else {
      CACE_RETURN_IF_ERROR(CudaStatus(cudaSetDevice(device_), "cudaSetDevice"));
      void* base = nullptr;
      CACE_RETURN_IF_ERROR(CudaStatus(cudaMalloc(&base, layout.Bytes()), "cudaMalloc of a KV cache"));
      const int device = device_;
      cache = KvCache::FromBuffer(base, layout, [device](void* p) {
        cudaSetDevice(device);
        cudaFree(p);
      });
    }
    Adopt(*cache);
    return cache;
  }

  absl::Status Forward(std::span<const SequenceStep> steps, LogitsMode mode, std::vector<float>* logits) override;

 private:
  // y[n][rows] = x[n][cols] . W[rows][cols]^T with x converted to BF16 first.
  absl::Status Gemm(const std::uint16_t* w, std::int64_t rows, std::int64_t cols, const float* x, std::int64_t n,
                    float* y) {
    CACE_RETURN_IF_ERROR(CudaStatus(cuda::ToBf16(x, n * cols, x_bf16_.as<std::uint16_t>(), stream_), "ToBf16"));
    const float alpha = 1.0f, beta = 0.0f;
    // Column-major view: W is [cols x rows] (lda = cols), x is [cols x n]; C = W^T x is [rows x n].
    return CublasStatus(cublasGemmEx(cublas_, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(rows), static_cast<int>(n),
                                     static_cast<int>(cols), &alpha, w, CUDA_R_16BF, static_cast<int>(cols),
                                     x_bf16_.as<std::uint16_t>(), CUDA_R_16BF, static_cast<int>(cols), &beta, y,
                                     CUDA_R_32F, static_cast<int>(rows), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                        "cublasGemmEx");
  }

  absl::Status Layer(const LayerWeights& l, int layer, int n);

  std::shared_ptr<const ModelWeights> weights_;
  int device_;
  std::string kv_owner_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  // Activations, sized for the largest batch seen (n tokens).
  DeviceBuffer tokens_, slots_, rows_, x_, xb_, xb2_, q_, k_, v_, att_, hb_, hb2_, x_bf16_, logits_;
};

// The views are read at every pass, as the CPU backend does, so weights re-pointed after the pool
// moved them (ModelInstance::Rebind) are used from the next pass on.
absl::Status CudaBackend::Layer(const LayerWeights& l, int layer, int n) {
  const LlamaShape& s = shape();
  const int dim = static_cast<int>(s.dim), q_dim = static_cast<int>(s.q_dim()), kv_dim = static_cast<int>(s.kv_dim());
  const int ffn = static_cast<int>(s.ffn_dim), hd = static_cast<int>(s.head_dim);
  const auto* slots = slots_.as<cuda::TokenSlot>();
  // Attention sub-layer.
  CACE_RETURN_IF_ERROR(CudaStatus(cuda::RmsNorm(x_.as<float>(), nullptr, l.attn_norm, n, dim, s.rms_eps, xb_.as<float>(), stream_), "RmsNorm"));
  CACE_RETURN_IF_ERROR(Gemm(Bf16(l.wq), q_dim, dim, xb_.as<float>(), n, q_.as<float>()));
  CACE_RETURN_IF_ERROR(Gemm(Bf16(l.wk), kv_dim, dim, xb_.as<float>(), n, k_.as<float>()));
  CACE_RETURN_IF_ERROR(Gemm(Bf16(l.wv), kv_dim, dim, xb_.as<float>(), n, v_.as<float>()));
  CACE_RETURN_IF_ERROR(CudaStatus(cuda::AddBias(q_.as<float>(), l.bq, n, q_dim, stream_), "AddBias"));
  CACE_RETURN_IF_ERROR(CudaStatus(cuda::AddBias(k_.as<float>(), l.bk, n, kv_dim, stream_), "AddBias"));
  CACE_RETURN_IF_ERROR(CudaStatus(cuda::AddBias(v_.as<float>(), l.bv, n, kv_dim, stream_), "AddBias"));
  CACE_RETURN_IF_ERROR(CudaStatus(cuda::Rope(q_.as<float>(), k_.as<float>(), slots, n, static_cast<int>(s.n_heads),
                                             static_cast<int>(s.n_kv_heads), hd, s.rope_theta,
                                             static_cast<int>(s.rope_style), stream_), "Rope"));
  CACE_RETURN_IF_ERROR(CudaStatus(cuda::StoreKv(k_.as<float>(), v_.as<float>(), slots, n, layer, kv_dim, stream_), "StoreKv"));
  CACE_RETURN_IF_ERROR(CudaStatus(cuda::Attention(q_.as<float>(), slots, n, layer, static_cast<int>(s.n_heads),
                                                  static_cast<int>(s.n_kv_heads), hd, att_.as<float>(), stream_), "Attention"));
  CACE_RETURN_IF_ERROR(Gemm(Bf16(l.wo), dim, q_dim, att_.as<float>(), n, xb2_.as<float>()));
  CACE_RETURN_IF_ERROR(CudaStatus(cuda::Add(x_.as<float>(), xb2_.as<float>(), std::int64_t{n} * dim, stream_), "Add"));
  // MLP sub-layer.
  CACE_RETURN_IF_ERROR(CudaStatus(cuda::RmsNorm(x_.as<float>(), nullptr, l.ffn_norm, n, dim, s.rms_eps, xb_.as<float>(), stream_), "RmsNorm"));
  CACE_RETURN_IF_ERROR(Gemm(Bf16(l.w_gate), ffn, dim, xb_.as<float>(), n, hb_.as<float>()));
  CACE_RETURN_IF_ERROR(Gemm(Bf16(l.w_up), ffn, dim, xb_.as<float>(), n, hb2_.as<float>()));
  CACE_RETURN_IF_ERROR(CudaStatus(cuda::SiluMul(hb_.as<float>(), hb2_.as<float>(), std::int64_t{n} * ffn, stream_), "SiluMul"));
  CACE_RETURN_IF_ERROR(Gemm(Bf16(l.w_down), dim, ffn, hb_.as<float>(), n, xb2_.as<float>()));
  return CudaStatus(cuda::Add(x_.as<float>(), xb2_.as<float>(), std::int64_t{n} * dim, stream_), "Add");
}

absl::Status CudaBackend::Forward(std::span<const SequenceStep> steps, LogitsMode mode, std::vector<float>* logits) {
  CACE_RETURN_IF_ERROR(ValidateSteps(shape(), this, steps));
  for (const SequenceStep& step : steps) CACE_RETURN_IF_ERROR(step.cache->Refresh());
  CACE_RETURN_IF_ERROR(CudaStatus(cudaSetDevice(device_), "cudaSetDevice"));
  const LlamaShape& s = shape();
  const std::int64_t n = TotalTokens(steps);

  // Per-token inputs (ids, cache slots) and the rows that produce logits.
  std::vector<std::int32_t> tokens, rows;
  std::vector<cuda::TokenSlot> slots;
  for (const SequenceStep& step : steps) {
    for (std::size_t i = 0; i < step.tokens.size(); ++i) {
      if (mode == LogitsMode::kAll || i + 1 == step.tokens.size()) rows.push_back(static_cast<std::int32_t>(tokens.size()));
      tokens.push_back(step.tokens[i]);
      slots.push_back({step.cache->keys(0), step.cache->capacity(),
                       static_cast<std::int32_t>(step.cache->length() + static_cast<std::int64_t>(i))});
    }
  }
  const std::size_t un = static_cast<std::size_t>(n), f = sizeof(float);
  const std::size_t widest = static_cast<std::size_t>(std::max({s.dim, s.q_dim(), s.ffn_dim}));
  CACE_RETURN_IF_ERROR(tokens_.Reserve(un * 4));
  CACE_RETURN_IF_ERROR(slots_.Reserve(un * sizeof(cuda::TokenSlot)));
  CACE_RETURN_IF_ERROR(rows_.Reserve(un * 4));
  for (auto [buf, width] : {std::pair{&x_, s.dim}, {&xb_, s.dim}, {&xb2_, s.dim}, {&q_, s.q_dim()}, {&k_, s.kv_dim()},
                            {&v_, s.kv_dim()}, {&att_, s.q_dim()}, {&hb_, s.ffn_dim}, {&hb2_, s.ffn_dim}}) {
    CACE_RETURN_IF_ERROR(buf->Reserve(un * static_cast<std::size_t>(width) * f));
  }
  CACE_RETURN_IF_ERROR(x_bf16_.Reserve(un * widest * 2));
  CACE_RETURN_IF_ERROR(logits_.Reserve(rows.size() * static_cast<std::size_t>(s.vocab_size) * f));
  std::uint64_t workspace = 0;
  for (const DeviceBuffer* buf : {&tokens_, &slots_, &rows_, &x_, &xb_, &xb2_, &q_, &k_, &v_, &att_, &hb_, &hb2_,
                                  &x_bf16_, &logits_}) {
    workspace += buf->bytes();
  }
  set_workspace_bytes(workspace);
  CACE_RETURN_IF_ERROR(CudaStatus(cudaMemcpyAsync(tokens_.as<void>(), tokens.data(), un * 4, cudaMemcpyHostToDevice, stream_), "copy of tokens"));
  CACE_RETURN_IF_ERROR(CudaStatus(cudaMemcpyAsync(slots_.as<void>(), slots.data(), un * sizeof(cuda::TokenSlot), cudaMemcpyHostToDevice, stream_), "copy of slots"));
  CACE_RETURN_IF_ERROR(CudaStatus(cudaMemcpyAsync(rows_.as<void>(), rows.data(), rows.size() * 4, cudaMemcpyHostToDevice, stream_), "copy of rows"));

  const int dim = static_cast<int>(s.dim);
  CACE_RETURN_IF_ERROR(CudaStatus(cuda::Embedding(Bf16(weights_->embedding), tokens_.as<std::int32_t>(), static_cast<int>(n), dim, x_.as<float>(), stream_), "Embedding"));
  for (std::size_t l = 0; l < weights_->layers.size(); ++l) {
    CACE_RETURN_IF_ERROR(Layer(weights_->layers[l], static_cast<int>(l), static_cast<int>(n)));
  }
  const int n_out = static_cast<int>(rows.size());
  CACE_RETURN_IF_ERROR(CudaStatus(cuda::RmsNorm(x_.as<float>(), rows_.as<std::int32_t>(), weights_->final_norm, n_out, dim, s.rms_eps, xb_.as<float>(), stream_), "RmsNorm"));
  CACE_RETURN_IF_ERROR(Gemm(Bf16(weights_->lm_head), s.vocab_size, s.dim, xb_.as<float>(), n_out, logits_.as<float>()));
  logits->resize(rows.size() * static_cast<std::size_t>(s.vocab_size));
  CACE_RETURN_IF_ERROR(CudaStatus(cudaMemcpyAsync(logits->data(), logits_.as<void>(), logits->size() * f, cudaMemcpyDeviceToHost, stream_), "copy of logits"));
  CACE_RETURN_IF_ERROR(CudaStatus(cudaStreamSynchronize(stream_), "forward"));
  for (const SequenceStep& step : steps) step.cache->Advance(static_cast<std::int64_t>(step.tokens.size()));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Backend>> CreateCudaBackend(std::shared_ptr<const ModelWeights> weights,
                                                           CudaBackendOptions options) {
  if (weights == nullptr) return absl::InvalidArgumentError("cuda backend: no weights given");
  CACE_RETURN_IF_ERROR(ValidateWeights(*weights));
  if (weights->memory != MemoryKind::kDevice) {
    return absl::InvalidArgumentError("cuda backend: the weights are in host memory; load them into a device pool");
  }
  for (const WeightMatrix* m : {&weights->embedding, &weights->lm_head}) {
    if (m->dtype != DType::kBF16) return absl::InvalidArgumentError("cuda backend: matrices must be stored as BF16");
  }
  for (const LayerWeights& l : weights->layers) {
    for (const WeightMatrix* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) {
      if (m->dtype != DType::kBF16) return absl::InvalidArgumentError("cuda backend: matrices must be stored as BF16");
    }
  }
  int count = 0;
  if (cudaError_t err = cudaGetDeviceCount(&count); err != cudaSuccess || count == 0) {
    return absl::UnavailableError(absl::StrCat("cuda backend: no CUDA device (",
                                               err == cudaSuccess ? "none found" : cudaGetErrorString(err), ")"));
  }
  if (options.device < 0 || options.device >= count) {
    return absl::InvalidArgumentError(absl::StrCat("cuda backend: device ", options.device, " of ", count));
  }
  if (weights->shape.head_dim > 256) {
    return absl::InvalidArgumentError("cuda backend: head_dim above 256 is not supported by the attention kernel");
  }
  auto backend = std::make_unique<CudaBackend>(std::move(weights), options);
  CACE_RETURN_IF_ERROR(backend->Init());
  return std::unique_ptr<Backend>(std::move(backend));
}

}  // namespace cace
