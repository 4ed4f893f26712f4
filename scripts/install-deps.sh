#!/usr/bin/env bash
# Installs, through apt-get, the Debian packages cace builds with, when any is missing.
# The CUDA toolkit is not installed here: the CUDA backend is built when it is already present.
set -euo pipefail
packages=(build-essential cmake pkg-config clang libabsl-dev libfmt-dev catch2 libbenchmark-dev libopenblas-dev
          python3 python3-venv python3-pip
          libcpp-httplib-dev nlohmann-json3-dev curl golang-go cargo)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
