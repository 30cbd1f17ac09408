# libFuzzer targets (configure with CC=clang -DBPFLUA_FUZZ=ON): the whole
# engine is built with -fsanitize=fuzzer-no-link,address,undefined, and
# each tests/fuzz/fuzz_*.c links with -fsanitize=fuzzer.
file(GLOB FUZZ_TARGETS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_*.c)
foreach(src ${FUZZ_TARGETS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_link_libraries(${name} PRIVATE bpflua_lua)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
endforeach()
