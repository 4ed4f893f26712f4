// Loads a model (GGUF file, or Hugging Face folder with config.json and safetensors) into a host
// arena through ModelLoader, and writes every tensor of the Llama table dequantized to f32 as OUT/<name>.f32 (raw,
// little endian) plus OUT/tensors.txt ("name dtype dim,dim,..." per line). Used by the reference
// format test to compare cace's reading with the Python gguf / safetensors packages.
//   cace_dump_model MODEL OUT
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "fmt/format.h"
#include "lib/loader/dequantize.h"
#include "lib/loader/model_loader.h"
#include "lib/pool/host_arena.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: cace_dump_model MODEL OUT_DIR\n");
    return 2;
  }
  const std::string model_path = argv[1], out = argv[2];
  auto fail = [](const absl::Status& s) {
    std::fprintf(stderr, "cace_dump_model: %s\n", s.ToString().c_str());
    return 1;
  };
  // Plan first (validation only) to size the arena exactly.
  absl::StatusOr<cace::ModelPlan> plan = cace::PlanModel(model_path);
  if (!plan.ok()) return fail(plan.status());
  absl::StatusOr<std::unique_ptr<cace::HostArena>> arena = cace::HostArena::Create(plan->total_bytes + 4096);
  if (!arena.ok()) return fail(arena.status());
  cace::ModelLoader loader(**arena);
  absl::StatusOr<cace::LoadedModel> model = loader.Load(model_path, "dump");
  if (!model.ok()) return fail(model.status());
  std::filesystem::create_directories(out);
  std::ofstream index(out + "/tensors.txt");
  for (const cace::LoadedTensor& t : model->tensors) {
    std::uint64_t n = 1;
    for (std::int64_t d : t.shape) n *= static_cast<std::uint64_t>(d);
    std::vector<std::byte> raw(t.bytes);
    if (absl::Status s = (*arena)->Read(model->allocation, t.offset, raw.data(), raw.size()); !s.ok()) return fail(s);
    std::vector<float> values(n);
    if (absl::Status s = cace::DequantizeToF32(t.dtype, raw, values); !s.ok()) return fail(s);
    std::ofstream f(out + "/" + t.name + ".f32", std::ios::binary);
    f.write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(n * sizeof(float)));
    index << fmt::format("{} {} {}\n", t.name, cace::DTypeName(t.dtype), fmt::join(t.shape, ","));
  }
  std::printf("%zu tensors of %s (%s, %lld layers) dumped to %s\n", model->tensors.size(), model_path.c_str(),
              std::string(cace::ArchitectureName(model->config.architecture)).c_str(),
              static_cast<long long>(model->config.num_hidden_layers), out.c_str());
  return 0;
}
