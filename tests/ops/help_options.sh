# shellcheck shell=bash
# Sourced by the ops tests: what the slableak binary says it accepts.
#   slableak_subcommands BIN       one subcommand per line
#   slableak_options BIN [CMD]     one option (-x or --long) per line
slableak_subcommands() {
  "$1" --help | awk '/^Subcommands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }'
}
slableak_options() {
  local bin=$1; shift
  "$bin" "$@" --help | grep -E '^ +-' | sed -E 's/^ +//; s/[ ={].*//' | tr ',' '\n' | grep -E '^-'
}
# Fails (non-zero, with why) when scraping finds nothing: a --help layout
# change must not turn every "is documented" loop into a loop over nothing.
slableak_check_scrape() {
  local bin=$1 cmds n
  cmds=$(slableak_subcommands "$bin")
  n=$(grep -c . <<<"$cmds" || true)
  if [ "$n" -lt 5 ]; then echo "FAIL: found $n subcommands in '$bin --help' (expected snapshot, top, export, caches, check)" >&2; return 1; fi
  for cmd in $cmds; do
    if ! slableak_options "$bin" "$cmd" | grep -q -- '--help'; then
      echo "FAIL: no options scraped from '$bin $cmd --help'" >&2; return 1
    fi
  done
}
