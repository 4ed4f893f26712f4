# Warnings as errors for cace's own targets only; third-party headers come in as SYSTEM.
# -Wno-missing-field-initializers: C++20 designated initializers rely on default member values.
# -Wno-restrict: GCC 12 reports false positives inside libstdc++'s string concatenation (GCC PR 105651).
function(cace_set_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX,C>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
                                -Wno-missing-field-initializers -Werror>
    $<$<AND:$<COMPILE_LANGUAGE:CXX,C>,$<CXX_COMPILER_ID:GNU>>:-Wno-restrict>)
endfunction()

if(CACE_SANITIZE)
  add_compile_options(-fsanitize=${CACE_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${CACE_SANITIZE})
endif()
