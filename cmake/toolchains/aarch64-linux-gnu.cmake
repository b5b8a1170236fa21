# Cross-compile slableak for arm64 (aarch64) on an x86-64 Debian host with
# Debian's cross toolchain and the arm64 builds of the libraries (multiarch):
#   dpkg --add-architecture arm64 && apt-get update
#   apt-get install gcc-aarch64-linux-gnu g++-aarch64-linux-gnu \
#     libbpf-dev:arm64 libelf-dev:arm64 zlib1g-dev:arm64 libzstd-dev:arm64
# (scripts/setup-cross-arm64.sh does both). Used by the "arm64-static" preset:
#   cmake --preset arm64-static && cmake --build --preset arm64-static
# The BPF object is target-independent bytecode, but it is compiled with
# -D__TARGET_ARCH_arm64 against vmlinux/arm64/vmlinux.h (cmake/BpfObject.cmake
# picks both from CMAKE_SYSTEM_PROCESSOR).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# Libraries and pkg-config files of the arm64 multiarch packages, never the
# host's x86-64 ones. Header-only packages (CLI11, nlohmann-json) are
# architecture-independent and found under /usr as usual.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)   # clang, bpftool run on the host
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
set(CMAKE_LIBRARY_PATH /usr/lib/aarch64-linux-gnu)
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)

