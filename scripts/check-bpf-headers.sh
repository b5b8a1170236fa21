#!/usr/bin/env bash
# Every BPF header compiles on its own (after vmlinux.h and libbpf's helper
# headers): none may rely on maps or macros its includer defines first.
#   check-bpf-headers.sh [CLANG]
set -euo pipefail
cd "$(dirname "$0")/.."
clang=${1:-$(command -v clang-14 || command -v clang)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 n=0
for h in bpf/*.h; do
  n=$((n + 1))
  printf '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\n#include <bpf/bpf_tracing.h>\n#include <bpf/bpf_core_read.h>\n#include "%s"\n' \
    "$(basename "$h")" >"$tmp/t.c"
  if ! "$clang" -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_x86 -Ivmlinux/x86 -Ibpf -c "$tmp/t.c" -o "$tmp/t.o" 2>"$tmp/err"; then
    echo "FAIL: $h does not compile on its own:"; sed 's/^/  /' "$tmp/err" | head -20
    fail=1
  fi
done
[ $fail = 0 ] && echo "ok: $n BPF headers compile on their own"
exit $fail
