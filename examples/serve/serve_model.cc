// A C++ host serving a model through the public API: cace_serve_model MODEL_PATH PROMPT
// (MODEL_PATH: a Hugging Face folder or a .gguf file). Streams the answer to stdout.
#include <cstdio>
#include <iostream>

#include "cace/engine.h"

int main(int argc, char** argv) {
  if (argc != 3) return std::fprintf(stderr, "usage: %s MODEL_PATH PROMPT\n", argv[0]), 2;
  auto engine = cace::Engine::Create({.memory_budget_bytes = 4ull << 30, .policy = "cace"});
  if (!engine.ok()) return std::cerr << engine.status() << "\n", 1;
  if (auto st = (*engine)->AddModel(argv[1], {.id = "coder"}); !st.ok()) return std::cerr << st << "\n", 1;
  auto id = (*engine)->Submit({.model = "coder", .prompt = argv[2], .max_tokens = 64},
                              {.on_token =
                                   [](const cace::TokenPiece& p) {
                                     std::cout << p.text << std::flush;
                                     return absl::OkStatus();
                                   },
                               .on_done = [](const cace::RequestResult& r) {
                                 std::cerr << "\n[" << r.status << ", " << r.usage.completion_tokens << " tokens, TTFT "
                                           << r.timings.first_token << " s]\n";
                               }});
  if (!id.ok()) return std::cerr << id.status() << "\n", 1;
  (*engine)->WaitIdle();
  return 0;
}
