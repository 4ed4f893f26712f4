#include "lib/runtime/cpu_int8_rows.h"

#include <algorithm>

#include "lib/runtime/cpu_features.h"

namespace cace {
namespace {

// Activations of one token block stay within this many bytes (half the L2 of the core this was
// tuned on, as in cpu_gemm.cc): each weight row is read once per token block.
constexpr std::int64_t kTokenBlockBytes = 1024 * 1024;

// Rows ahead of the one being read that are asked of the memory, in each of the four streams.
constexpr std::int64_t kPrefetchRows = 2;

}  // namespace

void StoreInt8RowTile(const Int8RowTile& t, const float sums[][4]) {
  for (int i = 0; i < t.tokens; ++i) {
    for (int j = 0; j < t.valid; ++j) t.y[i * t.ldy + j * t.row_step] = sums[i][j];
  }
}

void DriveInt8Rows(const WeightMatrix& w, const Int8Activations& x, float* y, std::int64_t ldy, std::int64_t row_begin,
                   std::int64_t row_end, int tile_tokens, Int8RowTileFn tile) {
  const std::int64_t n_tokens = x.n_tokens();
  const std::int64_t block = std::max<std::int64_t>(tile_tokens, kTokenBlockBytes / x.TokenBytes() / tile_tokens * tile_tokens);
  const std::int64_t step = (row_end - row_begin + 3) / 4;
  const std::int64_t row_bytes = static_cast<std::int64_t>(w.RowBytes());
  const bool prefetch = step * row_bytes < DecodePrefetchMaxStreamBytes();
  for (std::int64_t t0 = 0; t0 < n_tokens; t0 += block) {
    const std::int64_t t1 = std::min(n_tokens, t0 + block);
    for (std::int64_t i = 0; i < step; ++i) {
      const std::int64_t r = row_begin + i;
      const int valid = static_cast<int>(std::min<std::int64_t>(4, (row_end - r + step - 1) / step));
      if (prefetch && i + kPrefetchRows < step) {  // where that helps (DecodePrefetchMaxStreamBytes)
        for (int j = 0; j < valid; ++j) {
          const char* ahead = reinterpret_cast<const char*>(w.Row(r + j * step + kPrefetchRows));
          for (std::int64_t b = 0; b < row_bytes; b += 64) __builtin_prefetch(ahead + b);
        }
      }
      Int8RowTile t{};
      for (int j = 0; j < 4; ++j) t.rows[j] = reinterpret_cast<const std::uint8_t*>(w.Row(r + (j < valid ? j : 0) * step));
      t.valid = valid;
      t.x = &x;
      t.ldy = ldy;
      t.row_step = step;
      for (std::int64_t tok = t0; tok < t1; tok += tile_tokens) {
        t.token = tok;
        t.tokens = static_cast<int>(std::min<std::int64_t>(tile_tokens, t1 - tok));
        t.y = y + tok * ldy + r;
        tile(t);
      }
    }
  }
}

}  // namespace cace
