// What the int8 row products (GemmRowsInt8 for Q8_0, GemmRowsQ4_KInt8 for Q4_K) share: rows read
// as stored, four rows a quarter of the range apart side by side (four memory streams, each asked
// of memory DecodePrefetchDistance() bytes ahead by the tile: cpu_features.h), each row once per
// block of tokens whose activations stay in L2, meeting a register tile of tokens there. Each
// kernel brings its own tile function per vector set.
#ifndef CACE_LIB_RUNTIME_CPU_INT8_ROWS_H_
#define CACE_LIB_RUNTIME_CPU_INT8_ROWS_H_

#include <algorithm>
#include <cstdint>

#include "lib/runtime/cpu_features.h"
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
  std::int64_t prefetch_distance;  // the tile asks for each row stream's bytes this far ahead; 0: none
};

// What a tile asks of memory as it reads a step of kLines x 64 bytes or so from byte `at` of each
// of its rows (PrefetchLines).
template <int kLines>
inline void PrefetchInt8RowTile(const Int8RowTile& t, std::int64_t at) {
  if (t.prefetch_distance == 0) return;
  for (const std::uint8_t* row : t.rows) {
    PrefetchLines<kLines>(reinterpret_cast<std::uintptr_t>(row) + static_cast<std::uintptr_t>(at + t.prefetch_distance));
  }
}

// The tile's sums[i][j] (token i, row j) into y, the valid rows only.
inline void StoreInt8RowTile(const Int8RowTile& t, const float sums[][4]) {
  for (int i = 0; i < t.tokens; ++i) {
    for (int j = 0; j < t.valid; ++j) t.y[i * t.ldy + j * t.row_step] = sums[i][j];
  }
}

// Activations of one token block stay within this many bytes (half the L2 of the core this was
// tuned on, as in cpu_gemm.cc): each weight row is read once per token block.
inline constexpr std::int64_t kInt8RowsTokenBlockBytes = 1024 * 1024;

// y[t * ldy + r] for r in [row_begin, row_end) and every token of x: rows in four streams, token
// tiles of up to tile_tokens, each computed by kTile. Always inlined, and called from a function
// of kTile's vector set, so that kTile is inlined into the loop over the rows (called through a
// pointer, a tile of four rows at a time, the driver and the store took about a tenth of the
// samples of SmolLM2's Q8_0 decode on one thread; inlined, that decode ran about 3 % faster).
template <void (*kTile)(const Int8RowTile&)>
[[gnu::always_inline]] inline void DriveInt8Rows(const WeightMatrix& w, const Int8Activations& x, float* y,
                                                 std::int64_t ldy, std::int64_t row_begin, std::int64_t row_end,
                                                 int tile_tokens) {
  const std::int64_t n_tokens = x.n_tokens();
  const std::int64_t block =
      std::max<std::int64_t>(tile_tokens, kInt8RowsTokenBlockBytes / x.TokenBytes() / tile_tokens * tile_tokens);
  const std::int64_t step = (row_end - row_begin + 3) / 4;
  const std::int64_t row_bytes = static_cast<std::int64_t>(w.RowBytes());
  const auto row = [&](std::int64_t r) { return reinterpret_cast<const std::uint8_t*>(w.data) + r * row_bytes; };
  const std::int64_t prefetch_distance = DecodePrefetchDistance();
  for (std::int64_t t0 = 0; t0 < n_tokens; t0 += block) {
    const std::int64_t t1 = std::min(n_tokens, t0 + block);
    for (std::int64_t i = 0; i < step; ++i) {
      const std::int64_t r = row_begin + i;
      const int valid = static_cast<int>(std::min<std::int64_t>(4, (row_end - r + step - 1) / step));
      Int8RowTile t{};
      for (int j = 0; j < 4; ++j) t.rows[j] = row(r + (j < valid ? j : 0) * step);
      t.valid = valid;
      t.x = &x;
      t.ldy = ldy;
      t.row_step = step;
      for (std::int64_t tok = t0; tok < t1; tok += tile_tokens) {
        t.prefetch_distance = tok == t0 ? prefetch_distance : 0;  // the first tile's reads bring the rows
        t.token = tok;
        t.tokens = static_cast<int>(std::min<std::int64_t>(tile_tokens, t1 - tok));
        t.y = y + tok * ldy + r;
        kTile(t);
      }
    }
  }
}

}  // namespace cace

#endif  // CACE_LIB_RUNTIME_CPU_INT8_ROWS_H_
