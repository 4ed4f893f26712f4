// The state file: what an engine learned, carried across a restart. It holds the load profiler's
// measurements (lib/loader/load_profiler.h), each model's load times per tier as the serving core
// smoothed them, and the policy's usage state (window counts, the gap between requests, output
// lengths) by model name (handles change between runs).
//
// Written atomically (a temporary file beside it, flushed, renamed over it), so a crash leaves the
// old file or the new one. Read with every byte checked: magic, version, payload length and a
// CRC-32 of the payload, then every field bounded; a damaged or foreign file is an error, never a
// crash, and ReadStateFileOrFresh turns it into a warning and an empty state.
//
// Format v1 (little-endian): "CACESTAT", u32 version, u64 payload length, payload, u32 CRC-32
// (IEEE) of the payload. Payload: u32 profile count, each {str path, u64 bytes, i64 mtime_ns,
// f64 load_seconds, u64 pool_bytes, u64 kv_bytes_per_token}; u32 model count, each {str name,
// f64 disk load s, u32 samples, f64 host-cache load s, u32 samples, per kind {u32 window count,
// f64 output mean, u32 output samples}, f64 mean gap s, f64 idle s (-1: never used)}. A str is a
// u32 length and that many bytes.
#ifndef CACE_LIB_ENGINE_STATE_FILE_H_
#define CACE_LIB_ENGINE_STATE_FILE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cace/eviction_policy.h"
#include "lib/loader/load_profiler.h"

namespace cace {

inline constexpr std::uint32_t kStateFileVersion = 1;

// One model's learned figures.
struct LearnedModel {
  std::string name;
  Seconds disk_load_seconds = 0;  // smoothed; meaningful when disk_load_samples > 0
  std::uint32_t disk_load_samples = 0;
  Seconds host_cache_load_seconds = 0;
  std::uint32_t host_cache_load_samples = 0;
  LearnedUsage usage;  // the policy's (all zero for a policy that learns none)
  bool operator==(const LearnedModel&) const = default;
};

struct LearnedState {
  std::vector<LoadProfile> load_profiles;
  std::vector<LearnedModel> models;
};

// The encoded file, and its checked decoding (InvalidArgument / DataLoss / FailedPrecondition
// naming what is wrong: magic, version, length, checksum, a field).
std::string EncodeState(const LearnedState& state);
// The file around a payload: magic, version, length, checksum (what EncodeState wraps its payload
// in; the fuzzer frames payloads of its own to reach the field checks).
std::string FrameStatePayload(std::string_view payload);
absl::StatusOr<LearnedState> DecodeState(std::string_view bytes);

// Writes `path` atomically (`path`.tmp, then rename).
absl::Status WriteStateFile(const std::string& path, const LearnedState& state);
// NotFound when absent; the decoding's errors naming the file otherwise.
absl::StatusOr<LearnedState> ReadStateFile(const std::string& path);
// The state in `path`, or a fresh (empty) one: an absent file silently, a damaged one with
// `warning` set to why (the caller logs it). Never fails.
LearnedState ReadStateFileOrFresh(const std::string& path, std::string& warning);

}  // namespace cace

#endif  // CACE_LIB_ENGINE_STATE_FILE_H_
