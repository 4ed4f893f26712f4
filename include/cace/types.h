// Small vocabulary types shared by every part of cace.
#ifndef CACE_TYPES_H_
#define CACE_TYPES_H_

#include <array>
#include <cstdint>
#include <string_view>

namespace cace {

// Seconds on the clock that drives an engine: the wall clock in a real run, a virtual one in a
// replay. Policies only ever see times passed to them, never a clock.
using Seconds = double;

// Dense index of a model in its ModelRegistry, assigned at registration and never reused, so
// per-model tables in policies are plain vectors.
using ModelHandle = std::uint32_t;

// What a request asks a model to do. The kinds differ in what their user waits on: a completion
// is typed against (time to first token), chat is read as it streams, reasoning is long and
// judged by its end-to-end time.
enum class TaskKind : std::uint8_t { kCompletion = 0, kChat = 1, kReasoning = 2 };
inline constexpr int kTaskKindCount = 3;
inline constexpr std::array<TaskKind, kTaskKindCount> kAllTaskKinds = {
    TaskKind::kCompletion, TaskKind::kChat, TaskKind::kReasoning};

constexpr int KindIndex(TaskKind kind) { return static_cast<int>(kind); }

std::string_view TaskKindName(TaskKind kind);

// Per-kind table, indexed by KindIndex.
template <typename T>
using PerKind = std::array<T, kTaskKindCount>;

}  // namespace cace

#endif  // CACE_TYPES_H_
