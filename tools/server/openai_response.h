// The bodies cace answers with, in OpenAI's shapes: whole responses, streamed chunks framed as
// server-sent events ("data: {...}\n\n", ended by "data: [DONE]\n\n"), and the usage chunk
// (choices empty) that stream_options.include_usage asks for before [DONE].
#ifndef CACE_TOOLS_SERVER_OPENAI_RESPONSE_H_
#define CACE_TOOLS_SERVER_OPENAI_RESPONSE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cace::server {

struct Usage {
  int prompt_tokens = 0;
  int completion_tokens = 0;
};

// Which endpoint's shapes: "text_completion" or "chat.completion".
enum class Endpoint : std::uint8_t { kCompletions, kChat };

struct ResponseHeader {
  Endpoint endpoint = Endpoint::kCompletions;
  std::string id;  // "cmpl-..." / "chatcmpl-..."
  std::int64_t created = 0;  // Unix seconds
  std::string model;
};

// "stop" (end of sequence or a stop string) or "length" (max_tokens reached).
std::string WholeResponse(const ResponseHeader& header, std::string_view text,
                          std::string_view finish_reason, const Usage& usage);

// One streamed piece of text; finish_reason set on the last. The chat form carries the role in
// the first chunk's delta. `usage_null`: with include_usage every chunk has "usage": null.
std::string StreamChunk(const ResponseHeader& header, std::string_view text,
                        std::optional<std::string_view> finish_reason, bool first, bool usage_null);
std::string UsageChunk(const ResponseHeader& header, const Usage& usage);

std::string SseEvent(std::string_view data);  // "data: <data>\n\n"
inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";

}  // namespace cace::server

#endif  // CACE_TOOLS_SERVER_OPENAI_RESPONSE_H_
