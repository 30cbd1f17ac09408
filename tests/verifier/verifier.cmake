# The verifier corpus's C cases: tests/verifier/*.c compiled with
# clang -O2 -g -target bpf into ${CMAKE_BINARY_DIR}/verifier/NAME.o, which
# test_verifier and test_verifier_kernel load through the ELF reader.
find_program(CLANG_BPF NAMES clang clang-14)
file(GLOB VERIFIER_C_CASES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/verifier/*.c)
if(CLANG_BPF AND VERIFIER_C_CASES)
  if(CMAKE_LIBRARY_ARCHITECTURE)
    set(VERIFIER_ARCH_INC /usr/include/${CMAKE_LIBRARY_ARCHITECTURE})
  else()
    set(VERIFIER_ARCH_INC /usr/include/${CMAKE_SYSTEM_PROCESSOR}-linux-gnu)
  endif()
  set(VERIFIER_OBJS)
  foreach(src ${VERIFIER_C_CASES})
    get_filename_component(name ${src} NAME_WE)
    set(obj ${CMAKE_BINARY_DIR}/verifier/${name}.o)
    add_custom_command(
      OUTPUT ${obj}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/verifier
      COMMAND ${CLANG_BPF} -O2 -g -target bpf -I${VERIFIER_ARCH_INC} -c ${src} -o ${obj}
      DEPENDS ${src}
      COMMENT "clang -target bpf ${name}.c")
    list(APPEND VERIFIER_OBJS ${obj})
  endforeach()
  add_custom_target(verifier_objects ALL DEPENDS ${VERIFIER_OBJS})
  foreach(t test_verifier test_verifier_kernel)
    if(TARGET ${t})
      add_dependencies(${t} verifier_objects)
    endif()
  endforeach()
else()
  message(STATUS "no clang: the verifier's C cases are not built")
endif()
