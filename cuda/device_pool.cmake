# The device arena and weight streaming of the memory pool (included from cuda/CMakeLists.txt).
# Host .cc files only; without CUDA the stub answers "built without CUDA" under the same names.
if(CACE_WITH_CUDA)
  cace_add_component(device_pool
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/device_arena.cc ${CMAKE_CURRENT_LIST_DIR}/weight_streamer.cc
    DEPS cace::pool absl::status absl::statusor
    PRIVATE_DEPS CUDA::cudart fmt::fmt)
else()
  cace_add_component(device_pool
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/stub/device_pool_stub.cc
    DEPS cace::pool absl::status absl::statusor)
endif()
