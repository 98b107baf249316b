#!/usr/bin/env bash
# The main job, from a fresh machine: set everything up, bring up the ICOIN 2011 topology
# on the netns default, print its reachability matrix (real pings beside the model's
# prediction), and tear it down — also on failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
warplab() { node orchestrator/cli/bin.js "$@"; }
topo=topologies/icoin2011-paging.yaml
lab=$(warplab validate --json "$topo" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s)[0].name))')
warplab up "$topo"
trap 'warplab down "$lab" >/dev/null' EXIT
echo
echo "Reachability (real pings beside the model; R1 and R3 translate PDC's S <-> S' = 172.15/16):"
warplab reach "$lab"
