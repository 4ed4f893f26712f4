// What a host sends the Engine (Request) and what comes back (token pieces while it runs, then one
// RequestResult). Plain types only, every field with a documented default, so that the C ABI and
// the HTTP server mirror them field by field.
#ifndef CACE_REQUEST_H_
#define CACE_REQUEST_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cace/types.h"

namespace cace {

// Names one submitted request; unique for the Engine's lifetime, never 0.
using RequestId = std::uint64_t;

struct Sampling {
  float temperature = 0.0f;  // 0: greedy (argmax, lowest id on ties)
  float top_p = 1.0f;        // nucleus: keep the smallest set reaching p; 1: all
  int top_k = 0;             // keep the k most likely tokens; 0: all
  std::uint64_t seed = 0;    // the same seed and prompt give the same tokens
};

struct Request {
  std::string model;  // the id given to Engine::AddModel

  // The prompt, one of three forms (the first that is set wins):
  std::vector<std::int32_t> prompt_tokens;  // token ids, used as they are
  bool fill_in_middle = false;              // prefix + suffix, encoded as the model's FIM prompt
  std::string fim_prefix;                   //   code before the cursor
  std::string fim_suffix;                   //   code after the cursor
  std::string prompt;                       // text, encoded with the model's tokenizer (BOS added
                                            // where the vocabulary asks for it)

  // The host's word on what the request is; without it the task classifier decides from the
  // prompt and max_tokens (FIM -> completion, few tokens -> completion, many -> reasoning).
  std::optional<TaskKind> kind;
  std::int32_t max_tokens = 128;  // output tokens at most (> 0); prompt + max_tokens must fit the
                                  // model's context, and decides the KV memory reserved
  Sampling sampling;
  std::vector<std::string> stop;  // the output ends before the first occurrence of any of these
                                  // (not streamed, not counted as text); the model's EOS ends it too
  // Seconds after Submit by which the request must have ended; 0: no deadline. A request past its
  // deadline ends with DeadlineExceeded (with the tokens it streamed so far).
  double deadline_seconds = 0;
  // How long the model stays resident after this request when idle (Ollama's per-request
  // keep_alive); negative: the model's own keep-alive.
  double keep_alive_seconds = -1;
};

// Prompt and completion tokens, as OpenAI's `usage` counts them.
struct Usage {
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
};

// Seconds since Submit; a phase the request never reached is -1.
struct Timings {
  double queued = -1;           // until it joined its model's batch
  double waited_for_load = 0;   // part of `queued` spent waiting for its model to load
  double first_token = -1;      // TTFT: until its first token was streamed
  double end_to_end = -1;       // until it ended
};

enum class EndReason : std::uint8_t {
  kStop,       // the model's EOS or a stop string
  kLength,     // max_tokens reached
  kCancelled,  // Engine::Cancel
  kError,      // see RequestResult::status
};

struct RequestResult {
  RequestId id = 0;
  // OK when the request ran to kStop or kLength. Otherwise why not: Cancelled, DeadlineExceeded,
  // NotFound (model removed), ResourceExhausted (no room: every resident model pinned, or the
  // request larger than the memory), the load's error when its model failed to load, ...
  absl::Status status;
  EndReason reason = EndReason::kError;
  std::string text;  // the whole output text (what on_token streamed, joined)
  Usage usage;
  Timings timings;
};

// One step of output: the text it completes (valid UTF-8, possibly empty: a token can end inside a
// character, whose bytes come with the next piece) and the token id it came from.
struct TokenPiece {
  RequestId id = 0;
  std::int32_t token = 0;
  std::string text;
};

// Called on the engine's threads, never on the host's (see Engine's comment): for one request,
// on_token calls come in order and never overlap, and on_done comes exactly once, after the last
// on_token. Callbacks must return quickly (they hold up every request of the same batch), must
// not throw, and must not destroy the Engine; they may call Submit, Cancel and every query.
//
// on_token's status is the host's word on the piece: OK goes on; any other status ends this
// request (only it: the rest of its batch steps on) with that status, as soon as the step that
// streamed the piece ends: no further piece comes, its KV memory goes back to the pool, and its
// on_done reports the status (EndReason::kCancelled for a Cancelled status, kError otherwise).
struct RequestCallbacks {
  std::function<absl::Status(const TokenPiece&)> on_token;  // may be empty
  std::function<void(const RequestResult&)> on_done;         // may be empty
};

}  // namespace cace

#endif  // CACE_REQUEST_H_
