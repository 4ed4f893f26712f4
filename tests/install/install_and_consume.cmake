# cmake -P script of the test install.find_package (see CMakeLists.txt): install, configure, build
# and run the consumer, stopping at the first step that fails, with that step's output.
function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE output
                  ERROR_VARIABLE output)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${what} failed (${result}):\n${output}")
  endif()
  message(STATUS "${what}: ok")
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
run_step("install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix} --config ${CONFIG})
# Only the prefix: the consumer must not see the source tree or the build tree.
run_step("configure the consumer"
         ${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${WORK_DIR}/build -G ${GENERATOR}
         -DCMAKE_BUILD_TYPE=${CONFIG} -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
         -DCMAKE_PREFIX_PATH=${prefix})
run_step("build the consumer" ${CMAKE_COMMAND} --build ${WORK_DIR}/build --config ${CONFIG})
foreach(program cace_consumer cace_policy_consumer)
  set(binary ${WORK_DIR}/build/${program})
  if(NOT EXISTS ${binary})
    set(binary ${WORK_DIR}/build/${CONFIG}/${program})  # multi-config generators
  endif()
  run_step("run ${program}" ${binary})
endforeach()
