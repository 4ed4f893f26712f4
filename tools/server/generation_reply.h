// Runs one generation request on the engine and writes its HTTP reply: a whole JSON response, or
// server-sent events as the tokens come (a final chunk with finish_reason, the usage chunk when
// asked, then [DONE]). The engine's threads only queue pieces (cace::RequestStream); the HTTP
// thread writes them, so a slow client never holds up a batch: one that stops reading is dropped
// after the write timeout, one that falls more than max_buffered_pieces behind is dropped at
// once (its stream refuses the piece, ending the request), and either way, as when the client
// disconnects, its stream is abandoned and its request cancelled.
#ifndef CACE_TOOLS_SERVER_GENERATION_REPLY_H_
#define CACE_TOOLS_SERVER_GENERATION_REPLY_H_

#include <atomic>
#include <string>

#include "cace/engine.h"
#include "tools/server/openai_response.h"
#include "tools/server/server_config.h"

namespace httplib {
struct Response;
}

namespace cace::server {

struct GenerationJob {
  Request request;            // for the engine
  Endpoint endpoint = Endpoint::kCompletions;
  bool stream = false;
  bool include_usage = false;
  std::string echo;           // text put before the output (completions' "echo")
};

void SendError(httplib::Response& response, const ApiError& error);

// `stopping`: set when the server shuts down; a non-streaming request then cancels itself rather
// than hold its handler (and the shutdown) until it ends.
void ReplyWithGeneration(Engine& engine, GenerationJob job, const ServerConfig& config,
                         const std::atomic<bool>& stopping, httplib::Response& response);

}  // namespace cace::server

#endif  // CACE_TOOLS_SERVER_GENERATION_REPLY_H_
