#!/usr/bin/env bash
# The test command (README, .ci/run): set up what is missing, then unit and integration
# tests. Integration tests build real labs and need root; they skip, saying why, without it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -eq 0 ]; then bash ci/setup.sh; else npm ci --no-audit --no-fund; fi
npm test
