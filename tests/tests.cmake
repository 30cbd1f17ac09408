# The test suite: every kind of test registers with ctest, so the closing
# line of `ctest` counts them all.
pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)

set(SHARED_DIR ${CMAKE_SOURCE_DIR}/../shared)
get_filename_component(SHARED_DIR ${SHARED_DIR} ABSOLUTE)

# Environment for tests that run the command or the Lua module.
set(TEST_ENV
  "BPFLUA=$<TARGET_FILE:bpflua>"
  "BPFLUA_SRC=${CMAKE_SOURCE_DIR}"
  "BPFLUA_BUILD=${CMAKE_BINARY_DIR}"
  "SHARED_DIR=${SHARED_DIR}"
  # "\\;" keeps each ';' inside its variable (a bare ';' splits the list)
  "LUA_CPATH=${CMAKE_BINARY_DIR}/?.so\\;\\;"
  "LUA_PATH=${CMAKE_SOURCE_DIR}/tests/spec/?.lua\\;${CMAKE_SOURCE_DIR}/tests/lang/?.lua\\;\\;")
if(BPFLUA_SANITIZE)
  # stock lua5.4 loading bpf.so needs the sanitizer runtimes preloaded
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libasan.so
                  OUTPUT_VARIABLE ASAN_SO OUTPUT_STRIP_TRAILING_WHITESPACE)
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libubsan.so
                  OUTPUT_VARIABLE UBSAN_SO OUTPUT_STRIP_TRAILING_WHITESPACE)
  set(LUA_TEST_ENV "LD_PRELOAD=${ASAN_SO}:${UBSAN_SO}" "ASAN_OPTIONS=detect_leaks=0")
endif()

# cmocka unit tests: tests/unit/test_*.c, one executable each
file(GLOB UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/test_*.c)
foreach(src ${UNIT_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_link_libraries(${name} PRIVATE bpflua_engine PkgConfig::CMOCKA)
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR})
  add_test(NAME unit/${name} COMMAND ${name})
  set_tests_properties(unit/${name} PROPERTIES ENVIRONMENT "${TEST_ENV}")
endforeach()

# shell tests of the command: tests/cli/*.sh and tests/*/run*.sh style drivers
file(GLOB SHELL_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/cli/*.sh)
foreach(src ${SHELL_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_test(NAME cli/${name} COMMAND bash ${src})
  set_tests_properties(cli/${name} PROPERTIES ENVIRONMENT "${TEST_ENV};${LUA_TEST_ENV}"
                       SKIP_RETURN_CODE 77)
endforeach()
# fuzz_smoke builds the engine again with clang's fuzzer instrumentation
# before its 20 s runs: alone ~3 min, but on a 2-vCPU machine shared with
# other builds the compile alone can pass test.sh's default of 600 s
if(TEST cli/fuzz_smoke)
  set_tests_properties(cli/fuzz_smoke PROPERTIES TIMEOUT 1800)
endif()
# progtypes builds and loads ~600 one-line programs (clang, bpftool and
# bpflua each): ~9 min under the shared machine's load, past 600 s
if(TEST cli/progtypes)
  set_tests_properties(cli/progtypes PROPERTIES TIMEOUT 1800)
endif()

# the conformance suite from ../shared, in every engine
if(EXISTS ${SHARED_DIR}/conformance)
  file(GLOB CONFORMANCE_DATA ${SHARED_DIR}/conformance/*.data)
  foreach(engine interp jit)
    add_test(NAME conformance/${engine}
             COMMAND bpflua conformance --engine ${engine} ${CONFORMANCE_DATA})
  endforeach()
else()
  message(STATUS "no ../shared/conformance: conformance tests not registered")
endif()

# busted specs for the Lua side, under Lua 5.4
find_program(BUSTED busted)
if(BUSTED)
  file(GLOB SPECS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/spec/*_spec.lua)
  foreach(spec ${SPECS})
    get_filename_component(name ${spec} NAME_WE)
    add_test(NAME spec/${name}
             COMMAND ${BUSTED} --lua=lua5.4 -o utfTerminal ${spec}
             WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
    set_tests_properties(spec/${name} PROPERTIES ENVIRONMENT "${TEST_ENV};${LUA_TEST_ENV}")
  endforeach()
  # the differential runs every language program in three engines, the
  # kernel's included: on a loaded 2-vCPU machine it needs more than
  # test.sh's default of 600 s (a property wins over ctest --timeout)
  if(TEST spec/lang_spec)
    set_tests_properties(spec/lang_spec PROPERTIES TIMEOUT 1800)
  endif()
endif()
include(${CMAKE_SOURCE_DIR}/tests/bench/bench.cmake)
include(${CMAKE_SOURCE_DIR}/tests/elf/elf.cmake)
include(${CMAKE_SOURCE_DIR}/tests/verifier/verifier.cmake)
include(${CMAKE_SOURCE_DIR}/tests/corpus/corpus.cmake)
