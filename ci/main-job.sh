#!/usr/bin/env bash
# The main job, from a fresh machine (as root): set everything up, then run the ICOIN 2011
# scenario on the netns default — VM A live-migrated PDC → ADC with network paging while it
# streams to U every 10 ms — and print the downtime/switching table beside the paper's
# figures (a labelled reference column) and the report directory. The lab is torn down at
# the end, also on failure or Ctrl-C. Exit status: warplab run's (0 every threshold held,
# 1 one failed, 2 setup error, 130 interrupted). Arguments go to `warplab run`, e.g.
# `bash ci/main-job.sh --repeat 5`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
echo
exec node orchestrator/cli/bin.js run topologies/scenarios/icoin2011-vm-migration.yaml "$@"
