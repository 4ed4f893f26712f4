# The loader's parsers under libFuzzer (included from tests/fuzz/CMakeLists.txt, which defines
# cace_add_fuzzer). Seed corpora live in corpus/<target>/; the normal build replays them through
# the same entry points in tests/loader (fuzz_corpus_test.cc).
cace_add_fuzzer(fuzz_safetensors SOURCES fuzz_safetensors.cc DEPS cace::loader
                ARGS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/fuzz_safetensors)
cace_add_fuzzer(fuzz_json_config SOURCES fuzz_json_config.cc DEPS cace::loader
                ARGS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/fuzz_json_config)
cace_add_fuzzer(fuzz_gguf SOURCES fuzz_gguf.cc DEPS cace::loader
                ARGS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/fuzz_gguf)
