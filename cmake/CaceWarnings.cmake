# Warnings as errors for cace's own targets only; third-party headers come in as SYSTEM.
function(cace_set_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX,C>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion -Werror>)
endfunction()

if(CACE_SANITIZE)
  add_compile_options(-fsanitize=${CACE_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${CACE_SANITIZE})
endif()
