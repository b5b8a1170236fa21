#!/usr/bin/env bash
# Every bad option exits 2 with one line on stderr naming the option, and
# nothing on stdout, whoever runs slableak: as root and as an unprivileged
# user (the options are checked before the root check and the kernel).
#   bad_options_test.sh SLABLEAK
set -uo pipefail
bin=$1
fail=0
# uid 65534 runs a copy in a directory it can enter: the checkout may sit
# under one only root can (a clone in /root, mode 0700).
reach=$(mktemp -d /tmp/slableak-bad-options.XXXXXX)
chmod 755 "$reach"
trap 'rm -rf "$reach"' EXIT
install -m 755 "$bin" "$reach/slableak"
nl=$'\n'
esc=$'\e'
cases=(
  "--duration|snapshot --duration 0s"
  "--duration|snapshot -d 400d"
  "--min-age|snapshot --min-age later"
  "--sample-every|snapshot --sample-every 0"
  "--max-stacks|snapshot --max-stacks 0"
  "--max-stacks|snapshot --max-stacks 4294967295"
  "--max-aggregates|snapshot --max-aggregates 4294967295"
  "--max-tracked|snapshot --max-tracked 40M"
  "--top|snapshot --top -1"
  "--top|top --top 4294967296"
  "--top-stacks|export --top-stacks -1"
  "--format|snapshot --format xml"
  "--sort|top --sort size"
  "--method|check --method guess"
  "--cache|snapshot -c kmalloc-2k -c kmalloc-2k"
  "--listen|export --listen nowhere"
  "--listen|export --listen example.com:9435"
  "--push-pprof|export --push-pprof https://127.0.0.1:4040"
  "--push-pprof|export --push-pprof http://pyroscope.example:4040"
  "--push-interval|export --push-pprof http://127.0.0.1:4040 --push-interval 0s"
  "--format|snapshot --format pprof2"
  "--no-textfile|export --no-textfile"
  "--ready-fd|snapshot --ready-fd 97"
  "--ready-fd|export --ready-fd 2000000"
  "--bogus|snapshot --bogus"
  "export --capture-dir|captures /nonexistent/slableak-captures"
  "frobnicate|frobnicate"
)
run_case() {  # who, expected word, args...
  local who=$1 want=$2; shift 2
  local out err rc lines
  if [ "$who" = root ]; then
    out=$("$bin" "$@" 2>/tmp/bad_options.$$) ; rc=$?
  else
    out=$(cd / && setpriv --reuid=65534 --regid=65534 --clear-groups "$reach/slableak" "$@" 2>/tmp/bad_options.$$) ; rc=$?
  fi
  err=$(cat /tmp/bad_options.$$)
  lines=$(printf '%s' "$err" | grep -c '')
  if [ "$rc" != 2 ] || [ "$lines" != 1 ] || [ -n "$out" ] || [[ $err != *"$want"* ]]; then
    echo "FAIL ($who): slableak $* -> exit $rc, $lines stderr lines: $err${out:+; stdout: $out}"
    fail=1
  fi
}
for c in "${cases[@]}"; do
  want=${c%%|*}
  read -r -a args <<<"${c#*|}"
  for who in root nobody; do run_case "$who" "$want" "${args[@]}"; done
done
# Hostile text is escaped, never echoed raw into the terminal.
for who in root nobody; do
  run_case "$who" "--cache" snapshot -c "a${nl}b"
  run_case "$who" "--cache" snapshot -c "${esc}]0;owned${esc}\\"
done
rm -f /tmp/bad_options.$$
[ $fail = 0 ] && echo "ok: ${#cases[@]} bad command lines exit 2 with one line, as root and as nobody"
exit $fail
