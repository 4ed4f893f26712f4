#include "lib/runtime/cpu_backend.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "lib/runtime/cpu_attention.h"
#include "lib/runtime/cpu_features.h"
#include "lib/runtime/kernels_math.h"

namespace cace {
namespace {

// Positions a decode token's attention is cut into spans of, at least: a span's fixed work (its
// calls, its share of the merge) stays small beside its positions.
constexpr std::int64_t kMinDecodeSpan = 64;

// kmath::SiluMulRow over all rows at once, in AVX2 where the processor has it.
CACE_CPU_CLONES void SiluMulRows(float* gate, const float* up, std::int64_t n) {
  kmath::SiluMulRow(gate, up, static_cast<int>(n));
}

void AddBias(float* y, const float* bias, std::int64_t n_tokens, std::int64_t width) {
  if (bias == nullptr) return;
  for (std::int64_t t = 0; t < n_tokens; ++t) kmath::AddRow(y + t * width, bias, static_cast<int>(width));
}

}  // namespace

CpuBackend::CpuBackend(std::shared_ptr<const ModelWeights> weights, const CpuBackendOptions& options)
    : weights_(std::move(weights)),
      kv_owner_(options.kv_owner),
      pool_(options.threads),
      matmul_(&pool_, options.use_blas, options.int8_activations),
      isa_(DetectedCpuIsa()),
      attention_scratch_(static_cast<std::size_t>(pool_.size())) {}

absl::StatusOr<std::unique_ptr<CpuBackend>> CpuBackend::Create(std::shared_ptr<const ModelWeights> weights,
                                                               CpuBackendOptions options) {
  if (weights == nullptr) return absl::InvalidArgumentError("cpu backend: no weights given");
  if (absl::Status st = ValidateWeights(*weights); !st.ok()) return st;
  if (weights->memory != MemoryKind::kHost) {
    return absl::InvalidArgumentError("cpu backend: the weights are in device memory; load them into a host pool");
  }
  return std::unique_ptr<CpuBackend>(new CpuBackend(std::move(weights), options));
}

absl::StatusOr<std::unique_ptr<KvCache>> CpuBackend::NewSequence(std::int64_t capacity, MemoryPool* pool) {
  const LlamaShape& s = shape();
  if (capacity <= 0 || capacity > s.max_positions) {
    return absl::InvalidArgumentError(
        absl::StrCat("cpu backend: sequence capacity ", capacity, " is not in 1..", s.max_positions));
  }
  const KvLayout layout{s.n_layers, capacity, s.kv_dim()};
  std::unique_ptr<KvCache> cache;
  if (pool != nullptr) {
    absl::StatusOr<std::unique_ptr<KvCache>> made = KvCache::FromPool(pool, MemoryKind::kHost, layout, kv_owner_);
    if (!made.ok()) return made.status();
    cache = *std::move(made);
  } else {
    void* base = std::calloc(layout.Bytes() / sizeof(float), sizeof(float));
    if (base == nullptr) {
      return absl::ResourceExhaustedError(absl::StrCat("cpu backend: cannot allocate ", layout.Bytes(), " bytes of KV cache"));
    }
    cache = KvCache::FromBuffer(base, layout, [](void* p) { std::free(p); });
  }
  Adopt(*cache);
  return cache;
}

absl::Status CpuBackend::Forward(std::span<const SequenceStep> steps, LogitsMode mode, std::vector<float>* logits) {
  if (absl::Status st = ValidateSteps(shape(), this, steps); !st.ok()) return st;
  for (const SequenceStep& step : steps) {
    if (absl::Status st = step.cache->Refresh(); !st.ok()) return st;
  }
  const ModelWeights& w = *weights_;
  const LlamaShape& s = w.shape;
  const std::int64_t n = TotalTokens(steps);
  const auto sz = [](std::int64_t a, std::int64_t b) { return static_cast<std::size_t>(a * b); };
  x_.resize(sz(n, s.dim));
  xb_.resize(sz(n, s.dim));
  xb2_.resize(sz(n, s.dim));
  q_.resize(sz(n, s.q_dim()));
  k_.resize(sz(n, s.kv_dim()));
  v_.resize(sz(n, s.kv_dim()));
  att_.resize(sz(n, s.q_dim()));
  hb_.resize(sz(n, s.ffn_dim));
  hb2_.resize(sz(n, s.ffn_dim));
  token_cache_.clear();
  token_pos_.clear();
  attention_blocks_.clear();
  decode_spans_.clear();

  // Embedding: x[t] = embedding row of token t. Attention work: for a step of several tokens,
  // every block of up to kAttentionQueryBlock of them, for every query head; for a step of one,
  // spans of its positions and key/value heads (cpu_attention.h): as many as give the pool's
  // threads two each over the batch's decode steps (one alone), cut by positions while spans keep
  // kMinDecodeSpan of them, then by key/value heads.
  std::int64_t positions = 0;
  std::int64_t decode_steps = 0;
  for (const SequenceStep& step : steps) decode_steps += step.tokens.size() == 1 ? 1 : 0;
  const std::int64_t wanted =
      pool_.size() == 1 ? 1 : (2 * pool_.size() + decode_steps - 1) / std::max<std::int64_t>(1, decode_steps);
  for (const SequenceStep& step : steps) {
    const std::int64_t first = static_cast<std::int64_t>(token_cache_.size());
    const std::int64_t len = static_cast<std::int64_t>(step.tokens.size());
    if (len == 1) {
      const std::int64_t seen = step.cache->length() + 1;
      const std::int64_t by_position = std::clamp<std::int64_t>(seen / kMinDecodeSpan, 1, wanted);
      const std::int64_t by_head = std::clamp<std::int64_t>((wanted + by_position - 1) / by_position, 1, s.n_kv_heads);
      for (std::int64_t g = 0; g < by_head; ++g) {
        for (std::int64_t i = 0; i < by_position; ++i) {
          decode_spans_.push_back({first, seen * i / by_position, seen * (i + 1) / by_position, s.n_kv_heads * g / by_head,
                                   s.n_kv_heads * (g + 1) / by_head});
        }
      }
    } else {
      for (std::int64_t b = 0; b < len; b += kAttentionQueryBlock) {
        for (std::int64_t h = 0; h < s.n_heads; ++h) {
          attention_blocks_.push_back({first + b, std::min(kAttentionQueryBlock, len - b), h});
        }
      }
    }
    positions = std::max(positions, step.cache->length() + len);
    for (std::size_t i = 0; i < step.tokens.size(); ++i) {
      const std::int64_t t = static_cast<std::int64_t>(token_cache_.size());
      DequantizeRow(w.embedding, step.tokens[i], x_.data() + t * s.dim);
      token_cache_.push_back(step.cache);
      token_pos_.push_back(step.cache->length() + static_cast<std::int64_t>(i));
    }
  }

  const std::size_t scratch_floats =
      std::max(AttentionScratchFloats(positions), DecodeChunkScratchFloats(positions, s.n_heads));
  for (AlignedVector<float>& scratch : attention_scratch_) scratch.resize(scratch_floats);
  decode_parts_.resize(decode_spans_.size() * static_cast<std::size_t>(s.n_heads * (s.head_dim + 2)));

  // Rotary cos/sin of each token's position, the same in every layer and head.
  const std::int64_t half = s.head_dim / 2;
  rope_cos_.resize(sz(n, half));
  rope_sin_.resize(sz(n, half));
  for (std::int64_t i = 0; i < n; ++i) {
    kmath::RopeTable(static_cast<int>(token_pos_[static_cast<std::size_t>(i)]), static_cast<int>(s.head_dim),
                     s.rope_theta, rope_cos_.data() + i * half, rope_sin_.data() + i * half);
  }

  for (std::int64_t l = 0; l < s.n_layers; ++l) {
    AttentionLayer(w.layers[static_cast<std::size_t>(l)], l, n);
    MlpLayer(w.layers[static_cast<std::size_t>(l)], n);
  }

  // Which rows of the residual stream produce logits.
  std::vector<std::int64_t> rows;
  std::int64_t t = 0;
  for (const SequenceStep& step : steps) {
    const std::int64_t len = static_cast<std::int64_t>(step.tokens.size());
    if (mode == LogitsMode::kAll) {
      for (std::int64_t i = 0; i < len; ++i) rows.push_back(t + i);
    } else {
      rows.push_back(t + len - 1);
    }
    t += len;
  }
  const std::int64_t n_out = static_cast<std::int64_t>(rows.size());
  for (std::int64_t i = 0; i < n_out; ++i) {
    kmath::RmsNormRow(x_.data() + rows[static_cast<std::size_t>(i)] * s.dim, w.final_norm, static_cast<int>(s.dim),
                      s.rms_eps, xb_.data() + i * s.dim);
  }
  logits->resize(sz(n_out, s.vocab_size));
  matmul_.Multiply(w.lm_head, xb_.data(), n_out, logits->data());

  for (const SequenceStep& step : steps) step.cache->Advance(static_cast<std::int64_t>(step.tokens.size()));

  // What the buffers hold now that this batch sized them (they keep their largest size).
  std::uint64_t workspace = matmul_.ScratchBytes();
  for (const AlignedVector<float>* buffer : {&x_, &xb_, &xb2_, &q_, &k_, &v_, &att_, &hb_, &hb2_, &decode_parts_}) {
    workspace += buffer->capacity() * sizeof(float);
  }
  for (const AlignedVector<float>& scratch : attention_scratch_) workspace += scratch.capacity() * sizeof(float);
  set_workspace_bytes(workspace);
  return absl::OkStatus();
}

void CpuBackend::AttentionLayer(const LayerWeights& layer, std::int64_t l, std::int64_t n) {
  const LlamaShape& s = shape();
  const int dim = static_cast<int>(s.dim);
  const int hd = static_cast<int>(s.head_dim);
  const std::int64_t q_dim = s.q_dim();
  const std::int64_t kv_dim = s.kv_dim();

  for (std::int64_t t = 0; t < n; ++t) {
    kmath::RmsNormRow(x_.data() + t * dim, layer.attn_norm, dim, s.rms_eps, xb_.data() + t * dim);
  }
  const MatmulOutput qkv[] = {{&layer.wq, q_.data()}, {&layer.wk, k_.data()}, {&layer.wv, v_.data()}};
  matmul_.MultiplyShared(qkv, xb_.data(), n);
  AddBias(q_.data(), layer.bq, n, q_dim);
  AddBias(k_.data(), layer.bk, n, kv_dim);
  AddBias(v_.data(), layer.bv, n, kv_dim);

  // Rotate queries and keys by their positions, then store keys and values in the caches.
  for (std::int64_t t = 0; t < n; ++t) {
    const std::int64_t pos = token_pos_[static_cast<std::size_t>(t)];
    const float* cos_v = rope_cos_.data() + t * (hd / 2);
    const float* sin_v = rope_sin_.data() + t * (hd / 2);
    for (std::int64_t h = 0; h < s.n_heads; ++h) {
      kmath::RopeHead(q_.data() + t * q_dim + h * hd, hd, cos_v, sin_v, s.rope_style);
    }
    for (std::int64_t h = 0; h < s.n_kv_heads; ++h) {
      kmath::RopeHead(k_.data() + t * kv_dim + h * hd, hd, cos_v, sin_v, s.rope_style);
    }
    KvCache* cache = token_cache_[static_cast<std::size_t>(t)];
    std::memcpy(cache->keys(l) + pos * kv_dim, k_.data() + t * kv_dim, sizeof(float) * static_cast<std::size_t>(kv_dim));
    std::memcpy(cache->values(l) + pos * kv_dim, v_.data() + t * kv_dim, sizeof(float) * static_cast<std::size_t>(kv_dim));
  }

  // Causal attention of each block of a step's tokens and query head over positions 0..pos of its
  // own sequence; query head h reads key/value head h / (n_heads / n_kv_heads).
  const std::int64_t group = s.n_heads / s.n_kv_heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  pool_.ParallelFor(static_cast<std::int64_t>(attention_blocks_.size()), [&](std::int64_t begin, std::int64_t end,
                                                                             int thread) {
    for (std::int64_t i = begin; i < end; ++i) {
      const AttentionBlock& block = attention_blocks_[static_cast<std::size_t>(i)];
      const std::int64_t kv_off = (block.head / group) * hd;
      const KvCache* cache = token_cache_[static_cast<std::size_t>(block.first_token)];
      AttentionRun run;
      run.q = q_.data() + block.first_token * q_dim + block.head * hd;
      run.q_stride = q_dim;
      run.keys = cache->keys(l) + kv_off;
      run.values = cache->values(l) + kv_off;
      run.kv_stride = kv_dim;
      run.first_pos = token_pos_[static_cast<std::size_t>(block.first_token)];
      run.n_tokens = block.n_tokens;
      run.out = att_.data() + block.first_token * q_dim + block.head * hd;
      run.out_stride = q_dim;
      AttendRun(isa_, run, hd, scale, attention_scratch_[static_cast<std::size_t>(thread)].data());
    }
  });
  DecodeAttention(l, scale);

  matmul_.Multiply(layer.wo, att_.data(), n, xb2_.data());
  for (std::int64_t t = 0; t < n; ++t) kmath::AddRow(x_.data() + t * dim, xb2_.data() + t * dim, dim);
}

void CpuBackend::DecodeAttention(std::int64_t l, float scale) {
  if (decode_spans_.empty()) return;
  const LlamaShape& s = shape();
  const int hd = static_cast<int>(s.head_dim);
  const AttentionHeads heads{s.n_heads, s.n_kv_heads, hd, scale};
  const std::int64_t part_floats = s.n_heads * (hd + 2);
  decode_chunks_.clear();
  for (std::size_t i = 0; i < decode_spans_.size(); ++i) {
    const DecodeSpan& span = decode_spans_[i];
    const KvCache* cache = token_cache_[static_cast<std::size_t>(span.token)];
    float* part = decode_parts_.data() + static_cast<std::int64_t>(i) * part_floats;
    decode_chunks_.push_back({q_.data() + span.token * s.q_dim(), cache->keys(l), cache->values(l), s.kv_dim(),
                              span.begin, span.end, span.kv_begin, span.kv_end, part, part + s.n_heads * hd,
                              part + s.n_heads * (hd + 1)});
  }
  pool_.ParallelFor(static_cast<std::int64_t>(decode_chunks_.size()), [&](std::int64_t begin, std::int64_t end, int thread) {
    for (std::int64_t i = begin; i < end; ++i) {
      AttendDecodeChunk(isa_, decode_chunks_[static_cast<std::size_t>(i)], heads,
                        attention_scratch_[static_cast<std::size_t>(thread)].data());
    }
  });
  // A token's spans lie in a row.
  for (std::size_t i = 0; i < decode_spans_.size();) {
    std::size_t j = i + 1;
    while (j < decode_spans_.size() && decode_spans_[j].token == decode_spans_[i].token) ++j;
    MergeDecodeChunks(std::span(decode_chunks_).subspan(i, j - i), heads, att_.data() + decode_spans_[i].token * s.q_dim());
    i = j;
  }
}

void CpuBackend::MlpLayer(const LayerWeights& layer, std::int64_t n) {
  const LlamaShape& s = shape();
  const int dim = static_cast<int>(s.dim);
  const int ffn = static_cast<int>(s.ffn_dim);
  for (std::int64_t t = 0; t < n; ++t) {
    kmath::RmsNormRow(x_.data() + t * dim, layer.ffn_norm, dim, s.rms_eps, xb_.data() + t * dim);
  }
  const MatmulOutput gate_up[] = {{&layer.w_gate, hb_.data()}, {&layer.w_up, hb2_.data()}};
  matmul_.MultiplyShared(gate_up, xb_.data(), n);
  SiluMulRows(hb_.data(), hb2_.data(), n * ffn);
  matmul_.Multiply(layer.w_down, hb_.data(), n, xb2_.data());
  for (std::int64_t t = 0; t < n; ++t) kmath::AddRow(x_.data() + t * dim, xb2_.data() + t * dim, dim);
}

}  // namespace cace
