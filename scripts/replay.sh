#!/usr/bin/env bash
# The README's main job: installs what is missing, builds the replay tool, and replays the default
# scenario (8 code models on one L40S, the Azure 2023 code + conversation hour) through every
# policy, printing their comparison. Extra arguments go to cace_replay (try --help, --ablation,
# --sweep). Results are also written to out/replay.{json,csv,svg}.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build/replay -DCMAKE_BUILD_TYPE=Release -DCACE_CUDA=OFF -DCACE_BUILD_TESTS=OFF \
      -DCACE_BUILD_BENCHMARKS=OFF > /dev/null
cmake --build build/replay --target cace_replay -j"$(nproc)" > /dev/null
mkdir -p out
build/replay/examples/cace_replay --json out/replay.json --csv out/replay.csv --svg out/replay.svg "$@"
