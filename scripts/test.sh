#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs unit and
# integration tests (CTest), then the Prometheus rule tests and the kernel
# matrix. Run as root: integration tests load BPF programs. Under CI=true an
# integration test that would skip fails instead.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
ctest --test-dir build --output-on-failure --timeout 600 "$@"
