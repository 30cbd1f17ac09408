# The real-world-shapes corpus (tests/corpus/README.md): each NAME.c is
# built three times with clang -O2 -g -target bpf, as written (NAME.o: every
# program safe), with -DUNSAFE (NAME.unsafe.o: the twin of the programs its
# header lists under "unsafe:") and as written with -mcpu=v3 (NAME.v3.o:
# 32-bit subregisters, as Cilium builds), into ${CMAKE_BINARY_DIR}/corpus.
# test_corpus checks bpflua's verdicts and the kernel's on both.
find_program(CLANG_BPF NAMES clang clang-14)
file(GLOB CORPUS_C CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/corpus/*.c)
if(CLANG_BPF AND CORPUS_C)
  if(CMAKE_LIBRARY_ARCHITECTURE)
    set(CORPUS_ARCH_INC /usr/include/${CMAKE_LIBRARY_ARCHITECTURE})
  else()
    set(CORPUS_ARCH_INC /usr/include/${CMAKE_SYSTEM_PROCESSOR}-linux-gnu)
  endif()
  set(CORPUS_OBJS)
  foreach(src ${CORPUS_C})
    get_filename_component(name ${src} NAME_WE)
    # a "cflags: ..." line in the header adds compiler flags (-mcpu=v3)
    file(STRINGS ${src} cflags_line REGEX "^ \\* cflags: ")
    set(extra)
    if(cflags_line)
      string(REGEX REPLACE "^ \\* cflags: " "" extra "${cflags_line}")
      separate_arguments(extra)
    endif()
    foreach(variant safe unsafe v3)
      if(variant STREQUAL "safe")
        set(obj ${CMAKE_BINARY_DIR}/corpus/${name}.o)
        set(def)
      elseif(variant STREQUAL "v3")
        set(obj ${CMAKE_BINARY_DIR}/corpus/${name}.v3.o)
        set(def -mcpu=v3)
      else()
        set(obj ${CMAKE_BINARY_DIR}/corpus/${name}.unsafe.o)
        set(def -DUNSAFE)
      endif()
      add_custom_command(
        OUTPUT ${obj}
        COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/corpus
        COMMAND ${CLANG_BPF} -O2 -g -target bpf ${extra} ${def} -I${CORPUS_ARCH_INC} -c ${src} -o ${obj}
        DEPENDS ${src} ${CMAKE_SOURCE_DIR}/tests/corpus/common.h
        COMMENT "clang -target bpf ${name}.c (${variant})")
      list(APPEND CORPUS_OBJS ${obj})
    endforeach()
  endforeach()
  add_custom_target(corpus_objects ALL DEPENDS ${CORPUS_OBJS})
  foreach(t test_corpus verifier_bench)
    if(TARGET ${t})
      add_dependencies(${t} corpus_objects)
    endif()
  endforeach()
else()
  message(STATUS "no clang: the real-world-shapes corpus is not built")
endif()
