"""llama.cpp's side of scripts/compare-llama-cpp.sh, through llama-cpp-python: one measurement per
run, printed as `tok_s=X`, on the same token ids as benchmarks/gguf_speed.cc.
  llama_speed.py MODEL THREADS prefill PROMPT
  llama_speed.py MODEL THREADS decode PROMPT STEPS
  llama_speed.py quantize IN OUT TYPE      (TYPE: F32, F16 or Q8_0; requantizes any input)
"""
import sys
import time

import llama_cpp

FTYPES = {"F32": 0, "F16": 1, "Q8_0": 7}  # llama_ftype: ALL_F32, MOSTLY_F16, MOSTLY_Q8_0


def quantize(src, dst, type_name):
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = FTYPES[type_name]
    params.allow_requantize = True
    params.nthread = 2
    if llama_cpp.llama_model_quantize(src.encode(), dst.encode(), params) != 0:
        sys.exit(f"llama_model_quantize {src} -> {dst} ({type_name}) failed")


def tokens(n, vocab):
    return [(i * 7919 + 13) % vocab for i in range(n)]


def main():
    if sys.argv[1] == "quantize":
        quantize(*sys.argv[2:5])
        return
    model, threads, what, prompt = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    steps = int(sys.argv[5]) if what == "decode" else 0
    llm = llama_cpp.Llama(model_path=model, n_ctx=prompt + steps + 8, n_batch=512, n_ubatch=512,
                          n_threads=threads, n_threads_batch=threads, verbose=False)
    ids = tokens(prompt, llm.n_vocab())
    if what == "prefill":
        llm.eval(ids)  # warm-up, as the cace side does
        llm.reset()
        start = time.perf_counter()
        llm.eval(ids)
        print(f"tok_s={prompt / (time.perf_counter() - start):.2f}")
        return
    llm.eval(ids)
    start = time.perf_counter()
    for _ in range(steps):
        llm.eval([17])
    print(f"tok_s={steps / (time.perf_counter() - start):.2f}")


if __name__ == "__main__":
    main()
