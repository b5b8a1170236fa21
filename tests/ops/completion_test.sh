#!/usr/bin/env bash
# deploy/completion/slableak.bash offers what the binary accepts: all
# subcommands, every option of each subcommand, and the values of
# --format, --sort and --method. Runs the completion function the way bash
# would (COMP_WORDS/COMP_CWORD), without the bash-completion package.
#   completion_test.sh COMPLETION SLABLEAK
set -euo pipefail
file=$1 bin=$2
. "$(dirname "$0")/help_options.sh"
slableak_check_scrape "$bin" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }

# Completes the command line "$@" (the last word is being typed).
complete_words() {
  bash --norc --noprofile -c '
    . "$1"; shift
    COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
    _slableak slableak "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    printf "%s\n" "${COMPREPLY[@]}"' _ "$file" "$@"
}
expect_all() {  # expect_all "what" "offered" words...
  local what=$1 offered=$2 w; shift 2
  for w in "$@"; do grep -qxF -- "$w" <<<"$offered" || fail "$what: '$w' not offered (got: $(tr '\n' ' ' <<<"$offered"))"; done
}

bash -n "$file" || fail "syntax"
complete -p 2>/dev/null >/dev/null || true
registered=$(bash --norc --noprofile -c '. "$1"; complete -p slableak' _ "$file")
[[ $registered == *"-F _slableak slableak"* ]] || fail "does not register: $registered"

mapfile -t cmds < <(slableak_subcommands "$bin")
expect_all "slableak <TAB>" "$(complete_words slableak '')" "${cmds[@]}"
mapfile -t top_opts < <(slableak_options "$bin")
expect_all "slableak -<TAB>" "$(complete_words slableak -)" "${top_opts[@]}"
for cmd in "${cmds[@]}"; do
  mapfile -t opts < <(slableak_options "$bin" "$cmd")
  expect_all "slableak $cmd -<TAB>" "$(complete_words slableak "$cmd" -)" "${opts[@]}"
done
expect_all "--format" "$(complete_words slableak snapshot --format '')" table json folded
expect_all "--sort" "$(complete_words slableak top --sort '')" bytes objects age growth
expect_all "--method" "$(complete_words slableak export --method '')" auto kfunc slab derived
expect_all "--cache" "$(complete_words slableak snapshot -c kmalloc-2)" kmalloc-2k
echo "ok: completion offers ${#cmds[@]} commands, all their options and option values"
