#!/usr/bin/env bash
# deploy/man/slableak.8 renders without warnings and documents what the
# binary accepts: every subcommand, every option of every subcommand (as
# `slableak CMD --help` lists them), and the version `--version` prints.
#   man_page_test.sh MAN_PAGE SLABLEAK
set -euo pipefail
page=$1 bin=$2
. "$(dirname "$0")/help_options.sh"
slableak_check_scrape "$bin" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }

warnings=$(groff -man -ww -z "$page" 2>&1 || true)
[ -z "$warnings" ] || fail "groff warnings: $warnings"
if command -v man >/dev/null; then
  warnings=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null || true)
  [ -z "$warnings" ] || fail "man --warnings at 80 columns: $warnings"
fi
# The text a reader sees; hyphens normalised (groff may print U+2010/U+2212).
text=$(groff -man -Tutf8 -P-cbou "$page" 2>/dev/null | sed 's/\xe2\x80\x90/-/g; s/\xe2\x88\x92/-/g')
[ -n "$text" ] || fail "empty rendering"

version=$("$bin" --version | awk '{ print $2 }')
grep -q "^\.TH SLABLEAK 8 .*\"slableak $version\"" "$page" || fail ".TH does not say slableak $version"

missing=()
for cmd in $(slableak_subcommands "$bin"); do
  grep -q "^\.B $cmd\$" "$page" || missing+=("command $cmd")
  for opt in $(slableak_options "$bin" "$cmd"); do
    grep -qE -- "(^|[^a-z-])${opt}([^a-z-]|\$)" <<<"$text" || missing+=("$cmd $opt")
  done
done
for opt in $(slableak_options "$bin"); do
  grep -qE -- "(^|[^a-z-])${opt}([^a-z-]|\$)" <<<"$text" || missing+=("$opt")
done
[ ${#missing[@]} -eq 0 ] || fail "not documented in $page: ${missing[*]}"
for section in NAME SYNOPSIS DESCRIPTION "EXIT STATUS" PRIVILEGES FILES EXAMPLES "SEE ALSO"; do
  grep -q "^\.SH $section" "$page" || fail "section $section missing"
done
echo "ok: $page documents $(slableak_subcommands "$bin" | wc -l) commands and their options; no warnings"
