#!/usr/bin/env bash
# Runs shellcheck over every shell script of the repository, whichever exist when
# it runs: the files git tracks (every file below SOURCE_DIR outside build
# trees, without git) named *.sh or *.bash, or starting with a #! line of
# sh, bash or dash. Guest scripts run by busybox sh are checked as POSIX sh.
# Sourced files follow their includers (-x, paths relative to the script).
# usage: shellcheck_test.sh SOURCE_DIR [SHELLCHECK]
set -euo pipefail
cd "$1"
shellcheck=${2:-shellcheck}
command -v "$shellcheck" >/dev/null || { echo "FAIL: $shellcheck not found: scripts/setup.sh installs it"; exit 1; }

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -d '' files < <(git ls-files -z)
else
  mapfile -d '' files < <(find . -path './build*' -prune -o -path '*/node_modules' -prune -o -path ./.git -prune \
                               -o -type f -print0)
fi

sh_scripts=() posix_busybox=()
for f in "${files[@]}"; do
  [ -f "$f" ] || continue  # deleted in the work tree
  first=$(head -c 128 "$f" | head -n 1 | tr -d '\0')
  case $first in
    '#!'*busybox*' sh'*) posix_busybox+=("$f") ;;
    '#!'*/sh | '#!'*/sh' '* | '#!'*bash* | '#!'*/dash*) sh_scripts+=("$f") ;;
    *) case $f in *.sh | *.bash) sh_scripts+=("$f") ;; esac ;;
  esac
done
total=$((${#sh_scripts[@]} + ${#posix_busybox[@]}))
[ "$total" -gt 0 ] || { echo "FAIL: no shell scripts found under $PWD"; exit 1; }

fail=0
if [ ${#sh_scripts[@]} -gt 0 ]; then
  "$shellcheck" -x -P SCRIPTDIR "${sh_scripts[@]}" || fail=1
fi
if [ ${#posix_busybox[@]} -gt 0 ]; then
  "$shellcheck" -x -P SCRIPTDIR -s sh "${posix_busybox[@]}" || fail=1
fi
[ $fail = 0 ] && echo "shellcheck: $total shell scripts clean"
exit $fail
