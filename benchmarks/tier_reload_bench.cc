// A model's reload from each tier the Engine has, through the paths the Engine takes, side by side
// on the same model and the same prefaulted host arena:
//   BM_ReloadFromDiskCold    LoadModelInstance with the files dropped from the page cache first
//                            (fdatasync, posix_fadvise(DONTNEED); page_cache_resident says how
//                            much of the weights file was still resident after the drop)
//   BM_ReloadFromHostCache   HostModelCopy::Load: the weights copied back from host memory
// Counters: GB/s of weight bytes (the pool allocation, the same on both sides), on the wall clock.
// The model (~300 MB of BF16: 12 layers of a 1024-wide Llama) is written once into
// $CACE_BENCH_DIR (default /tmp/cace_tier_bench). Read the ratio of the two GB/s; run them
// interleaved: --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "lib/loader/tiny_model_writer.h"
#include "lib/runtime/host_model_copy.h"
#include "lib/runtime/model_instance.h"

namespace cace {
namespace {

struct BenchModel {
  std::string dir;
  std::uint64_t weight_bytes = 0;
};

const BenchModel& Model() {
  static const BenchModel model = [] {
    const char* env = std::getenv("CACE_BENCH_DIR");
    BenchModel m;
    m.dir = env != nullptr ? env : "/tmp/cace_tier_bench";
    if (!std::filesystem::exists(m.dir + "/tokenizer.json")) {
      TinyModelSpec spec;
      spec.hidden_size = 1024;
      spec.intermediate_size = 2816;
      spec.num_hidden_layers = 12;
      spec.num_attention_heads = 16;
      spec.num_key_value_heads = 16;
      if (!WriteTinySafetensorsModel(spec, m.dir, DType::kBF16).ok()) std::abort();
    }
    const absl::StatusOr<ModelFootprint> footprint = PlanModelInstance(m.dir, MemoryKind::kHost);
    if (!footprint.ok()) std::abort();
    m.weight_bytes = footprint->weight_bytes;
    return m;
  }();
  return model;
}

// A host arena with room for the model, its pages faulted in once (as a running server's are), so
// neither side pays first-touch page faults.
std::unique_ptr<MemoryPool> PrefaultedArena(std::uint64_t bytes) {
  absl::StatusOr<std::unique_ptr<MemoryPool>> arena = CreateHostArena(bytes + (64 << 20));
  if (!arena.ok()) std::abort();
  absl::StatusOr<Allocation> whole = (*arena)->Allocate(bytes, 4096, "prefault");
  if (!whole.ok()) std::abort();
  std::memset(*(*arena)->Address(whole->id), 0, bytes);
  (void)(*arena)->Free(whole->id);
  return *std::move(arena);
}

// Drops every file of the model from the page cache; returns the share of the weights file's
// pages still resident afterwards (mincore), 0 when the drop worked.
double DropFromPageCache(const std::string& dir) {
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const int fd = ::open(entry.path().c_str(), O_RDONLY);
    if (fd < 0) continue;
    ::fdatasync(fd);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
  const std::string weights = dir + "/model.safetensors";
  const int fd = ::open(weights.c_str(), O_RDONLY);
  if (fd < 0) return 1;
  const std::uint64_t size = std::filesystem::file_size(weights);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return 1;
  const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> resident((size + page - 1) / page);
  double share = 1;
  if (::mincore(map, size, resident.data()) == 0) {
    std::uint64_t in = 0;
    for (unsigned char r : resident) in += r & 1u;
    share = static_cast<double>(in) / static_cast<double>(resident.size());
  }
  ::munmap(map, size);
  return share;
}

void SetCounters(benchmark::State& state, std::uint64_t bytes) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(state.iterations() * bytes) / 1e9,
                                              benchmark::Counter::kIsRate);
}

void BM_ReloadFromDiskCold(benchmark::State& state) {
  const BenchModel& m = Model();
  std::unique_ptr<MemoryPool> pool = PrefaultedArena(m.weight_bytes);
  double resident = 0;
  for (auto _ : state) {
    state.PauseTiming();
    resident += DropFromPageCache(m.dir);
    state.ResumeTiming();
    absl::StatusOr<std::unique_ptr<ModelInstance>> loaded = LoadModelInstance(m.dir, *pool, {.cpu = {.threads = 1}});
    if (!loaded.ok()) {
      state.SkipWithError(std::string(loaded.status().message()).c_str());
      return;
    }
    state.PauseTiming();
    loaded->reset();
    state.ResumeTiming();
  }
  SetCounters(state, m.weight_bytes);
  state.counters["page_cache_resident"] = resident / static_cast<double>(state.iterations());
}

void BM_ReloadFromHostCache(benchmark::State& state) {
  const BenchModel& m = Model();
  std::unique_ptr<MemoryPool> pool = PrefaultedArena(m.weight_bytes);
  std::unique_ptr<HostModelCopy> copy;
  {
    // What the Engine keeps at an eviction: the loaded instance's weights, copied out.
    absl::StatusOr<std::unique_ptr<ModelInstance>> loaded = LoadModelInstance(m.dir, *pool, {.cpu = {.threads = 1}});
    if (!loaded.ok()) {
      state.SkipWithError(std::string(loaded.status().message()).c_str());
      return;
    }
    absl::StatusOr<std::unique_ptr<HostModelCopy>> made = HostModelCopy::From(**loaded, AllocatePlainHostBuffer);
    if (!made.ok()) {
      state.SkipWithError(std::string(made.status().message()).c_str());
      return;
    }
    copy = *std::move(made);
  }
  for (auto _ : state) {
    absl::StatusOr<std::unique_ptr<ModelInstance>> loaded = copy->Load(*pool, {.cpu = {.threads = 1}});
    if (!loaded.ok()) {
      state.SkipWithError(std::string(loaded.status().message()).c_str());
      return;
    }
    state.PauseTiming();
    loaded->reset();
    state.ResumeTiming();
  }
  SetCounters(state, m.weight_bytes);
}

BENCHMARK(BM_ReloadFromDiskCold)->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_ReloadFromHostCache)->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace cace

BENCHMARK_MAIN();
