#!/usr/bin/env bash
# The test command of README.md (and of CI): installs what is missing, builds cace (the CUDA backend
# too where the toolkit is found, for sm_90 only), runs every test, then builds and runs the tests
# again under AddressSanitizer and UndefinedBehaviorSanitizer, and the parts with threads under
# ThreadSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)

cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DCACE_CUDA=AUTO
cmake --build build/release -j"$jobs"
ctest --test-dir build/release --output-on-failure -j"$jobs"

cmake -S . -B build/sanitize -DCMAKE_BUILD_TYPE=Debug -DCACE_CUDA=OFF -DCACE_SANITIZE=address,undefined \
      -DCACE_BUILD_BENCHMARKS=OFF -DCACE_BUILD_EXAMPLES=OFF
cmake --build build/sanitize -j"$jobs"
# The reference checks against Python implementations (tests named *reference*) ran in the
# release tree; their C++ side is covered under the sanitizers by the unit tests of the same parts.
ctest --test-dir build/sanitize --output-on-failure -j"$jobs" -E 'reference'

# ThreadSanitizer over the test binaries of the parts that run threads (runtime thread pool, the
# tokenizer's shared cache, the pool, the serving engine, the C ABI and the request streams, fault
# injection on the Engine, the stress run, the server's parts and the real HTTP service under
# concurrent clients): only those are built in this tree, which keeps CI's time in bounds.
threaded_tests=(runtime_tests tokenizer_tests pool_tests engine_tests engine_runtime_tests capi_tests host_tests
                reliability_tests cace_stress server_tests server_http_tests)
cmake -S . -B build/tsan -DCMAKE_BUILD_TYPE=Debug -DCACE_CUDA=OFF -DCACE_SANITIZE=thread \
      -DCACE_BUILD_BENCHMARKS=OFF -DCACE_BUILD_EXAMPLES=OFF
cmake --build build/tsan -j"$jobs" --target "${threaded_tests[@]}"
ctest --test-dir build/tsan --output-on-failure -j"$jobs" -E 'reference' \
      -R "^($(IFS='|'; echo "${threaded_tests[*]}"))\\."
