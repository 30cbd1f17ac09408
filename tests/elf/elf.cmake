# Clang-built BPF objects for the ELF reader and kernel tests: every
# tests/elf/*.c is compiled with `clang -O2 -g -target bpf` at build time
# into ${BPFLUA_ELF_OBJ_DIR}/NAME.o. Without clang the tests that need the
# objects skip (BPFLUA_ELF_OBJ_DIR is then not defined).
find_program(BPF_CLANG NAMES clang clang-14)
file(GLOB ELF_TEST_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/elf/*.c)
set(BPFLUA_ELF_OBJ_DIR ${CMAKE_BINARY_DIR}/tests/elf)

if(BPF_CLANG AND ELF_TEST_SOURCES)
  set(ELF_TEST_OBJECTS "")
  set(BPF_INCLUDES -I${CMAKE_SOURCE_DIR}/tests/elf)
  if(CMAKE_LIBRARY_ARCHITECTURE)
    # <linux/bpf.h> needs <asm/types.h>, which Debian keeps per architecture
    list(APPEND BPF_INCLUDES -I/usr/include/${CMAKE_LIBRARY_ARCHITECTURE})
  endif()
  foreach(src ${ELF_TEST_SOURCES})
    get_filename_component(name ${src} NAME_WE)
    set(obj ${BPFLUA_ELF_OBJ_DIR}/${name}.o)
    add_custom_command(
      OUTPUT ${obj}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${BPFLUA_ELF_OBJ_DIR}
      COMMAND ${BPF_CLANG} -O2 -g -target bpf ${BPF_INCLUDES} -c ${src} -o ${obj}
      DEPENDS ${src}
      COMMENT "clang -target bpf ${name}.c")
    list(APPEND ELF_TEST_OBJECTS ${obj})
  endforeach()
  add_custom_target(elf_test_objects ALL DEPENDS ${ELF_TEST_OBJECTS})
  foreach(t test_elf test_kernel)
    if(TARGET ${t})
      add_dependencies(${t} elf_test_objects)
      target_compile_definitions(${t} PRIVATE BPFLUA_ELF_OBJ_DIR="${BPFLUA_ELF_OBJ_DIR}")
    endif()
  endforeach()
else()
  message(STATUS "no clang: clang-built ELF test objects are not made")
endif()

foreach(t test_elf test_kernel)
  if(TARGET ${t})
    target_compile_definitions(${t} PRIVATE BPFLUA_BAD_ELF_DIR="${CMAKE_SOURCE_DIR}/tests/bad/elf")
    target_link_libraries(${t} PRIVATE PkgConfig::LIBBPF)
  endif()
endforeach()
