# `find_package(cace)` for hosts: exports every component and the umbrella target cace::cace.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

get_property(_cace_components GLOBAL PROPERTY CACE_COMPONENTS)
install(TARGETS cace ${_cace_components} EXPORT caceTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/cace DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(EXPORT caceTargets NAMESPACE cace:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cace)
get_property(CACE_RUNTIME_USES_OPENBLAS GLOBAL PROPERTY CACE_RUNTIME_USES_OPENBLAS)
if(NOT CACE_RUNTIME_USES_OPENBLAS)
  set(CACE_RUNTIME_USES_OPENBLAS OFF)
endif()
configure_package_config_file(cmake/caceConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/caceConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cace)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/caceConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/caceConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/caceConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cace)

# The C ABI: libcace_c for find_package (cace::cace_c) and for pkg-config (cace.pc).
install(TARGETS cace_c EXPORT caceTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
file(RELATIVE_PATH CACE_PC_PREFIX_FROM_PCDIR "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
configure_file(cmake/cace.pc.in ${CMAKE_CURRENT_BINARY_DIR}/cace.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/cace.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
