# Benchmarks: built with everything, run by `bpflua bench` / tests/bench/run.lua,
# never timed inside ctest (one tiny smoke run is a test, so the suite cannot rot).

# C benchmark drivers of components: tests/bench/*_bench.c
file(GLOB BENCH_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/bench/*_bench.c)
foreach(src ${BENCH_SOURCES})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_link_libraries(${name} PRIVATE bpflua_engine)
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR})
endforeach()

# The native-C column: the same algorithms compiled by clang -O2 (not the
# project compiler, and never with sanitizers, so the baseline is honest).
find_program(CLANG clang)
if(CLANG)
  set(NATIVE_DIR ${CMAKE_SOURCE_DIR}/tests/bench/native)
  add_custom_command(
    OUTPUT ${CMAKE_BINARY_DIR}/bench_native
    COMMAND ${CLANG} -O2 -o ${CMAKE_BINARY_DIR}/bench_native
            ${NATIVE_DIR}/algos.c ${NATIVE_DIR}/bench_native.c
    DEPENDS ${NATIVE_DIR}/algos.c ${NATIVE_DIR}/bench_native.c ${NATIVE_DIR}/algos.h
    COMMENT "Building the native-C benchmark baseline with clang -O2")
  add_custom_target(bench_native ALL DEPENDS ${CMAKE_BINARY_DIR}/bench_native)
endif()
