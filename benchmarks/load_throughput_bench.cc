// Load throughput into the host arena, beside the two bounds that matter on the same machine and
// file: memcpy of the same number of bytes between two resident buffers, and a plain sequential
// read() of the file into a resident buffer. Each runs warm (file in the page cache) and, for the
// file paths, cold (posix_fadvise(DONTNEED) before each iteration). The file is a ~1 GiB Llama
// model (config.json + model.safetensors, BF16) generated once in $CACE_BENCH_DIR (default
// /tmp/cace_load_bench). Read the figures as ratios: loader GB/s / read GB/s.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>

#include "fmt/format.h"
#include "lib/loader/model_loader.h"
#include "lib/loader/safetensors_writer.h"
#include "lib/loader/tensor_names.h"
#include "lib/pool/host_arena.h"

namespace cace {
namespace {

std::string BenchDir() {
  const char* dir = std::getenv("CACE_BENCH_DIR");
  return dir != nullptr ? dir : "/tmp/cace_load_bench";
}

// 8 layers of a 2048-wide Llama with a 32000-token vocabulary: 542 M parameters, 1.08 GB in BF16.
ModelConfig BenchConfig() {
  ModelConfig c;
  c.hidden_size = 2048;
  c.intermediate_size = 5632;
  c.num_hidden_layers = 8;
  c.num_attention_heads = 16;
  c.num_key_value_heads = 16;
  c.head_dim = 128;
  c.vocab_size = 32000;
  c.max_position_embeddings = 4096;
  return c;
}

// Writes the safetensors file tensor by tensor from a pseudo-random buffer, so generating 1 GiB
// needs no 1 GiB of memory.
void WriteBenchModel(const std::string& dir) {
  std::filesystem::create_directories(dir);
  const ModelConfig c = BenchConfig();
  std::string header = "{";
  std::uint64_t offset = 0;
  for (const ExpectedTensor& t : ExpectedTensors(c, TensorNaming::kHuggingFace)) {
    const std::uint64_t bytes = *TensorBytes(DType::kBF16, t.shape);
    header += fmt::format("{}{}:{{\"dtype\":\"BF16\",\"shape\":[{}],\"data_offsets\":[{},{}]}}", offset ? "," : "",
                          JsonQuote(t.name), fmt::join(t.shape, ","), offset, offset + bytes);
    offset += bytes;
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');
  std::ofstream out(dir + "/model.safetensors.tmp", std::ios::binary);
  const std::uint64_t n = header.size();
  out.write(reinterpret_cast<const char*>(&n), 8);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  std::vector<std::uint64_t> chunk(1 << 20);
  std::uint64_t x = 0x243F6A8885A308D3ull;
  for (std::uint64_t& v : chunk) v = (x = x * 6364136223846793005ull + 1442695040888963407ull);
  for (std::uint64_t left = offset; left > 0;) {
    const std::uint64_t k = std::min<std::uint64_t>(left, chunk.size() * 8);
    out.write(reinterpret_cast<const char*>(chunk.data()), static_cast<std::streamsize>(k));
    left -= k;
  }
  out.close();
  std::rename((dir + "/model.safetensors.tmp").c_str(), (dir + "/model.safetensors").c_str());
  std::ofstream(dir + "/config.json") << fmt::format(
      R"({{"architectures":["LlamaForCausalLM"],"hidden_size":{},"intermediate_size":{},"num_hidden_layers":{},)"
      R"("num_attention_heads":{},"num_key_value_heads":{},"vocab_size":{},"max_position_embeddings":{}}})",
      c.hidden_size, c.intermediate_size, c.num_hidden_layers, c.num_attention_heads, c.num_key_value_heads,
      c.vocab_size, c.max_position_embeddings);
}

struct BenchFile {
  std::string dir;
  std::string file;
  std::uint64_t bytes = 0;
};

const BenchFile& File() {
  static const BenchFile f = [] {
    BenchFile b;
    b.dir = BenchDir();
    b.file = b.dir + "/model.safetensors";
    if (!std::filesystem::exists(b.file) || !std::filesystem::exists(b.dir + "/config.json")) WriteBenchModel(b.dir);
    b.bytes = std::filesystem::file_size(b.file);
    return b;
  }();
  return f;
}

// Evicts the file from the page cache (it must be clean: written and closed long before).
void DropFromPageCache(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  ::fdatasync(fd);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

void WarmPageCache(const std::string& path) {
  std::vector<char> buf(16 << 20);
  const int fd = ::open(path.c_str(), O_RDONLY);
  while (::read(fd, buf.data(), buf.size()) > 0) {
  }
  ::close(fd);
}

// A buffer whose pages are already faulted in, so no benchmark pays first-touch costs.
std::unique_ptr<char[]> Resident(std::uint64_t bytes) {
  std::unique_ptr<char[]> p(new char[bytes]);
  std::memset(p.get(), 1, bytes);
  return p;
}

void BM_Memcpy(benchmark::State& state) {
  const std::uint64_t n = File().bytes;
  auto src = Resident(n);
  auto dst = Resident(n);
  for (auto _ : state) {
    std::memcpy(dst.get(), src.get(), n);
    benchmark::DoNotOptimize(dst.get());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

// read() into `dst`: a plain resident buffer, or (huge) memory of a host arena, so the
// comparison with the loader is also made with the same destination pages.
void PlainRead(benchmark::State& state, bool cold, bool huge) {
  const BenchFile& f = File();
  std::unique_ptr<char[]> plain;
  std::unique_ptr<HostArena> arena;
  char* dst = nullptr;
  if (huge) {
    arena = std::move(*HostArena::Create(f.bytes));
    auto whole = arena->Allocate(f.bytes, 4096, "read target");
    dst = static_cast<char*>(*arena->Address(whole->id));
    std::memset(dst, 1, f.bytes);
  } else {
    plain = Resident(f.bytes);
    dst = plain.get();
  }
  if (!cold) WarmPageCache(f.file);
  for (auto _ : state) {
    if (cold) {
      state.PauseTiming();
      DropFromPageCache(f.file);
      state.ResumeTiming();
    }
    const int fd = ::open(f.file.c_str(), O_RDONLY);
    std::uint64_t done = 0;
    while (done < f.bytes) {
      const ssize_t r = ::read(fd, dst + done, std::min<std::uint64_t>(f.bytes - done, 64 << 20));
      if (r <= 0) break;
      done += static_cast<std::uint64_t>(r);
    }
    ::close(fd);
    if (done != f.bytes) state.SkipWithError("short read");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * f.bytes));
}

void LoaderIntoHostArena(benchmark::State& state, bool cold, TensorLayout layout) {
  const BenchFile& f = File();
  auto arena = HostArena::Create(f.bytes + (64 << 20));
  if (!arena.ok()) {
    state.SkipWithError("no arena");
    return;
  }
  // Fault the arena's pages in once, as a long-running server's arena would be.
  auto whole = (*arena)->Allocate(f.bytes, 4096, "prefault");
  std::memset(*(*arena)->Address(whole->id), 0, f.bytes);
  (void)(*arena)->Free(whole->id);
  if (!cold) WarmPageCache(f.file);
  ModelLoader loader(**arena, LoadOptions{.layout = layout});
  std::uint64_t loaded = 0;
  for (auto _ : state) {
    if (cold) {
      state.PauseTiming();
      DropFromPageCache(f.file);
      state.ResumeTiming();
    }
    absl::StatusOr<LoadedModel> model = loader.Load(f.dir, "bench");
    if (!model.ok()) {
      state.SkipWithError(std::string(model.status().message()).c_str());
      return;
    }
    loaded = model->allocation_bytes;
    state.PauseTiming();
    (void)(*arena)->Free(model->allocation);
    state.ResumeTiming();
  }
  state.counters["arena_huge_pages"] = (*arena)->backing() != HostBacking::kPlain ? 1 : 0;
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * loaded));
}

void BM_ReadWarm(benchmark::State& state) { PlainRead(state, false, false); }
void BM_ReadCold(benchmark::State& state) { PlainRead(state, true, false); }
void BM_ReadWarmIntoArena(benchmark::State& state) { PlainRead(state, false, true); }
void BM_ReadColdIntoArena(benchmark::State& state) { PlainRead(state, true, true); }
void BM_LoaderWarm(benchmark::State& state) { LoaderIntoHostArena(state, false, TensorLayout::kAligned); }
void BM_LoaderCold(benchmark::State& state) { LoaderIntoHostArena(state, true, TensorLayout::kAligned); }
void BM_LoaderWarmFileLayout(benchmark::State& state) { LoaderIntoHostArena(state, false, TensorLayout::kFileLayout); }
void BM_LoaderColdFileLayout(benchmark::State& state) { LoaderIntoHostArena(state, true, TensorLayout::kFileLayout); }

BENCHMARK(BM_Memcpy)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_ReadWarm)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_ReadWarmIntoArena)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_LoaderWarm)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_LoaderWarmFileLayout)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_ReadCold)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);
BENCHMARK(BM_ReadColdIntoArena)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);
BENCHMARK(BM_LoaderCold)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);
BENCHMARK(BM_LoaderColdFileLayout)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);

}  // namespace
}  // namespace cace

BENCHMARK_MAIN();
