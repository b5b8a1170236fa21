# bpf_object(NAME SRC [ARCH x86|arm64] [DEFINES SYM ...] VMLINUX_DIR dir)
# Compiles SRC with clang -target bpf, generates NAME.skel.h with bpftool, and
# defines an INTERFACE target NAME_skel carrying the include path. The skeleton
# embeds the BPF object, so the final binary needs no file at run time.
# The object depends on every header SRC includes, as clang lists them in a
# depfile (-MD): an edit to any of them, bpf/*.h, vmlinux.h or libbpf's,
# rebuilds it (checked by the ops test bpf_object_dependencies).
#
# ARCH (default SLABLEAK_BPF_ARCH, itself derived from the target processor, so a
# cross build with cmake/toolchains/aarch64-linux-gnu.cmake gets arm64) selects
# -D__TARGET_ARCH_<arch> and VMLINUX_DIR/<arch>/vmlinux.h. The bytecode is the
# same kind on every architecture, but the kernel types and what bpf/ may assume
# about the kernel stack are not.
find_program(BPF_CLANG NAMES clang-14 clang REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /usr/local/sbin REQUIRED)

if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(_default_bpf_arch x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
  set(_default_bpf_arch arm64)
else()
  set(_default_bpf_arch unsupported)
endif()
set(SLABLEAK_BPF_ARCH ${_default_bpf_arch} CACHE STRING
    "Kernel architecture the BPF object is built for (x86 or arm64; follows the target processor)")
set_property(CACHE SLABLEAK_BPF_ARCH PROPERTY STRINGS x86 arm64)

function(bpf_object name src)
  cmake_parse_arguments(BO "" "VMLINUX_DIR;ARCH" "DEFINES" ${ARGN})
  set(_arch ${BO_ARCH})
  if(NOT _arch)
    set(_arch ${SLABLEAK_BPF_ARCH})
  endif()
  if(NOT _arch MATCHES "^(x86|arm64)$")
    message(FATAL_ERROR "no BPF target for processor '${CMAKE_SYSTEM_PROCESSOR}' "
                        "(SLABLEAK_BPF_ARCH=${_arch}): slableak builds for x86 and arm64")
  endif()
  if(NOT EXISTS ${BO_VMLINUX_DIR}/${_arch}/vmlinux.h)
    message(FATAL_ERROR "${BO_VMLINUX_DIR}/${_arch}/vmlinux.h is missing: "
                        "generate it with vmlinux/gen-vmlinux.sh ${_arch}")
  endif()
  set(_src ${CMAKE_CURRENT_SOURCE_DIR}/${src})
  set(_obj ${CMAKE_CURRENT_BINARY_DIR}/bpf/${name}.bpf.o)
  set(_skel ${CMAKE_CURRENT_BINARY_DIR}/bpf/${name}.skel.h)
  set(_defs)
  foreach(_d ${BO_DEFINES})
    list(APPEND _defs -D${_d})
  endforeach()
  add_custom_command(
    OUTPUT ${_obj}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/bpf
    COMMAND ${BPF_CLANG} -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_${_arch} ${_defs}
            -I${BO_VMLINUX_DIR}/${_arch} -I${CMAKE_CURRENT_SOURCE_DIR}/bpf
            -MD -MF ${_obj}.d -c ${_src} -o ${_obj}
    DEPFILE ${_obj}.d
    DEPENDS ${_src} ${BO_VMLINUX_DIR}/${_arch}/vmlinux.h
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
