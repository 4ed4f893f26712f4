# One static library per part of cace (policy, pool, loader, runtime, engine, ...), so each part
# builds and is tested on its own; the umbrella target `cace` links them all.
set_property(GLOBAL PROPERTY CACE_COMPONENTS "")

# Internal headers are included by their path from the source root ("lib/pool/arena.h",
# "cuda/device_arena.h"); public ones as <cace/...>.
function(cace_add_component name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(cace_${name} STATIC ${ARG_SOURCES})
  add_library(cace::${name} ALIAS cace_${name})
  target_include_directories(cace_${name}
    PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:include>
    PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(cace_${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  cace_set_warnings(cace_${name})
  # Installed as cace::${name}, the name the build tree uses.
  set_target_properties(cace_${name} PROPERTIES EXPORT_NAME ${name})
  # Objects built with sanitizers need their runtimes wherever they are linked, and code that
  # shares their inline functions must be built alike (Abseil's containers poison their free slots
  # under AddressSanitizer; an uninstrumented copy of an insert would trip over that). So the
  # targets carry the flag to their users, a host's build included.
  if(CACE_SANITIZE)
    target_compile_options(cace_${name} INTERFACE -fsanitize=${CACE_SANITIZE})
    target_link_options(cace_${name} INTERFACE -fsanitize=${CACE_SANITIZE})
  endif()
  set_property(GLOBAL APPEND PROPERTY CACE_COMPONENTS cace_${name})
endfunction()

# A Catch2 test binary, registered with CTest test by test.
function(cace_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE cace_catch_main ${ARG_DEPS})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_definitions(${name} PRIVATE
    CACE_DATA_DIR="${PROJECT_SOURCE_DIR}/data" CACE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  cace_set_warnings(${name})
  catch_discover_tests(${name} TEST_PREFIX "${name}." PROPERTIES TIMEOUT 600)
endfunction()
