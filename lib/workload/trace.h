// Request traces: the documented format a user replays their own server's log in, readers of the
// public traces (which name no model), the seeded rule that assigns their requests to a fleet,
// and a synthetic generator with the same knobs.
#ifndef CACE_LIB_WORKLOAD_TRACE_H_
#define CACE_LIB_WORKLOAD_TRACE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/workload/fleet.h"
#include "cace/types.h"

namespace cace {

// One request of a replayable trace.
struct TraceRequest {
  Seconds arrival = 0;               // seconds from the trace's start, non-decreasing
  std::string model;                 // a name in the fleet
  std::uint32_t prompt_tokens = 0;
  std::uint32_t output_tokens = 0;   // what the model actually generated
  std::uint32_t max_tokens = 0;      // the client's limit; 0 when not known
  bool fim = false;                  // a fill-in-the-middle (editor completion) prompt
  std::optional<TaskKind> kind;      // when the log says; otherwise the classifier decides
};

// The trace format: CSV with a header line naming the columns. Required columns: arrival_s, model,
// prompt_tokens, output_tokens. Optional: max_tokens, fim (0/1), kind (completion, chat,
// reasoning, or empty). Column order is free; '#' starts a comment line. A malformed line is an
// InvalidArgument error naming the file, the line number and the column.
absl::StatusOr<std::vector<TraceRequest>> ReadTraceCsv(const std::string& path);
absl::Status WriteTraceCsv(const std::string& path, std::span<const TraceRequest> requests);

// A request of a public trace: no model, no kind.
struct RawRequest {
  Seconds arrival = 0;  // seconds since midnight (UTC) of the trace's first day, so traces of the
                        // same hour line up; Mooncake's are seconds from its start
  std::uint32_t prompt_tokens = 0;
  std::uint32_t output_tokens = 0;
};

// Azure LLM inference trace 2023: `TIMESTAMP,ContextTokens,GeneratedTokens`.
absl::StatusOr<std::vector<RawRequest>> ReadAzureTrace(const std::string& path);
// Mooncake: JSON lines with timestamp (ms), input_length, output_length.
absl::StatusOr<std::vector<RawRequest>> ReadMooncakeTrace(const std::string& path);

// The documented, seeded rule that turns public traces into an enterprise's traffic on a fleet:
//  - completion traffic goes to models whose role is completion or both, conversation traffic to
//    conversation or both;
//  - within each class, model popularity is Zipf(zipf_s) over a ranking that is reshuffled every
//    drift_period seconds (popularity drifts over the hour);
//  - requests come from sessions: each request joins one of `sessions` open sessions of its class
//    (uniformly), a session keeps its model for a geometric number of requests with mean
//    session_requests, then draws a new model from the current popularity;
//  - sessions = 0 derives each class's open sessions from its traffic instead (Little's law): its
//    request rate after rate_scale times the seconds between one user's requests, at least 1, so
//    that scaling the rate down means fewer users rather than the same users asking less often;
//  - completion requests are FIM prompts with max_tokens = 64 (as an editor plugin sends them);
//    conversation requests get max_tokens = the next power of two at or above their output,
//    at least 256 (the limit a chat client sets), so the classifier sees what a server would see;
//  - arrival times are divided by rate_scale (x2 = twice the traffic in half the time), and the
//    merged trace starts at 0.
struct AssignmentOptions {
  std::uint64_t seed = 1;
  double zipf_s = 1.1;
  Seconds drift_period = 900;
  double session_requests = 20;
  int sessions = 16;  // open sessions per class; 0: from the traffic, as above
  // Seconds between one user's requests within a session, for sessions = 0: an editor asks for a
  // completion at pauses in typing; a chat user reads the reply and writes the next message.
  Seconds completion_think_seconds = 10;
  Seconds conversation_think_seconds = 60;
  double rate_scale = 1.0;
};
absl::StatusOr<std::vector<TraceRequest>> AssignModels(std::span<const RawRequest> completion_traffic,
                                                       std::span<const RawRequest> conversation_traffic,
                                                       std::span<const FleetModel> fleet,
                                                       const AssignmentOptions& options);

// Synthetic traffic with the same knobs: Poisson-bursty arrivals (a Gamma renewal process with the
// given coefficient of variation), log-normal prompt and output lengths per class (medians and
// spreads of the Azure traces by default), then AssignModels.
struct SyntheticOptions {
  AssignmentOptions assignment;
  Seconds duration = 3600;
  double completion_rate = 2.6;     // requests/s (Azure code trace)
  double conversation_rate = 5.5;   // requests/s (Azure conversation trace)
  double completion_cv = 13.0;      // inter-arrival coefficient of variation (Azure code: ~13)
  double conversation_cv = 2.0;
};
absl::StatusOr<std::vector<TraceRequest>> GenerateSynthetic(std::span<const FleetModel> fleet,
                                                            const SyntheticOptions& options);

}  // namespace cace

#endif  // CACE_LIB_WORKLOAD_TRACE_H_
