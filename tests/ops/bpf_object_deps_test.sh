#!/bin/sh
# Each BPF object depends on every header it includes: after a build, a newer
# bpf/*.h (any of them) makes the build system want to compile an object that
# includes it again (cmake/BpfObject.cmake: clang's depfile). Runs bpf_object()
# for every bpf/*.bpf.c on a scratch copy of bpf/ and cmake/, so the tree itself
# is never touched.
# usage: bpf_object_deps_test.sh SOURCE_DIR CMAKE GENERATOR
set -eu
src=$1
cmake=$2
generator=$3
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -r "$src/bpf" "$src/cmake" "$scratch/"
cat >"$scratch/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.20)
project(bpf_object_deps NONE)
include(cmake/BpfObject.cmake)
EOF
for c in "$scratch"/bpf/*.bpf.c; do
  n=$(basename "$c" .bpf.c)
  printf 'bpf_object(probe_%s bpf/%s.bpf.c VMLINUX_DIR %s/vmlinux)\nadd_custom_target(probe_%s_all ALL DEPENDS probe_%s_skel_gen)\n' \
    "$n" "$n" "$src" "$n" "$n" >>"$scratch/CMakeLists.txt"
done
"$cmake" -S "$scratch" -B "$scratch/b" -G "$generator" >/dev/null
"$cmake" --build "$scratch/b" >/dev/null
# A second, empty build: the Makefile generator reads the depfile into its
# own dependency list at the start of a build.
"$cmake" --build "$scratch/b" >/dev/null
obj=$scratch/b/bpf/probe_slableak.bpf.o

# Would the build compile an object? (a dry run: prints the commands)
would_compile() {
  "$cmake" --build "$scratch/b" -- -n 2>/dev/null | grep -q -- "-c $scratch/bpf/[a-z_]*\.bpf\.c"
}

if would_compile; then
  echo "FAIL: a BPF object is out of date right after a build"
  exit 1
fi
fail=0
checked=0
for h in "$scratch"/bpf/*.h; do
  touch -r "$obj" -d '+2 seconds' "$h"
  if would_compile; then
    checked=$((checked + 1))
  else
    echo "FAIL: a newer bpf/$(basename "$h") rebuilds no BPF object"
    fail=1
  fi
  touch -r "$obj" -d '-2 seconds' "$h"
done
echo "bpf_object_deps: $checked of $(find "$scratch/bpf" -name '*.h' | wc -l) headers rebuild an object"
exit "$fail"
