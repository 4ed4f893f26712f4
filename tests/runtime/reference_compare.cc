// Compares the CPU backend with the file hf_reference.py wrote from Hugging Face transformers:
// the logits after every prompt token (max |ours - theirs| over max |theirs|, per position, at
// most --rel-tol) and the greedy continuation (identical ids). Exit 0 when both agree, 1 when not,
// 2 on a usage or load error.
// The model goes through the one load path (LoadModelInstance into a host pool); with --text the
// prompt is also tokenized by cace and must equal the reference's ids. --activations f32 runs
// Q8_0 matrices on F32 activations (transformers' arithmetic) instead of the default int8 ones
// (CpuBackendOptions::int8_activations).
//   runtime_reference_compare (--hf-dir DIR | --gguf FILE) --reference FILE [--rel-tol 1e-4] [--text TEXT]
//                             [--activations int8|f32]
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "cace/memory_pool.h"
#include "lib/runtime/generation.h"
#include "lib/runtime/model_instance.h"

namespace {

struct Reference {
  std::int32_t positions = 0, vocab = 0;
  std::vector<float> logits;
  std::vector<std::int32_t> greedy, prompt;
};

bool ReadInts(std::ifstream& in, std::vector<std::int32_t>* out) {
  std::int32_t n = 0;
  if (!in.read(reinterpret_cast<char*>(&n), 4) || n < 0 || n > (1 << 24)) return false;
  out->resize(static_cast<std::size_t>(n));
  return static_cast<bool>(in.read(reinterpret_cast<char*>(out->data()), static_cast<std::streamsize>(4 * out->size())));
}

bool ReadReference(const std::string& path, Reference* r) {
  std::ifstream in(path, std::ios::binary);
  if (!in.read(reinterpret_cast<char*>(&r->positions), 4) || !in.read(reinterpret_cast<char*>(&r->vocab), 4)) return false;
  if (r->positions <= 0 || r->vocab <= 0 || std::int64_t{r->positions} * r->vocab > (std::int64_t{1} << 30)) return false;
  r->logits.resize(static_cast<std::size_t>(r->positions) * static_cast<std::size_t>(r->vocab));
  if (!in.read(reinterpret_cast<char*>(r->logits.data()), static_cast<std::streamsize>(4 * r->logits.size()))) return false;
  return ReadInts(in, &r->greedy) && ReadInts(in, &r->prompt) && r->prompt.size() == static_cast<std::size_t>(r->positions);
}

}  // namespace

int main(int argc, char** argv) {
  std::string hf_dir, gguf, reference;
  double rel_tol = 1e-4;
  std::string text;
  bool int8_activations = true;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--hf-dir" && has_value) hf_dir = argv[++i];
    else if (arg == "--gguf" && has_value) gguf = argv[++i];
    else if (arg == "--reference" && has_value) reference = argv[++i];
    else if (arg == "--rel-tol" && has_value) rel_tol = std::atof(argv[++i]);
    else if (arg == "--text" && has_value) text = argv[++i];
    else if (arg == "--activations" && has_value && (std::strcmp(argv[i + 1], "int8") == 0 || std::strcmp(argv[i + 1], "f32") == 0))
      int8_activations = std::strcmp(argv[++i], "int8") == 0;
    else {
      std::fprintf(stderr, "unknown or incomplete argument %s\n", arg.c_str());
      return 2;
    }
  }
  if ((hf_dir.empty() == gguf.empty()) || reference.empty()) {
    std::fprintf(stderr,
                 "usage: %s (--hf-dir DIR | --gguf FILE) --reference FILE [--rel-tol X] [--text TEXT] "
                 "[--activations int8|f32]\n",
                 argv[0]);
    return 2;
  }
  Reference ref;
  if (!ReadReference(reference, &ref)) {
    std::fprintf(stderr, "%s: not a reference file written by hf_reference.py\n", reference.c_str());
    return 2;
  }
  // The one load path: tokenizer and weights into a host pool (matrices the kernels cannot read
  // widened there), the weights as views on it, the CPU backend over them.
  const std::string path = hf_dir.empty() ? gguf : hf_dir;
  auto plan = cace::PlanModelInstance(path, cace::MemoryKind::kHost);
  auto pool = plan.ok() ? cace::CreateHostArena(plan->weight_bytes + (std::uint64_t{64} << 20)) : plan.status();
  auto model = pool.ok() ? cace::LoadModelInstance(path, **pool, {.owner = "reference", .cpu = {.int8_activations = int8_activations}}) : pool.status();
  if (!model.ok()) {
    std::fprintf(stderr, "load: %s\n", std::string(model.status().message()).c_str());
    return 2;
  }
  if ((*model)->backend().shape().vocab_size != ref.vocab) {
    std::fprintf(stderr, "backend: vocabulary of %lld, %d in the reference\n",
                 static_cast<long long>((*model)->backend().shape().vocab_size), ref.vocab);
    return 2;
  }
  std::printf("activations of Q8_0 products: %s\n", int8_activations ? "int8" : "f32");
  std::printf("load: %llu bytes of weights in the pool (planned %llu), %llu KV bytes per token\n",
              static_cast<unsigned long long>((*model)->weight_bytes()),
              static_cast<unsigned long long>(plan->weight_bytes),
              static_cast<unsigned long long>((*model)->kv_bytes_per_token()));
  const cace::Tokenizer& tokenizer = (*model)->tokenizer();
  if (!text.empty()) {
    // The prompt from text: cace's tokenizer must give Hugging Face's ids.
    const std::vector<std::int32_t> ids = tokenizer.Encode(text);
    const bool same = ids == ref.prompt;
    std::printf("prompt: %zu tokens from the text, %s Hugging Face's\n", ids.size(), same ? "equal to" : "DIFFERENT from");
    if (!same) return 1;
  }
  cace::Backend& be = (*model)->backend();

  // Logits after every prompt token, in one prefill.
  auto cache = be.NewSequence(static_cast<std::int64_t>(ref.prompt.size()), &(*model)->pool());
  if (!cache.ok()) {
    std::fprintf(stderr, "cache: %s\n", std::string(cache.status().message()).c_str());
    return 2;
  }
  cace::SequenceStep step{cache->get(), ref.prompt};
  std::vector<float> logits;
  if (absl::Status st = be.Forward({&step, 1}, cace::LogitsMode::kAll, &logits); !st.ok()) {
    std::fprintf(stderr, "forward: %s\n", std::string(st.message()).c_str());
    return 2;
  }
  double worst = 0;
  for (std::int32_t t = 0; t < ref.positions; ++t) {
    double max_ref = 0, max_diff = 0;
    for (std::int32_t v = 0; v < ref.vocab; ++v) {
      const std::size_t i = static_cast<std::size_t>(t) * static_cast<std::size_t>(ref.vocab) + static_cast<std::size_t>(v);
      max_ref = std::max(max_ref, std::fabs(double(ref.logits[i])));
      max_diff = std::max(max_diff, std::fabs(double(logits[i]) - double(ref.logits[i])));
    }
    worst = std::max(worst, max_diff / max_ref);
  }
  std::printf("logits: %d positions x %d, worst max|diff|/max|ref| = %.3g (tolerance %.3g)\n", ref.positions,
              ref.vocab, worst, rel_tol);

  // Greedy continuation through the generation loop (prefill, then cached decode).
  auto seq = cace::Sequence::Start(&be, ref.prompt, {.max_new_tokens = static_cast<std::int64_t>(ref.greedy.size())},
                                   &(*model)->pool());
  if (!seq.ok()) {
    std::fprintf(stderr, "generation: %s\n", std::string(seq.status().message()).c_str());
    return 2;
  }
  cace::Sequence* s = seq->get();
  if (absl::Status st = cace::GenerateAll(be, {&s, 1}); !st.ok()) {
    std::fprintf(stderr, "generation: %s\n", std::string(st.message()).c_str());
    return 2;
  }
  std::size_t agree = 0;
  while (agree < ref.greedy.size() && agree < s->output().size() && s->output()[agree] == ref.greedy[agree]) ++agree;
  std::printf("greedy: %zu of %zu tokens identical\n", agree, ref.greedy.size());
  if (auto decoded = tokenizer.Decode(s->output()); decoded.ok()) std::printf("greedy text: %s\n", decoded->c_str());
  const bool ok = worst <= rel_tol && agree == ref.greedy.size();
  std::printf("%s\n", ok ? "AGREE" : "DISAGREE");
  return ok ? 0 : 1;
}
