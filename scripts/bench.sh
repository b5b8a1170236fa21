#!/bin/sh
# The benchmark is a harness scenario: scripts/lab/bench.py (`scripts/slk-lab bench --help`).
exec "$(dirname "$0")/slk-lab" bench "$@"
