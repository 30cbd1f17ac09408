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
# Where a program uses a map, its twin calls bpflua's own map functions
# (stdlib/maps.h), as a C XDP program calls the kernel's map helpers: those
# come from bpflua_engine, the very code the JIT's map helpers run.
find_program(CLANG clang)
if(CLANG)
  set(NATIVE_DIR ${CMAKE_SOURCE_DIR}/tests/bench/native)
  set(NATIVE_OBJS ${CMAKE_BINARY_DIR}/native_algos.o ${CMAKE_BINARY_DIR}/native_driver.o
                  ${CMAKE_BINARY_DIR}/native_spellings.o)
  # Each twin starts a 64-byte line (-falign-functions=64): on this AMD
  # core a loop's speed moves with where it sits among 64-byte lines (native
  # nested 353 -> 667 ns when .text started 272 bytes later), and where the
  # twins land otherwise follows anything linked before them.
  add_custom_command(
    OUTPUT ${NATIVE_OBJS}
    COMMAND ${CLANG} -O2 -falign-functions=64 -D_GNU_SOURCE -I${CMAKE_SOURCE_DIR} -c
            -o ${CMAKE_BINARY_DIR}/native_algos.o
            ${NATIVE_DIR}/algos.c
    COMMAND ${CLANG} -O2 -c -o ${CMAKE_BINARY_DIR}/native_driver.o ${NATIVE_DIR}/bench_native.c
    COMMAND ${CLANG} -O2 -falign-functions=64 -D_GNU_SOURCE -I${CMAKE_SOURCE_DIR} -c
            -o ${CMAKE_BINARY_DIR}/native_spellings.o ${NATIVE_DIR}/spellings.c
    DEPENDS ${NATIVE_DIR}/algos.c ${NATIVE_DIR}/bench_native.c ${NATIVE_DIR}/algos.h
            ${NATIVE_DIR}/spellings.c
            ${CMAKE_SOURCE_DIR}/stdlib/maps.h ${CMAKE_SOURCE_DIR}/core/object.h
    COMMENT "Building the native-C benchmark baseline with clang -O2")
  set_source_files_properties(${NATIVE_OBJS} PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
  add_executable(bench_native ${NATIVE_OBJS})
  set_target_properties(bench_native PROPERTIES LINKER_LANGUAGE C
                        RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
  target_link_libraries(bench_native PRIVATE bpflua_engine)
  # the JIT and the native twin alternating in one process (docs/jit.md)
  add_executable(side_bench ${NATIVE_DIR}/side_bench.c ${CMAKE_BINARY_DIR}/native_algos.o
                 ${CMAKE_BINARY_DIR}/native_spellings.o)
  target_include_directories(side_bench PRIVATE ${CMAKE_SOURCE_DIR})
  target_link_libraries(side_bench PRIVATE bpflua_engine)
endif()
