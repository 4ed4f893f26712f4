// A C++ host of cace on its public C++ API: adds a model, streams a completion through
// callbacks, cancels a second request, polls a third through RequestStream, reads the metrics.
//   cace_cpp_host MODEL_PATH
#include <cace/engine.h>
#include <cace/request_stream.h>

#include <cstdio>
#include <future>
#include <iostream>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " MODEL_PATH\n";
    return 2;
  }
  auto engine = cace::Engine::Create({.memory_budget_bytes = 256u << 20, .policy = "cace", .compute_threads = 1});
  if (!engine.ok()) {
    std::cerr << engine.status() << "\n";
    return 1;
  }
  if (absl::Status added = (*engine)->AddModel(argv[1], {.id = "tiny"}); !added.ok()) {
    std::cerr << added << "\n";
    return 1;
  }
  bool ok = true;

  // 1. Streamed through callbacks (they run on the engine's threads).
  std::promise<cace::RequestResult> streamed;
  int pieces = 0;
  auto id = (*engine)->Submit({.model = "tiny", .prompt = "def fib(n):", .max_tokens = 12},
                              {.on_token = [&pieces](const cace::TokenPiece& piece) {
                                 ++pieces;
                                 std::cout << piece.text << std::flush;
                                 return absl::OkStatus();  // an error here would end the request
                               },
                               .on_done = [&streamed](const cace::RequestResult& r) { streamed.set_value(r); }});
  if (!id.ok()) {
    std::cerr << id.status() << "\n";
    return 1;
  }
  const cace::RequestResult first = streamed.get_future().get();
  std::cout << "\nstreamed: " << pieces << " pieces, " << first.status << "\n";
  ok &= first.status.ok() && pieces > 0;

  // 2. Cancelled at once.
  std::promise<cace::RequestResult> cancelled;
  auto second = (*engine)->Submit({.model = "tiny", .prompt = "def fib(n):", .max_tokens = 64},
                                  {.on_done = [&cancelled](const cace::RequestResult& r) { cancelled.set_value(r); }});
  if (!second.ok()) return 1;
  const bool was_pending = (*engine)->Cancel(*second);
  const cace::RequestResult cancel_result = cancelled.get_future().get();
  std::cout << "cancelled: was pending " << was_pending << ", " << cancel_result.status << "\n";
  ok &= !was_pending || cancel_result.status.code() == absl::StatusCode::kCancelled;

  // 3. Polled on this thread.
  auto stream = cace::RequestStream::Create();
  if (!(*engine)->Submit({.model = "tiny", .prompt = "x = ", .max_tokens = 8}, stream->Callbacks()).ok()) return 1;
  int polled = 0;
  for (;;) {
    auto event = stream->Next(std::chrono::milliseconds(-1));
    if (event->done) {
      std::cout << "polled: " << polled << " pieces, " << event->result.status << "\n";
      ok &= event->result.status.ok();
      break;
    }
    ++polled;
  }

  // 4. Metrics.
  const cace::MetricsSnapshot metrics = (*engine)->Metrics();
  std::uint64_t requests = 0;
  for (const auto& model : metrics.models) {
    for (const auto& kind : model.kinds) requests += kind.requests_ok + kind.requests_failed;
  }
  std::cout << "metrics: " << requests << " requests ended\n";
  ok &= requests == 3 && (*engine)->PrometheusMetrics().find("cace_requests_total") != std::string::npos;
  std::cout << (ok ? "ok" : "FAILED") << "\n";
  return ok ? 0 : 1;
}
