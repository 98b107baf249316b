// A timed link cut under a 1 ms probe stream in both directions, shared by the probe
// benchmark (what the probe measures against the cut) and its integration test (that the
// two agree within what the test itself sees of the machine's noise).
//
// The cut is a bridge port of lan l going down (`ip link set down`), and r and b know each
// other's MAC as permanent neighbours. Why: setting an address-carrying interface down
// flushes its neighbours, even permanent ones, and the ARP exchange right after it comes
// back races the peer's carrier-up handling: measured here, about 1 in 6 cuts then waited
// for the 1 s ARP retry. A bridge port only drops the carrier, which keeps permanent
// entries, so what is measured is the cut itself.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LabHandle } from '../lab/handle.js';
import { monitorLinks } from '../probe/link-monitor.js';
import { startProbeStream } from '../probe/stream.js';
import { EventLog } from '../probe/timeline.js';
import { streamInput, type ProbeRun, type TrialInput } from '../report/run.js';

export const CUT_INTERVAL_MS = 1;

export const linkCutTopology = (name: string) => `
name: ${name}
routing: auto
nodes:
  a: {kind: host, interfaces: {eth0: {ipv4: 10.0.1.2/24}}}
  r: {kind: router, interfaces: {eth0: {ipv4: 10.0.1.1/24}, eth1: {ipv4: 10.0.2.1/24}}}
  l: {kind: lan}
  b: {kind: host, interfaces: {eth0: {ipv4: 10.0.2.2/24}}}
links:
  - a:eth0 -- r:eth0
  - r:eth1 -- l
  - b:eth0 -- l
`;

/** From `ip -o link show dev X` (sysfs would show the orchestrator's namespace, not the node's). */
async function link(lab: LabHandle, node: string, dev: string): Promise<{ peerIndex: string; mac: string }> {
  const out = (await lab.shell(node).exec(['ip', '-o', 'link', 'show', 'dev', dev])).stdout;
  const m = /^\d+: [^@:]+@if(\d+):.* link\/ether (\S+)/.exec(out);
  if (!m) throw new Error(`unexpected ip link output in ${node}: ${out}`);
  return { peerIndex: m[1]!, mac: m[2]! };
}

async function pinNeighbour(lab: LabHandle, node: string, dev: string, ip: string, peer: string, peerDev: string): Promise<void> {
  const { mac } = await link(lab, peer, peerDev);
  await lab.shell(node).exec(['ip', 'neigh', 'replace', ip, 'lladdr', mac, 'dev', dev, 'nud', 'permanent']);
}

/** Pins r's and b's neighbours; returns l's port towards b, the one to cut. */
export async function prepareCut(lab: LabHandle): Promise<string> {
  await pinNeighbour(lab, 'r', 'eth1', '10.0.2.2', 'b', 'eth0');
  await pinNeighbour(lab, 'b', 'eth0', '10.0.2.1', 'r', 'eth1');
  const { peerIndex } = await link(lab, 'b', 'eth0');
  const line = (await lab.shell('l').exec(['ip', '-o', 'link', 'show'])).stdout.split('\n').find((l) => l.startsWith(`${peerIndex}: `));
  return line!.split(': ')[1]!.split('@')[0]!;
}

/**
 * One trial: streams a→b and b→a, `ip monitor` on l, then l's `port` down for `cutMs`
 * (one `ip` process for both changes, so only the sleep separates them). Raw logs go to
 * runDir/raw.
 */
export async function cutTrial(lab: LabHandle, port: string, cutMs: number, label: string, runDir: string): Promise<TrialInput> {
  const raw = (name: string) => join(runDir, 'raw', `${label.replace(/\W+/g, '-')}-${name}`);
  const streams = await Promise.all([
    startProbeStream({ label: 'a→b', sender: lab.shell('a'), receiver: lab.shell('b'), to: '10.0.2.2', intervalMs: CUT_INTERVAL_MS, stream: 1, maxDurationS: 30, logPath: raw('a-b.bin') }),
    startProbeStream({ label: 'b→a', sender: lab.shell('b'), receiver: lab.shell('a'), to: '10.0.1.2', intervalMs: CUT_INTERVAL_MS, stream: 2, maxDurationS: 30, logPath: raw('b-a.bin') }),
  ]);
  const links = await monitorLinks(lab.shell('l'), 'l', raw('l-links.txt'));
  await sleep(400);
  const events = new EventLog();
  events.record('note', 'orchestrator', `cutting l:${port} (towards b) for ${cutMs} ms`);
  await lab.shell('l').exec(['sh', '-c', `(echo 'link set dev ${port} down'; sleep ${cutMs / 1000}; echo 'link set dev ${port} up') | ip -batch -`]);
  await sleep(400);
  const captures = await Promise.all(streams.map((s) => s.stop()));
  for (const e of await links.stop()) events.add(e);
  return { label, events: events.events, streams: captures.map((c) => streamInput(c, runDir)) };
}

/** Per trial and stream: the cut as `ip monitor` stamped it, and the gap around it as the receiver's kernel stamped it. */
export interface CutEdges {
  trial: string;
  stream: string;
  cutMs: number;
  gapMs: number;
  /** Link down (monitor) − last packet before the cut (receiver's kernel). */
  downEdgeMs: number;
  /** First packet after the cut (receiver's kernel) − link up (monitor). */
  upEdgeMs: number;
  /** Largest inter-arrival outside the cut: how late this stream's packets could come. */
  noiseFloorMs: number;
  lost: number;
}

export function cutEdges(run: ProbeRun): CutEdges[] {
  return run.trials.flatMap((t) => {
    const cut = t.windows.find((w) => w.kind === 'link-cut');
    if (!cut) throw new Error(`${t.label}: ip monitor saw no link cut`);
    return t.streams.map((s) => {
      const gap = s.analysis.windows.find((w) => w.window === cut.label)?.downtimeGap;
      if (!gap) throw new Error(`${t.label} ${s.label}: no gap around the cut`);
      return {
        trial: t.label,
        stream: s.label,
        cutMs: cut.endMs - cut.startMs,
        gapMs: gap.durationMs,
        downEdgeMs: cut.startMs - gap.startMs,
        upEdgeMs: gap.endMs - cut.endMs,
        noiseFloorMs: s.analysis.noiseFloorMs ?? 0,
        lost: s.analysis.lost,
      };
    });
  });
}
