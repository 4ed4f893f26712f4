// CACE_CPU_CLONES compiles a hot CPU function twice, for x86-64-v3 (AVX2, FMA, F16C) and for the
// baseline, and picks one when the program loads (GCC/Clang function multi-versioning), so one
// binary uses wide vectors where the CPU has them and still runs where it has not.
#ifndef CACE_LIB_RUNTIME_CPU_FEATURES_H_
#define CACE_LIB_RUNTIME_CPU_FEATURES_H_

// Not in sanitizer builds: the clone resolvers run before the sanitizer runtime is set up.
#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__) && !defined(CACE_NO_CPU_CLONES) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define CACE_CPU_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define CACE_CPU_CLONES
#endif

#endif  // CACE_LIB_RUNTIME_CPU_FEATURES_H_
