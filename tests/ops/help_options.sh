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
