#!/usr/bin/env bash
# Builds the libFuzzer targets (loader parsers, server request bodies, chat templates) with clang (libraries instrumented for coverage, with
# AddressSanitizer and UndefinedBehaviorSanitizer) and runs each for a bounded time from its seed
# corpus in tests/fuzz/corpus/<target>/. New inputs go to build/fuzz/corpus/<target>/, crashes to
# build/fuzz/crashes/.
#   scripts/fuzz.sh [seconds per target, default 60] [targets ...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_safetensors fuzz_json_config fuzz_gguf fuzz_state_file fuzz_server_request fuzz_chat_template)
build=build/fuzz

CC=clang CXX=clang++ cmake -S . -B "$build" -DCACE_BUILD_FUZZERS=ON -DCACE_CUDA=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCACE_SANITIZE=address,undefined \
  -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link -DCACE_BUILD_BENCHMARKS=OFF -DCACE_BUILD_EXAMPLES=OFF > /dev/null
cmake --build "$build" --target "${targets[@]}" -j"$(nproc)"

status=0
for t in "${targets[@]}"; do
  mkdir -p "$build/corpus/$t" "$build/crashes/$t"
  seeds=tests/fuzz/corpus/$t
  [ "$t" != fuzz_chat_template ] || seeds=tests/server/templates  # the chat template test files
  echo "== $t: ${seconds}s from $seeds"
  if ! "$build/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
      -artifact_prefix="$build/crashes/$t/" "$build/corpus/$t" "$seeds" 2>&1 |
      grep -E "^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==ERROR|SUMMARY)"; then
    :
  fi
  if [ -n "$(ls -A "$build/crashes/$t")" ]; then
    echo "!! $t: crash inputs in $build/crashes/$t"
    status=1
  else
    echo "ok $t: no crash"
  fi
done
exit $status
