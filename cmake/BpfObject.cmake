# bpf_object(NAME SRC HEADERS ... VMLINUX_DIR dir)
# Compiles SRC with clang -target bpf, generates NAME.skel.h with bpftool, and
# defines an INTERFACE target NAME_skel carrying the include path. The skeleton
# embeds the BPF object, so the final binary needs no file at run time.
find_program(BPF_CLANG NAMES clang-14 clang REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /usr/local/sbin REQUIRED)

function(bpf_object name src)
  cmake_parse_arguments(BO "" "VMLINUX_DIR" "HEADERS" ${ARGN})
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
    set(_arch x86)
  elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
    set(_arch arm64)
  else()
    message(FATAL_ERROR "no vmlinux.h for ${CMAKE_SYSTEM_PROCESSOR}: run vmlinux/gen-vmlinux.sh")
  endif()
  set(_src ${CMAKE_CURRENT_SOURCE_DIR}/${src})
  set(_obj ${CMAKE_CURRENT_BINARY_DIR}/bpf/${name}.bpf.o)
  set(_skel ${CMAKE_CURRENT_BINARY_DIR}/bpf/${name}.skel.h)
  set(_deps)
  foreach(_h ${BO_HEADERS})
    list(APPEND _deps ${CMAKE_CURRENT_SOURCE_DIR}/${_h})
  endforeach()
  add_custom_command(
    OUTPUT ${_obj}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/bpf
    COMMAND ${BPF_CLANG} -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_${_arch}
            -I${BO_VMLINUX_DIR}/${_arch} -I${CMAKE_CURRENT_SOURCE_DIR}/bpf
            -c ${_src} -o ${_obj}
    DEPENDS ${_src} ${_deps} ${BO_VMLINUX_DIR}/${_arch}/vmlinux.h
    COMMENT "BPF ${name}.bpf.o")
  add_custom_command(
    OUTPUT ${_skel}
    COMMAND ${BPFTOOL} gen skeleton ${_obj} name ${name}_bpf > ${_skel}.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${_skel}.tmp ${_skel}
    DEPENDS ${_obj}
    COMMENT "skeleton ${name}.skel.h")
  add_custom_target(${name}_skel_gen DEPENDS ${_skel})
  add_library(${name}_skel INTERFACE)
  add_dependencies(${name}_skel ${name}_skel_gen)
  target_include_directories(${name}_skel INTERFACE ${CMAKE_CURRENT_BINARY_DIR}/bpf
                                                    ${CMAKE_CURRENT_SOURCE_DIR}/bpf)
endfunction()
