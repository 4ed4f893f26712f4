// A bounded stress run of the Engine (issue 13): many host threads send mixed requests (completion,
// chat, reasoning) for a dozen tiny models through a memory that holds three, with random
// cancellations and deadlines, injected load failures (read errors and truncations mid-load) and
// refused KV allocations, for a fixed number of requests. It ends by itself and reports requests
// completed, failed with an error, refused at Submit, lost (must be 0), evictions of busy models
// (must be 0), the core's invariant failures (must be 0) and the peak memory held against the
// budget; then every model must serve once more with the faults off. A watchdog fails the run
// when a request or a load shows no progress for too long. Leaks: run it in the sanitizer tree,
// where LeakSanitizer fails the exit.
//   cace_stress [--requests N] [--threads N] [--models N] [--resident N] [--seed N]
//               [--cancel_rate F] [--deadline_rate F] [--load_fail_rate F] [--kv_fail_rate F]
//               [--watchdog_seconds F] [--max_batch N] [--dir DIR] [--stall_first_load_seconds F]
// Exit: 0 clean, 1 a violation, 2 bad arguments or setup, 3 the watchdog fired.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <future>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "fmt/format.h"
#include "lib/engine/engine_testing.h"
#include "lib/faults/faulty_file_source.h"
#include "lib/faults/faulty_pool.h"
#include "lib/loader/tiny_model_writer.h"
#include "lib/runtime/model_instance.h"
#include "tools/stress/stress_faults.h"
#include "tools/stress/stress_ledger.h"

namespace cace::stress {
namespace {

struct Options {
  int requests = 400, threads = 8, models = 12, resident = 3, max_batch = 8;
  std::uint64_t seed = 1;
  double cancel_rate = 0.1, deadline_rate = 0.1, load_fail_rate = 0.1, kv_fail_rate = 0.01;
  double watchdog_seconds = 60;
  double stall_first_load_seconds = 0;  // > 0: a stuck load, to show the watchdog fires
  std::string dir;
};

int Usage(const std::string& why) {
  std::fprintf(stderr, "cace_stress: %s\nusage: cace_stress [--requests N] [--threads N] [--models N] [--resident N] "
               "[--seed N] [--cancel_rate F] [--deadline_rate F] [--load_fail_rate F] [--kv_fail_rate F] "
               "[--watchdog_seconds F] [--max_batch N] [--dir DIR] [--stall_first_load_seconds F]\n", why.c_str());
  return 2;
}

bool Parse(int argc, char** argv, Options& o, std::string& error) {
  for (int i = 1; i < argc; i += 2) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) return error = arg + " needs a value", false;
    const std::string v = argv[i + 1];
    try {
      if (arg == "--requests") o.requests = std::stoi(v);
      else if (arg == "--threads") o.threads = std::stoi(v);
      else if (arg == "--models") o.models = std::stoi(v);
      else if (arg == "--resident") o.resident = std::stoi(v);
      else if (arg == "--max_batch") o.max_batch = std::stoi(v);
      else if (arg == "--seed") o.seed = std::stoull(v);
      else if (arg == "--cancel_rate") o.cancel_rate = std::stod(v);
      else if (arg == "--deadline_rate") o.deadline_rate = std::stod(v);
      else if (arg == "--load_fail_rate") o.load_fail_rate = std::stod(v);
      else if (arg == "--kv_fail_rate") o.kv_fail_rate = std::stod(v);
      else if (arg == "--watchdog_seconds") o.watchdog_seconds = std::stod(v);
      else if (arg == "--dir") o.dir = v;
      else if (arg == "--stall_first_load_seconds") o.stall_first_load_seconds = std::stod(v);
      else return error = "unknown argument " + arg, false;
    } catch (const std::exception&) {
      return error = "bad value for " + arg + ": " + v, false;
    }
  }
  if (o.requests <= 0 || o.threads <= 0 || o.models <= 0 || o.resident <= 0 || o.max_batch <= 0) {
    return error = "counts must be > 0", false;
  }
  return true;
}

constexpr int kMaxPrompt = 24, kMaxTokens = 64;  // the largest request the budget must hold

// One host thread's requests: slots thread, thread + threads, ...; at most 4 of its own pending.
void Host(int thread, const Options& o, Engine& engine, StressLedger& ledger) {
  static const char* const kWords[] = {"def", "fib", "(n):", "return", "class", "x", "=", "1", "if", "for", "in",
                                       "print", "import", "os", "while", "True:", "#", "todo"};
  std::mt19937_64 rng(o.seed * 1000 + static_cast<std::uint64_t>(thread));
  std::uniform_real_distribution<double> u(0, 1);
  std::atomic<int> pending{0};
  for (int slot = thread; slot < o.requests; slot += o.threads) {
    while (pending.load() >= 4) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    Request r;
    // Skewed toward the first models, so some stay hot while the others rotate through memory.
    const double pick = u(rng);
    r.model = "m" + std::to_string(static_cast<int>(pick * pick * o.models));
    const int words = 1 + static_cast<int>(u(rng) * (kMaxPrompt / 2 - 1));
    for (int w = 0; w < words; ++w) r.prompt += std::string(w ? " " : "") + kWords[rng() % std::size(kWords)];
    const double kind = u(rng);
    r.kind = kind < 0.5 ? TaskKind::kCompletion : kind < 0.8 ? TaskKind::kChat : TaskKind::kReasoning;
    r.max_tokens = *r.kind == TaskKind::kCompletion ? 4 + static_cast<int>(u(rng) * 8)
                   : *r.kind == TaskKind::kChat     ? 16 + static_cast<int>(u(rng) * 32)
                                                    : 32 + static_cast<int>(u(rng) * (kMaxTokens - 32));
    if (u(rng) < 0.3) r.sampling = {.temperature = 0.8f, .top_p = 0.9f, .seed = rng()};
    if (u(rng) < o.deadline_rate) r.deadline_seconds = 0.01 + u(rng) * 0.3;
    const bool cancel = u(rng) < o.cancel_rate;
    const auto cancel_after = std::chrono::microseconds(static_cast<int>(u(rng) * 20000));

    const std::size_t s = static_cast<std::size_t>(slot);
    ledger.Submitted(s);
    ++pending;
    absl::StatusOr<RequestId> id = engine.Submit(
        std::move(r), {.on_token =
                           [&ledger, s](const TokenPiece&) {
                             ledger.Token(s);
                             return absl::OkStatus();
                           },
                       .on_done = [&ledger, &pending, s](const RequestResult& res) {
                         ledger.Done(s, res.status);
                         --pending;
                       }});
    if (!id.ok()) {
      ledger.Refused(s, id.status());
      --pending;
      continue;
    }
    ledger.Accepted(s);
    if (cancel) {
      std::this_thread::sleep_for(cancel_after);
      engine.Cancel(*id);
    }
  }
  while (pending.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

int Run(const Options& o) {
  namespace fs = std::filesystem;
  const fs::path dir = o.dir.empty() ? fs::temp_directory_path() / fmt::format("cace_stress_{}", ::getpid()) : fs::path(o.dir);
  std::vector<std::string> paths;
  for (int i = 0; i < o.models; ++i) {
    const fs::path p = dir / fmt::format("m{}", i);
    TinyModelSpec spec;
    spec.seed = static_cast<std::uint64_t>(i) + 1;
    if (!fs::exists(p / "config.json")) {
      if (absl::Status st = WriteTinySafetensorsModel(spec, p.string()); !st.ok()) {
        std::fprintf(stderr, "cace_stress: %s\n", std::string(st.message()).c_str());
        return 2;
      }
    }
    paths.push_back(p.string());
  }
  absl::StatusOr<ModelFootprint> footprint = PlanModelInstance(paths[0], MemoryKind::kHost);
  if (!footprint.ok()) return Usage(std::string(footprint.status().message()));
  // `resident` models' weights, and the KV room of a full batch of the largest requests on each.
  const std::uint64_t budget =
      static_cast<std::uint64_t>(o.resident) *
      (footprint->weight_bytes + static_cast<std::uint64_t>(o.max_batch) * (kMaxPrompt + kMaxTokens + 8) *
                                     footprint->kv_bytes_per_token);

  StressLedger ledger(static_cast<std::size_t>(o.requests));
  StressFaults faults(o.seed, o.load_fail_rate, o.kv_fail_rate, o.stall_first_load_seconds);
  FaultyFileSource files(PosixFileSource(), [&](const std::string&, std::uint64_t, std::size_t) {
    ledger.LoadRead();
    return faults.Read();
  });
  FaultyPool* pool = nullptr;
  std::atomic<std::uint64_t> busy_evictions{0}, unloads{0}, invariant_failures{0};
  std::mutex first_broken_mu;
  std::string first_broken;
  EngineHooks hooks;
  hooks.files = &files;
  hooks.wrap_pool = [&](std::unique_ptr<MemoryPool> base) {
    auto p = std::make_unique<FaultyPool>(std::move(base), [&](std::uint64_t, std::string_view owner) {
      return faults.RefuseAllocation(owner);
    });
    pool = p.get();
    return p;
  };
  hooks.before_load = [&](const std::string& model) {
    ledger.LoadStarted(model);
    faults.LoadStarting();
  };
  hooks.after_load = [&](const std::string&, const absl::Status& st) { ledger.LoadEnded(st); };
  hooks.on_unload = [&](const std::string&, std::size_t in_flight, bool pinned) {
    ++unloads;
    if (in_flight > 0 || pinned) ++busy_evictions;
  };
  hooks.on_invariants = [&](const absl::Status& st) {
    if (st.ok()) return;
    if (++invariant_failures == 1) {
      std::lock_guard<std::mutex> lock(first_broken_mu);
      first_broken = std::string(st.message());
    }
  };
  auto made = CreateEngineForTest({.memory_budget_bytes = budget, .policy = "cace",
                                   .max_pending_requests = 4 * o.threads + 16, .max_batch = o.max_batch,
                                   .compute_threads = 1},
                                  std::move(hooks));
  if (!made.ok()) return Usage(std::string(made.status().message()));
  std::unique_ptr<Engine> engine = *std::move(made);
  for (int i = 0; i < o.models; ++i) {
    if (absl::Status st = engine->AddModel(paths[i], {.id = fmt::format("m{}", i)}); !st.ok()) {
      return Usage(std::string(st.message()));
    }
  }

  std::atomic<bool> finished{false};
  std::thread watchdog([&] {
    while (!finished) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      const std::string stalled = ledger.Stalled(o.watchdog_seconds);
      if (stalled.empty()) continue;
      std::printf("cace_stress: WATCHDOG: %s (limit %.1f s); the engine is stuck\n", stalled.c_str(), o.watchdog_seconds);
      std::fflush(stdout);
      std::_Exit(3);  // a stuck engine cannot be destroyed; nothing after this would return
    }
  });

  const double start = ledger.Now();
  std::vector<std::thread> hosts;
  for (int t = 0; t < o.threads; ++t) hosts.emplace_back(Host, t, std::cref(o), std::ref(*engine), std::ref(ledger));
  for (std::thread& h : hosts) h.join();
  engine->WaitIdle();
  const double seconds = ledger.Now() - start;

  // The faults off: every model must still serve.
  faults.Stop();
  int health_failures = 0;
  std::string first_health_failure;
  for (int i = 0; i < o.models; ++i) {
    std::promise<absl::Status> done;
    auto id = engine->Submit({.model = fmt::format("m{}", i), .prompt = "def f(x):", .max_tokens = 3},
                             {.on_done = [&done](const RequestResult& r) { done.set_value(r.status); }});
    const absl::Status st = id.ok() ? done.get_future().get() : id.status();
    if (!st.ok() && health_failures++ == 0) first_health_failure = fmt::format("m{}: {}", i, std::string(st.message()));
  }
  const MetricsSnapshot metrics = engine->Metrics();
  finished = true;
  watchdog.join();
  const StressLedger::Totals t = ledger.Tally();
  const std::uint64_t peak = pool->peak_used();
  engine.reset();

  std::uint64_t evictions = 0;
  for (const ModelMetrics& m : metrics.models) evictions += m.evictions;
  std::printf("cace_stress: %d requests from %d host threads, %d models in memory for %d (budget %.2f MiB), seed %llu\n",
              o.requests, o.threads, o.models, o.resident, static_cast<double>(budget) / (1 << 20),
              static_cast<unsigned long long>(o.seed));
  std::printf("  ran %.2f s (%.0f requests/s)\n", seconds, o.requests / seconds);
  std::printf("  submitted %llu: accepted %llu, refused at Submit %llu\n", static_cast<unsigned long long>(t.submitted),
              static_cast<unsigned long long>(t.accepted), static_cast<unsigned long long>(t.refused));
  for (const auto& [code, n] : t.refusals_by_code) std::printf("    refused %s: %llu\n", code.c_str(), static_cast<unsigned long long>(n));
  std::printf("  completed %llu, failed with an error %llu\n", static_cast<unsigned long long>(t.completed),
              static_cast<unsigned long long>(t.failed));
  for (const auto& [code, n] : t.failures_by_code) std::printf("    failed %s: %llu\n", code.c_str(), static_cast<unsigned long long>(n));
  std::printf("  loads %llu ok, %llu failed (injected: %llu loads, %llu KV allocations); unloads %llu, evictions %llu\n",
              static_cast<unsigned long long>(t.loads_ok), static_cast<unsigned long long>(t.loads_failed),
              static_cast<unsigned long long>(faults.loads_doomed()),
              static_cast<unsigned long long>(faults.allocations_refused()), static_cast<unsigned long long>(unloads.load()),
              static_cast<unsigned long long>(evictions));
  std::printf("  peak memory held %llu bytes (%.2f MiB) of the %llu-byte budget (%.1f%%)\n",
              static_cast<unsigned long long>(peak), static_cast<double>(peak) / (1 << 20),
              static_cast<unsigned long long>(budget),
              100.0 * static_cast<double>(peak) / static_cast<double>(budget));

  std::vector<std::string> violations;
  auto check = [&](bool bad, const std::string& what) {
    if (bad) violations.push_back(what);
  };
  check(t.lost > 0, fmt::format("lost {} requests (accepted, never ended)", t.lost));
  check(t.ended_twice > 0, fmt::format("{} requests ended more than once", t.ended_twice));
  check(t.failed_without_reason > 0, fmt::format("{} requests failed without a message", t.failed_without_reason));
  check(busy_evictions > 0, fmt::format("{} evictions of busy or pinned models", busy_evictions.load()));
  check(invariant_failures > 0, fmt::format("{} invariant failures, first: {}", invariant_failures.load(), first_broken));
  check(peak > budget, fmt::format("peak memory {} above the budget {}", peak, budget));
  check(t.loads_failed < faults.loads_doomed(), "an injected load failure did not fail its load");
  check(health_failures > 0, fmt::format("{} models did not serve after the run, first: {}", health_failures,
                                         first_health_failure));
  std::printf("  lost %llu (must be 0), evictions of busy models %llu (must be 0), invariant failures %llu (must be 0)\n",
              static_cast<unsigned long long>(t.lost), static_cast<unsigned long long>(busy_evictions.load()),
              static_cast<unsigned long long>(invariant_failures.load()));
  for (const std::string& v : violations) std::printf("  VIOLATION: %s\n", v.c_str());
  std::printf("cace_stress: %s\n", violations.empty() ? "ok" : "FAILED");
  if (o.dir.empty()) fs::remove_all(dir);
  return violations.empty() ? 0 : 1;
}

}  // namespace
}  // namespace cace::stress

int main(int argc, char** argv) {
  cace::stress::Options options;
  std::string error;
  if (!cace::stress::Parse(argc, argv, options, error)) return cace::stress::Usage(error);
  return cace::stress::Run(options);
}
