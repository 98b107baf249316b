#!/usr/bin/env bash
# Proof, by hand (root), that a container workload migrates between two "hypervisors"
# with its UDP streams intact, and what a failed restore leaves (not part of CI).
#
#   h4-client 172.16.0.10 ── br0 (h4-lan) ─┬─ h4-hv1: brv ─ veth ─ holder1 (172.16.10.3)
#                                          └─ h4-hv2: brv ─ veth ─ holder2 (172.16.10.3)
# Both holders carry the workload's IP and MAC; only the one hosting the workload has its
# hypervisor-side veth up. The workload (agents/container-image/app.sh) streams to the
# client every 1 ms and echoes the client's 1 ms probes. Each run: checkpoint, switch the
# veths, restore into the other holder; then a restore that fails (destination holder
# missing) and the way back: restore at the source from the same checkpoint.
# Uses the built orchestrator (dist/orchestrator/workload/docker/) against a private
# dockerd in a temporary folder. Usage: agents/container-image/migrate-test.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
RUNS=${1:-5}
[ "$(id -u)" -eq 0 ] || { echo "migrate-test.sh: run as root" >&2; exit 2; }

CRIU=$(bash ci/criu.sh 2>/dev/null | tail -n1)
npm run --silent build
make -s -C agents/container-image
WORK=$(mktemp -d /tmp/h4-migrate.XXXXXX)
NS=(h4-client h4-lan h4-hv1 h4-hv2)
CLIENT_PIDS=()

drive() { node "$WORK/drive.mjs" "$@"; }

cleanup() {
  set +e
  for p in "${CLIENT_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  [ -f "$WORK/drive.mjs" ] && drive reap
  for n in "${NS[@]}"; do ip netns del "$n" 2>/dev/null; done
  rm -rf "$WORK"
  if mount | grep -q "$WORK"; then echo "LEFT MOUNTED under $WORK" >&2; fi
}
trap cleanup EXIT

# The Node side: one command per call, reattaching to the engine from its folder.
cat >"$WORK/drive.mjs" <<EOF
import { readFileSync } from 'node:fs';
import { LocalShell } from '$ROOT/dist/orchestrator/shell/local.js';
import * as d from '$ROOT/dist/orchestrator/workload/docker/index.js';
import { parseArrivalLog } from '$ROOT/dist/orchestrator/probe/log.js';
const dir = '$WORK/engine', shell = new LocalShell();
const [cmd, ...a] = process.argv.slice(2);
const out = (o) => console.log(JSON.stringify(o));
const sh = (c) => shell.exec(['sh', '-c', c]);
const engine = () => d.attachEngine(dir, shell);
switch (cmd) {
  case 'start': {
    const t = performance.now();
    const e = await d.startEngine({ dir, shell, criu: '$CRIU' });
    const h1 = await d.createHolder(e.docker, 'h4-holder1'), h2 = await d.createHolder(e.docker, 'h4-holder2');
    out({ startMs: Math.round(performance.now() - t), pid: e.pid, socket: e.socket, h1: h1.pid, h2: h2.pid });
    break;
  }
  case 'run': { // NAME HOLDER PEER
    const e = await engine();
    const c = await e.docker.createContainer({ name: a[0], Image: e.image, Env: ['WARPLAB_PEER=' + a[2], 'WARPLAB_INTERVAL_US=1000'], HostConfig: { NetworkMode: 'container:' + a[1] } });
    await c.start();
    out({ id: c.id });
    break;
  }
  case 'migrate': { // SRC CHECKPOINT DST HOLDER SWITCH-COMMANDS
    const e = await engine();
    const t0 = Date.now();
    const r = await d.migrate(e.docker, e, { source: a[0], checkpointName: a[1], name: a[2], networkMode: 'container:' + a[3], between: () => sh(a[4]) });
    const t1 = Date.now();
    await e.docker.getContainer(a[0]).remove({ force: true });
    out({ t0, t1, ...r });
    break;
  }
  case 'fail': { // SRC CHECKPOINT MISSING-HOLDER SWITCH-COMMANDS SWITCH-BACK
    const e = await engine();
    const t0 = Date.now();
    const info = await e.docker.getContainer(a[0]).inspect();
    const cp = await d.checkpoint(e.docker, info.Id, a[1]);
    await sh(a[3]);
    let error;
    try {
      await d.restoreInto(e.docker, e, { image: info.Config.Image, name: 'h4-doomed', networkMode: 'container:' + a[2], env: info.Config.Env, checkpointDir: d.checkpointDir(e, info.Id, a[1]) });
    } catch (err) {
      error = { class: err.name, phase: err.phase, message: err.message.split('\n')[0].slice(0, 300) };
    }
    const failedAt = Date.now();
    // The way back: the source still has its checkpoint, its holder its address.
    await sh(a[4]);
    const r0 = performance.now();
    await d.startFromCheckpoint(e.docker, info.Id, a[1]);
    const back = await e.docker.getContainer(info.Id).inspect();
    out({ t0, t1: Date.now(), failedAt, checkpointMs: cp.ms, error, restoreAtSourceMs: performance.now() - r0, sourceState: back.State.Status, leftover: (await e.docker.listContainers({ all: true })).map((c) => c.Names[0] + ':' + c.State) });
    break;
  }
  case 'gaps': { // LOG WINDOWS-JSON: largest gap and lost packets in each [t0, t1 + 1 s]
    const log = parseArrivalLog(readFileSync(a[0]), a[0]);
    const s = [...log.streams.values()][0];
    out(JSON.parse(a[1]).map(([t0, t1]) => {
      let gap = 0, prev, lost = 0, prevSeq;
      for (let i = 0; i < s.recvMs.length; i++) {
        if (s.recvMs[i] < t0 - 100 || s.recvMs[i] > t1 + 1000) continue;
        if (prev !== undefined) gap = Math.max(gap, s.recvMs[i] - prev);
        if (prevSeq !== undefined && s.seq[i] > prevSeq + 1) lost += s.seq[i] - prevSeq - 1;
        prev = s.recvMs[i]; prevSeq = s.seq[i];
      }
      return { gapMs: +gap.toFixed(1), lost };
    }));
    break;
  }
  case 'reap':
    await d.reapEngine(dir, shell);
    break;
}
EOF

echo "== engine and holders"
started=$(drive start)
echo "$started"
h1=$(sed -E 's/.*"h1":([0-9]+).*/\1/' <<<"$started")
h2=$(sed -E 's/.*"h2":([0-9]+).*/\1/' <<<"$started")

echo "== network: client, LAN bridge, two hypervisors, a veth into each holder"
for n in "${NS[@]}"; do ip netns add "$n"; ip -n "$n" link set lo up; done
ip -n h4-lan link add br0 type bridge && ip -n h4-lan link set br0 up
ip -n h4-client link add c0 type veth peer name p-client netns h4-lan
ip -n h4-client addr add 172.16.0.10/16 dev c0 && ip -n h4-client link set c0 up
ip -n h4-lan link set p-client master br0 up
for i in 1 2; do
  hv=h4-hv$i pid=$([ $i = 1 ] && echo "$h1" || echo "$h2")
  ip -n $hv link add brv type bridge && ip -n $hv link set brv up
  ip -n $hv link add up0 type veth peer name p-hv$i netns h4-lan
  ip -n $hv link set up0 master brv up && ip -n h4-lan link set p-hv$i master br0 up
  ip -n $hv link add w0 type veth peer name eth0 netns "$pid"
  ip -n $hv link set w0 master brv
  nsenter --net="/proc/$pid/ns/net" sh -c 'ip link set eth0 address 02:00:ac:10:0a:03 &&
    ip addr add 172.16.10.3/16 dev eth0 && ip link set eth0 up'
done
ip -n h4-hv1 link set w0 up # the workload starts at hv1

echo "== client: receives the stream (5001) and echoes (5002), probes the workload (5000)"
B=$ROOT/agents/build
ip netns exec h4-client "$B/udp-recv" --port 5001 --out "$WORK/fwd.log" --duration 900 2>"$WORK/fwd.err" & CLIENT_PIDS+=($!)
ip netns exec h4-client "$B/udp-recv" --port 5002 --out "$WORK/echo.log" --duration 900 2>"$WORK/echo.err" & CLIENT_PIDS+=($!)
sleep 0.2
ip netns exec h4-client "$B/udp-send" --to 172.16.10.3 --port 5000 --interval-us 1000 --stream 2 --duration 900 >/dev/null & CLIENT_PIDS+=($!)

drive run h4-w0 h4-holder1 172.16.0.10 >/dev/null
sleep 1.5

to_hv2='ip -n h4-hv1 link set w0 down && ip -n h4-hv2 link set w0 up'
to_hv1='ip -n h4-hv2 link set w0 down && ip -n h4-hv1 link set w0 up'
windows=()
printf '%-4s %-4s %8s %8s %8s %8s %8s %8s %9s\n' run to checkpt switch create copy restore total 'attempts'
for run in $(seq "$RUNS"); do
  if [ $((run % 2)) = 1 ]; then dst=h4-holder2 sw=$to_hv2 to=hv2; else dst=h4-holder1 sw=$to_hv1 to=hv1; fi
  r=$(drive migrate "h4-w$((run - 1))" "cp$run" "h4-w$run" "$dst" "$sw")
  node -e 'const r = JSON.parse(process.argv[1]); const f = (x) => x.toFixed(0).padStart(8);
    console.log(process.argv[2].padEnd(4), process.argv[3].padEnd(4), f(r.checkpointMs), f(r.switchMs), f(r.createMs), f(r.copyMs), f(r.restoreMs), f(r.t1 - r.t0), String(r.attempts).padStart(9))' "$r" "$run" "$to"
  windows+=("[$(sed -E 's/.*"t0":([0-9]+),"t1":([0-9]+).*/\1,\2/' <<<"$r")]")
  sleep 1.5
done
last=h4-w$RUNS
if [ $((RUNS % 2)) = 1 ]; then here=2 there=1; else here=1 there=2; fi

echo "== a restore that fails: the destination holder is missing"
f=$(drive fail "$last" cpfail h4-no-such-holder \
  "ip -n h4-hv$here link set w0 down && ip -n h4-hv$there link set w0 up" \
  "ip -n h4-hv$there link set w0 down && ip -n h4-hv$here link set w0 up")
echo "$f"
windows+=("[$(sed -E 's/.*"t0":([0-9]+),"t1":([0-9]+).*/\1,\2/' <<<"$f")]")
sleep 1.5

for p in "${CLIENT_PIDS[@]}"; do kill "$p" 2>/dev/null; done
wait 2>/dev/null || true
CLIENT_PIDS=()
W=$(IFS=,; echo "[${windows[*]}]")
echo "== largest gap and lost packets per run (last row: the failed restore and the way back)"
echo "stream workload->client: $(drive gaps "$WORK/fwd.log" "$W")"
echo "echo   client->workload->client: $(drive gaps "$WORK/echo.log" "$W")"
head -n1 "$WORK/echo.err"
