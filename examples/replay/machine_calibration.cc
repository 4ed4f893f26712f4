#include "examples/replay/machine_calibration.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "fmt/format.h"
#include "lib/runtime/generation.h"
#include "lib/runtime/host_buffer.h"
#include "lib/runtime/host_model_copy.h"
#include "lib/runtime/model_instance.h"

namespace cace {

namespace {

using Clock = std::chrono::steady_clock;

Seconds Since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

absl::Status DropFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) return absl::NotFoundError(fmt::format("cannot open {}", path));
  (void)fdatasync(fd);  // dirty pages are not dropped: a file just written must reach the disk
  const int rc = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  close(fd);
  if (rc != 0) return absl::InternalError(fmt::format("posix_fadvise on {} failed ({})", path, rc));
  return absl::OkStatus();
}

// Least squares of y on [1, x1, x2, ...] by the normal equations (at most 3 unknowns here);
// coefficients are clamped at 0 (a negative cost is noise), the rest refitted without them.
std::vector<double> FitLine(const std::vector<std::vector<double>>& xs, const std::vector<double>& y) {
  const std::size_t n = xs.front().size() + 1;
  std::vector<bool> used(n, true);
  for (int round = 0; round < 3; ++round) {
    std::vector<std::vector<double>> a(n, std::vector<double>(n + 1, 0));
    for (std::size_t r = 0; r < y.size(); ++r) {
      std::vector<double> row(n, 1.0);
      for (std::size_t j = 1; j < n; ++j) row[j] = used[j] ? xs[r][j - 1] : 0;
      row[0] = used[0] ? 1.0 : 0;
      for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = 0; j < n; ++j) a[i][j] += row[i] * row[j];
        a[i][n] += row[i] * y[r];
      }
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (!used[i]) a[i][i] = 1, a[i][n] = 0;
    }
    for (std::size_t c = 0; c < n; ++c) {  // Gauss-Jordan with partial pivoting
      std::size_t pivot = c;
      for (std::size_t r = c + 1; r < n; ++r) {
        if (std::abs(a[r][c]) > std::abs(a[pivot][c])) pivot = r;
      }
      std::swap(a[c], a[pivot]);
      if (a[c][c] == 0) continue;
      for (std::size_t r = 0; r < n; ++r) {
        if (r == c) continue;
        const double f = a[r][c] / a[c][c];
        for (std::size_t k = c; k <= n; ++k) a[r][k] -= f * a[c][k];
      }
    }
    std::vector<double> beta(n);
    bool negative = false;
    for (std::size_t i = 0; i < n; ++i) {
      beta[i] = a[i][i] == 0 ? 0 : a[i][n] / a[i][i];
      if (used[i] && beta[i] < 0) used[i] = false, negative = true;
    }
    if (!negative) return beta;
  }
  std::vector<double> beta(n, 0);
  beta[0] = Median(y);
  return beta;
}

std::vector<std::int32_t> PromptOf(std::int64_t tokens, std::int32_t vocab, std::int32_t salt) {
  std::vector<std::int32_t> prompt(static_cast<std::size_t>(tokens));
  for (std::size_t i = 0; i < prompt.size(); ++i) {
    prompt[i] = static_cast<std::int32_t>((i * 31 + static_cast<std::size_t>(salt) * 7 + 11) % static_cast<std::size_t>(vocab));
  }
  return prompt;
}

// Starts `count` sequences of `prompt_tokens` each, room for `decode_steps` more.
absl::StatusOr<std::vector<std::unique_ptr<Sequence>>> StartSequences(ModelInstance& instance, int count,
                                                                      std::int64_t prompt_tokens, int decode_steps) {
  std::vector<std::unique_ptr<Sequence>> sequences;
  const auto vocab = static_cast<std::int32_t>(instance.config().vocab_size);
  for (int i = 0; i < count; ++i) {
    GenerationOptions g;
    g.max_new_tokens = decode_steps + 2;
    absl::StatusOr<std::unique_ptr<Sequence>> s =
        Sequence::Start(&instance.backend(), PromptOf(prompt_tokens, vocab, i), g, &instance.pool());
    if (!s.ok()) return s.status();
    sequences.push_back(*std::move(s));
  }
  return sequences;
}

std::vector<Sequence*> Raw(const std::vector<std::unique_ptr<Sequence>>& owned) {
  std::vector<Sequence*> raw;
  for (const auto& s : owned) raw.push_back(s.get());
  return raw;
}

}  // namespace

absl::Status DropFromPageCache(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
      if (entry.is_regular_file()) {
        if (absl::Status s = DropFile(entry.path().string()); !s.ok()) return s;
      }
    }
    return ec ? absl::InternalError(fmt::format("listing {}: {}", path, ec.message())) : absl::OkStatus();
  }
  return DropFile(path);
}

std::string MachineLine() {
  std::array<double, 3> load{};
  if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3) load = {};
    std::fclose(f);
  }
  return fmt::format("{} hardware threads, load average {:.2f} {:.2f} {:.2f}", std::thread::hardware_concurrency(),
                     load[0], load[1], load[2]);
}

absl::StatusOr<MeasuredModelCosts> MeasureModel(const ModelFile& model, const CalibrationOptions& options) {
  absl::StatusOr<ModelFootprint> footprint = PlanModelInstance(model.path, MemoryKind::kHost);
  if (!footprint.ok()) return footprint.status();
  // Room for the weights and the largest batch's KV caches below.
  const std::uint64_t kv = footprint->kv_bytes_per_token * 8 * 512;
  absl::StatusOr<std::unique_ptr<MemoryPool>> pool = CreateHostArena((2 * footprint->weight_bytes + kv) * 5 / 4 + (64 << 20));
  if (!pool.ok()) return pool.status();
  auto instance_options = [&](std::string owner) {
    ModelInstanceOptions o;
    o.owner = std::move(owner);
    o.cpu.threads = options.compute_threads;
    return o;
  };
  auto load = [&]() { return LoadModelInstance(model.path, **pool, instance_options(model.name)); };
  MeasuredModelCosts c;
  c.model = model.name;
  std::vector<double> cold, warm;
  for (int r = 0; r < options.repeats; ++r) {
    if (absl::Status s = DropFromPageCache(model.path); !s.ok()) return s;
    auto start = Clock::now();
    absl::StatusOr<std::unique_ptr<ModelInstance>> instance = load();
    if (!instance.ok()) return instance.status();
    cold.push_back(Since(start));
    c.weight_bytes = (*instance)->weight_bytes();
    instance->reset();
    start = Clock::now();
    instance = load();  // the file's pages are in the page cache now
    if (!instance.ok()) return instance.status();
    warm.push_back(Since(start));
  }
  c.warm_load_seconds = Median(warm);

  absl::StatusOr<std::unique_ptr<ModelInstance>> instance = load();
  if (!instance.ok()) return instance.status();
  {  // A reload from the host cache: the copy the Engine keeps of an evicted model, loaded back.
    absl::StatusOr<std::unique_ptr<HostModelCopy>> copy = HostModelCopy::From(**instance, AllocatePlainHostBuffer);
    if (!copy.ok()) return copy.status();
    std::vector<double> from_cache;
    for (int r = 0; r < options.repeats; ++r) {
      const auto start = Clock::now();
      absl::StatusOr<std::unique_ptr<ModelInstance>> reloaded =
          (*copy)->Load(**pool, instance_options(model.name + " (host cache)"));
      if (!reloaded.ok()) return reloaded.status();
      from_cache.push_back(Since(start));
    }
    c.host_cache_load_seconds = Median(from_cache);
  }
  // In a replay a load often runs while the compute worker steps a resident model, and on a CPU
  // both want the same cores; the load beside a decode loop of batch 4 on another thread is
  // measured too (busy_cold_load_seconds), for the printout.
  c.cold_load_seconds = Median(cold);
  cold.clear();
  {
    std::atomic<bool> stop{false};
    absl::Status busy_status;
    std::thread compute([&] {
      while (!stop && busy_status.ok()) {  // batches of 4 sequences, 64 tokens each, one after another
        absl::StatusOr<std::vector<std::unique_ptr<Sequence>>> busy = StartSequences(**instance, 4, 16, 64);
        if (!busy.ok()) {
          busy_status = busy.status();
          break;
        }
        std::vector<Sequence*> raw = Raw(*busy);
        for (int step = 0; step < 64 && !stop && busy_status.ok(); ++step) {
          busy_status = StepBatch((*instance)->backend(), raw);
        }
      }
    });
    absl::Status load_status;
    for (int r = 0; r < options.repeats && load_status.ok(); ++r) {
      load_status = DropFromPageCache(model.path);
      if (!load_status.ok()) break;
      const auto start = Clock::now();
      absl::StatusOr<std::unique_ptr<ModelInstance>> second = load();
      if (!second.ok()) load_status = second.status();
      cold.push_back(Since(start));
    }
    stop = true;
    compute.join();
    if (!load_status.ok()) return load_status;
    if (!busy_status.ok()) return busy_status;
  }
  c.busy_cold_load_seconds = Median(cold);
  const std::int64_t context = (*instance)->config().max_position_embeddings;
  // Prefill: one sequence, prompts of several lengths.
  std::vector<std::vector<double>> xs;
  std::vector<double> ys;
  for (std::int64_t p : {4, 16, 32, 64, 128}) {
    if (p + 4 > context) break;
    std::vector<double> t;
    for (int r = 0; r < options.repeats; ++r) {
      absl::StatusOr<std::vector<std::unique_ptr<Sequence>>> seqs = StartSequences(**instance, 1, p, 1);
      if (!seqs.ok()) return seqs.status();
      const auto start = Clock::now();
      if (absl::Status s = StepBatch((*instance)->backend(), Raw(*seqs)); !s.ok()) return s;
      t.push_back(Since(start));
    }
    xs.push_back({static_cast<double>(p)});
    ys.push_back(Median(t));
  }
  std::vector<double> prefill = FitLine(xs, ys);
  c.prefill_base = prefill[0];
  c.prefill_per_token = prefill[1];
  // Decode: batches of several sizes at a short and a long context.
  xs.clear();
  ys.clear();
  constexpr int kSteps = 5;
  for (std::int64_t prompt : {16, 192}) {
    if (prompt + kSteps + 4 > context) break;
    for (int batch : {1, 2, 4, 8}) {
      absl::StatusOr<std::vector<std::unique_ptr<Sequence>>> seqs = StartSequences(**instance, batch, prompt, kSteps);
      if (!seqs.ok()) return seqs.status();
      std::vector<Sequence*> raw = Raw(*seqs);
      if (absl::Status s = StepBatch((*instance)->backend(), raw); !s.ok()) return s;  // the prefill
      for (int step = 0; step < kSteps; ++step) {
        const auto start = Clock::now();
        if (absl::Status s = StepBatch((*instance)->backend(), raw); !s.ok()) return s;
        const double kv_tokens = static_cast<double>(batch) * static_cast<double>(prompt + 1 + step);
        xs.push_back({static_cast<double>(batch), kv_tokens});
        ys.push_back(Since(start));
      }
    }
  }
  std::vector<double> decode = FitLine(xs, ys);
  c.decode_base = decode[0];
  c.decode_per_sequence = decode[1];
  c.decode_per_kv_token = decode[2];
  return c;
}

}  // namespace cace
