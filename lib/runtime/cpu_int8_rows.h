// What the int8 row products (GemmRowsInt8 for Q8_0, GemmRowsQ4_KInt8 for Q4_K) share: rows read
// as stored, four rows a quarter of the range apart side by side (four memory streams, prefetched
// a few rows ahead where that helps: cpu_features.h), each row once per block of tokens whose
// activations stay in L2, meeting a register tile of tokens there. Each kernel brings its own tile
// function per vector set.
#ifndef CACE_LIB_RUNTIME_CPU_INT8_ROWS_H_
#define CACE_LIB_RUNTIME_CPU_INT8_ROWS_H_

#include <cstdint>

#include "lib/runtime/cpu_gemm_int8.h"
#include "lib/runtime/model_weights.h"

namespace cace {

// One register tile: up to four weight rows (the missing ones repeat the first) times `tokens`
// consecutive tokens of x; y[i * ldy + j * row_step] gets the product of row j with token i.
struct Int8RowTile {
  const std::uint8_t* rows[4];
  int valid;
  const Int8Activations* x;
  std::int64_t token;
  int tokens;
  float* y;
  std::int64_t ldy;
  std::int64_t row_step;
};

using Int8RowTileFn = void (*)(const Int8RowTile&);

// The tile's sums[i][j] (token i, row j) into y, the valid rows only.
void StoreInt8RowTile(const Int8RowTile& t, const float sums[][4]);

// y[t * ldy + r] for r in [row_begin, row_end) and every token of x: rows in four streams, token
// tiles of up to tile_tokens, each computed by tile.
void DriveInt8Rows(const WeightMatrix& w, const Int8Activations& x, float* y, std::int64_t ldy, std::int64_t row_begin,
                   std::int64_t row_end, int tile_tokens, Int8RowTileFn tile);

}  // namespace cace

#endif  // CACE_LIB_RUNTIME_CPU_INT8_ROWS_H_
