// The CPU backend's matrix product over a range of weight rows: y[t][r] = dot(W row r, x[t]) for
// every token t, in F32 (the weights widened exactly, as DequantizeRow widens them). One kernel
// serves decode (one token, or a batch of sequences) and prefill (a whole prompt):
//  - up to 8 tokens (with AVX-512 F32 up to 16, F16 up to 32: cpu_gemm.cc says why): four rows
//    a quarter of the range apart are read as stored, side by side (four memory streams per
//    thread, each asked of memory a fixed distance ahead but F32's, as cpu_features.h says),
//    widened in registers, each row once per step;
//  - more: rows are widened into per-thread scratch 64 at a time (a panel in L2), once per block of
//    tokens whose activations stay in L2; each tile of tokens is loaded into L1 once per panel;
//  - decode's register tile is 6 tokens x 4 rows with AVX-512, 2 x 4 with AVX2: every weight
//    vector loaded feeds tile x 4 fused multiply-adds, and the four partial sums of a token are
//    reduced together at the end of the row;
//  - prefill's is 6 tokens x 64 rows with AVX-512, 6 x 16 with AVX2, the rows packed column by
//    column so that each activation is broadcast against a whole vector of rows (a 6 x 4 dot tile
//    would wait on L2 for its rows).
// The vector set is chosen per call (DetectedCpuIsa() in the backend; tests run every set the
// processor has). Sums are reordered against kmath's dot products, nothing else differs.
#ifndef CACE_LIB_RUNTIME_CPU_GEMM_H_
#define CACE_LIB_RUNTIME_CPU_GEMM_H_

#include <cstddef>
#include <cstdint>

#include "lib/runtime/cpu_features.h"
#include "lib/runtime/model_weights.h"

namespace cace {

// Rows a kernel call takes together; ranges given to GemmRows should start at multiples of it.
inline constexpr std::int64_t kGemmRowGroup = 4;

// Rows that the ranges of a GemmRows product of n_tokens tokens over rows of `dtype` should be cut
// into multiples of: a row group where rows are read as stored, a whole panel where they are
// widened into panels (a range cut short of a panel still costs a whole panel's products).
std::int64_t GemmRowsGranule(CpuIsa isa, DType dtype, std::int64_t n_tokens);

// Floats of scratch one GemmRows call needs for w (its widened row group).
std::size_t GemmScratchFloats(const WeightMatrix& w);

// y[t * ldy + r] = dot(row r of w, x + t * w.cols) for r in [row_begin, row_end) and t in
// [0, n_tokens). scratch: GemmScratchFloats(w) floats, not shared with a concurrent call.
void GemmRows(CpuIsa isa, const WeightMatrix& w, const float* x, std::int64_t n_tokens, float* y, std::int64_t ldy,
              std::int64_t row_begin, std::int64_t row_end, float* scratch);

// c[i * ldc + j] = dot(a + i * lda, b + j * ldb) over k floats, for i < n_a and j < n_b: the F32
// kernel of GemmRows on operands in place (attention scores: queries against cached keys). The rows
// of b, and in WeightedRowSums those of v, are asked of memory a few positions ahead (kv caches are
// read once per step, from memory).
void DotProducts(CpuIsa isa, const float* a, std::int64_t lda, std::int64_t n_a, const float* b, std::int64_t ldb,
                 std::int64_t n_b, int k, float* c, std::int64_t ldc);

// out[i * ldo + d] = sum over p < n_p of w[i * ldw + p] * v[p * ldv + d], for i < n_rows and
// d < n: rows of weights times a matrix (attention: softmax weights times cached values); with
// accumulate, added to what out holds (attention over a run of positions a block at a time).
void WeightedRowSums(CpuIsa isa, const float* w, std::int64_t ldw, std::int64_t n_rows, std::int64_t n_p,
                     const float* v, std::int64_t ldv, int n, float* out, std::int64_t ldo, bool accumulate);

// Row r of w as F32 with isa's vector code: the values DequantizeRow writes.
void WidenRow(CpuIsa isa, const WeightMatrix& w, std::int64_t r, float* out);

}  // namespace cace

#endif  // CACE_LIB_RUNTIME_CPU_GEMM_H_
