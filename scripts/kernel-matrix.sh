#!/bin/sh
# The kernel matrix now runs through the harness: scripts/slk-lab matrix --help.
exec "$(dirname "$0")/slk-lab" matrix "$@"
