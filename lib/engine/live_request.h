// A request inside the engine, from Submit to its end. The scheduler thread owns it; while the
// request is part of a batch step (in_step), the compute worker owns its sequence, its output
// stream and its first-token time, and the scheduler touches none of them.
#ifndef CACE_LIB_ENGINE_LIVE_REQUEST_H_
#define CACE_LIB_ENGINE_LIVE_REQUEST_H_

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cace/request.h"
#include "cace/types.h"
#include "lib/engine/output_stream.h"
#include "lib/runtime/generation.h"

namespace cace {

struct LiveRequest {
  // Fixed at Submit.
  RequestId id = 0;
  ModelHandle model = 0;
  TaskKind kind = TaskKind::kCompletion;
  std::vector<std::int32_t> prompt;
  std::int32_t max_tokens = 0;
  Sampling sampling;
  std::vector<std::string> stop;
  double keep_alive_seconds = -1;
  RequestCallbacks callbacks;
  // Set by Cancel on the host's thread, read by the compute worker so that no token is streamed
  // after Cancel returned.
  std::shared_ptr<std::atomic<bool>> cancelled;
  Seconds submitted = 0;
  Seconds deadline = std::numeric_limits<Seconds>::infinity();

  // Scheduler's.
  bool admitted = false;          // joined its model's batch (the core started it)
  bool in_step = false;           // part of the batch step the compute worker runs now
  bool waiting_for_load = false;  // its model was not resident when it arrived
  Seconds admitted_at = -1;
  Seconds load_done_at = -1;
  std::size_t tokens_stepped = 0;  // tokens_streamed as of its last finished step
  // Why it is being ended early (Cancelled, DeadlineExceeded, NotFound, a step's error); OK: it is
  // not. Given to the core's Cancel, which ends it with this status.
  absl::Status end_early;
  bool cancel_after_step = false;  // to be cancelled once the step it is in ends

  // Compute worker's while in_step, the scheduler's otherwise.
  std::unique_ptr<Sequence> sequence;
  std::unique_ptr<OutputStream> output;
  std::size_t tokens_streamed = 0;
  bool stopped_by_string = false;
  Seconds first_token_at = -1;
  // What on_token returned when it refused a piece (OK: it never did); FinishStep ends the request
  // with it, and Finish reports it unchanged.
  absl::Status refused_by_host;
};

}  // namespace cace

#endif  // CACE_LIB_ENGINE_LIVE_REQUEST_H_
