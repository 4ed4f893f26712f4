// Prefill and decode speed of the CPU backend on a GGUF file, one measurement per run, for
// scripts/compare-llama-cpp.sh (which runs llama.cpp on the same file between these runs):
//   cace_gguf_speed --gguf FILE --threads N prefill  [--prompt 512]
//   cace_gguf_speed --gguf FILE --threads N decode   [--prompt 64] [--steps 128] [--batch B]
//   cace_gguf_speed --threads N bandwidth
// --f32-activations: Q8_0 products on F32 activations (CpuBackendOptions::int8_activations off),
// to measure what the int8 products gain.
// prefill: one warm-up, then one prompt of --prompt tokens, timed. decode: --batch sequences each
// prefilled with --prompt tokens (untimed), then --steps steps of one token per sequence, timed.
// Prints one line: `tok_s=X` (tokens of all sequences per second); decode adds `bound_tok_s=Y`
// (the memory-bandwidth bound: the read bandwidth over a buffer the size of the weights, divided
// by the bytes one step reads, times the batch: the weights once, and each sequence's cached keys
// and values up to its position, on average over the steps), `weight_MB=Z` and `kv_MB=W` (the
// cache bytes of an average step, all sequences); bandwidth prints `GB_s=X` over 1 GiB. Token ids are fixed (i * 7919 + 13 mod vocab), the
// same the llama.cpp side feeds.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "benchmarks/read_bandwidth.h"
#include "cace/memory_pool.h"
#include "lib/runtime/cpu_backend.h"
#include "lib/runtime/model_instance.h"

namespace {

constexpr std::size_t kBandwidthBytes = std::size_t{1} << 30;

int Fail(const std::string& why) {
  std::fprintf(stderr, "cace_gguf_speed: %s\n", why.c_str());
  return 1;
}

std::vector<std::int32_t> Tokens(std::int64_t n, std::int64_t vocab) {
  std::vector<std::int32_t> t(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) t[static_cast<std::size_t>(i)] = static_cast<std::int32_t>((i * 7919 + 13) % vocab);
  return t;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string gguf, what;
  int threads = 1;
  std::int64_t prompt = -1, steps = 128, batch = 1;
  bool int8_activations = true;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--gguf" && has_value) gguf = argv[++i];
    else if (arg == "--threads" && has_value) threads = std::atoi(argv[++i]);
    else if (arg == "--prompt" && has_value) prompt = std::atoll(argv[++i]);
    else if (arg == "--steps" && has_value) steps = std::atoll(argv[++i]);
    else if (arg == "--batch" && has_value) batch = std::atoll(argv[++i]);
    else if (arg == "--f32-activations") int8_activations = false;
    else if (what.empty() && (arg == "prefill" || arg == "decode" || arg == "bandwidth")) what = arg;
    else return Fail("usage: cace_gguf_speed [--gguf FILE] [--threads N] [--prompt N] [--steps N] [--batch B] "
                     "[--f32-activations] prefill|decode|bandwidth");
  }
  if (threads < 1 || steps < 1 || batch < 1) return Fail("--threads, --steps and --batch must be positive");
  if (what == "bandwidth") {
    cace::ThreadPool pool(threads);
    std::printf("GB_s=%.2f\n", cace::bench::MeasureReadBandwidth(&pool, kBandwidthBytes, 5) / 1e9);
    return 0;
  }
  if (what.empty() || gguf.empty()) return Fail("give --gguf FILE and prefill or decode");
  if (prompt < 0) prompt = what == "prefill" ? 512 : 64;
  if (prompt < 1) return Fail("--prompt must be positive");

  // The one load path (LoadModelInstance into a host pool), as the engine loads models; the KV
  // caches come from the backend's own buffers.
  auto plan = cace::PlanModelInstance(gguf, cace::MemoryKind::kHost);
  if (!plan.ok()) return Fail(std::string(plan.status().message()));
  auto arena = cace::CreateHostArena(plan->weight_bytes + (std::uint64_t{64} << 20));
  if (!arena.ok()) return Fail(std::string(arena.status().message()));
  auto model = cace::LoadModelInstance(gguf, **arena, {.owner = "speed", .cpu = {.threads = threads, .int8_activations = int8_activations}});
  if (!model.ok()) return Fail(std::string(model.status().message()));
  cace::Backend& backend = (*model)->backend();
  const std::int64_t capacity = prompt + (what == "decode" ? steps : 0);
  if (capacity > backend.shape().max_positions) return Fail("the model's context is shorter than prompt + steps");
  const std::vector<std::int32_t> tokens = Tokens(prompt, backend.shape().vocab_size);
  std::vector<float> logits;

  auto prefill = [&](cace::KvCache* cache) {
    cace::SequenceStep step{cache, tokens};
    return backend.Forward({&step, 1}, cace::LogitsMode::kLast, &logits);
  };
  if (what == "prefill") {
    for (int run = 0; run < 2; ++run) {  // the first warms the caches and the allocator
      auto cache = backend.NewSequence(capacity, nullptr);
      if (!cache.ok()) return Fail(std::string(cache.status().message()));
      const auto start = std::chrono::steady_clock::now();
      if (absl::Status st = prefill(cache->get()); !st.ok()) return Fail(std::string(st.message()));
      if (run == 1) std::printf("tok_s=%.2f\n", static_cast<double>(prompt) / Seconds(start));
    }
    return 0;
  }

  std::vector<std::unique_ptr<cace::KvCache>> caches;
  for (std::int64_t b = 0; b < batch; ++b) {
    auto cache = backend.NewSequence(capacity, nullptr);
    if (!cache.ok()) return Fail(std::string(cache.status().message()));
    if (absl::Status st = prefill(cache->get()); !st.ok()) return Fail(std::string(st.message()));
    caches.push_back(*std::move(cache));
  }
  // Read over a buffer as large as the weights: a model smaller than the last-level cache (480 MiB
  // on the Xeon this was tuned on) is read partly from it, and its bound must say so.
  const double bytes = static_cast<double>((*model)->weights().BytesReadPerToken());
  // Step s (from 0) of a sequence reads the keys and values of positions 0..prompt + s in every layer.
  const cace::LlamaShape& shape = backend.shape();
  const double kv_bytes = static_cast<double>(batch) * 2.0 * static_cast<double>(shape.n_layers * shape.kv_dim()) *
                          sizeof(float) * (static_cast<double>(prompt) + static_cast<double>(steps + 1) / 2.0);
  cace::ThreadPool pool(threads);
  const double bandwidth = cace::bench::MeasureReadBandwidth(&pool, static_cast<std::size_t>(bytes), 3);
  std::vector<std::int32_t> next(static_cast<std::size_t>(batch), 17);
  std::vector<cace::SequenceStep> step_list;
  const auto start = std::chrono::steady_clock::now();
  for (std::int64_t s = 0; s < steps; ++s) {
    step_list.clear();
    for (std::int64_t b = 0; b < batch; ++b) {
      step_list.push_back({caches[static_cast<std::size_t>(b)].get(),
                           std::span<const std::int32_t>(&next[static_cast<std::size_t>(b)], 1)});
    }
    if (absl::Status st = backend.Forward(step_list, cace::LogitsMode::kLast, &logits); !st.ok()) {
      return Fail(std::string(st.message()));
    }
  }
  const double seconds = Seconds(start);
  std::printf("tok_s=%.2f bound_tok_s=%.2f weight_MB=%.1f kv_MB=%.1f\n", static_cast<double>(steps * batch) / seconds,
              bandwidth / (bytes + kv_bytes) * static_cast<double>(batch), bytes / 1e6, kv_bytes / 1e6);
  return 0;
}
