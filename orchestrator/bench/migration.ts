// Benchmark: live migration on the ICOIN topology (network paging), VM and container, with
// the workload's sender at 10 ms (the paper's) and 1 ms, and the same QEMU migration with
// no translator in the path (hypervisors and client on one LAN), all in one run. Per
// migration: largest gap of each stream, the driver's figures, switching time (announcement
// → first packet on the new path). Prints Markdown; the papers' figures only as references.
//   sudo npm run bench:migration [-- --repeat 10 --kinds vm,container]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { up } from '../lab/lab.js';
import { migrateWorkload, type MigrationResult } from '../migration/migrate.js';
import { packageRoot } from '../paths.js';
import { singleHostClock } from '../probe/clock.js';
import { summarize } from '../probe/stats.js';
import { EventLog } from '../probe/timeline.js';
import { paperReferences } from '../report/references.js';
import { analyzeRun, streamInput } from '../report/run.js';
import { loadTopologyFile, parseTopology } from '../topology/load.js';
import type { Topology, WorkloadKind } from '../topology/model.js';
import { startWorkloadStreams } from '../workload/streams.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
}
const repeat = Number(arg('repeat', '10'));
const kinds = arg('kinds', 'vm,container').split(',') as WorkloadKind[];

/** Two hypervisors and the client on one LAN: the same migration, no router, no translator. */
const FLAT = `
name: flat-bench
nodes:
  lan: {kind: lan, subnet: 172.16.0.0/16}
  mgmt: {kind: lan, subnet: 192.0.2.0/24}
  hv1: {kind: hypervisor, interfaces: {eth0: {ipv4: 172.16.0.11/16}, eth1: {ipv4: 192.0.2.11/24}}}
  hv2: {kind: hypervisor, interfaces: {eth0: {ipv4: 172.16.0.12/16}, eth1: {ipv4: 192.0.2.12/24}}}
  U: {kind: host, interfaces: {eth0: {ipv4: 172.16.0.100/16}}}
links: [hv1:eth0 -- lan, hv2:eth0 -- lan, U:eth0 -- lan, hv1:eth1 -- mgmt, hv2:eth1 -- mgmt]
workloads:
  vm-a: {kind: vm, on: hv1, ipv4: 172.16.10.2/16, app: {peer: 172.16.0.100}}
migration: {network: mgmt}
`;

interface Sample {
  result: MigrationResult;
  gapOwn: number | null;
  gapEcho: number | null;
}

async function series(t: Topology, hvs: [string, string], label: string): Promise<Sample[]> {
  const stateDir = mkdtempSync(join(tmpdir(), 'warplab-bench-'));
  const runDir = mkdtempSync(join(tmpdir(), 'warplab-bench-run-'));
  try {
    await using lab = await up(t, { stateDir });
    const w = t.workloads[0]!;
    const streams = await startWorkloadStreams(lab, w, { dir: runDir, echoIntervalMs: w.app.intervalMs, maxDurationS: 3600 });
    await sleep(1000);
    const events = new EventLog();
    const results: MigrationResult[] = [];
    for (let i = 0; i < repeat; i++) {
      results.push(await migrateWorkload(lab, w.name, hvs[(i + 1) % 2]!, { events }));
      await sleep(700 + 20 * w.app.intervalMs);
      process.stderr.write(`\r${label}: ${i + 1}/${repeat}`);
    }
    process.stderr.write('\n');
    const captures = await Promise.all(streams.map((s) => s.stop()));
    const run = analyzeRun({ name: label, createdAt: new Date().toISOString(), clock: singleHostClock(), analysis: {}, thresholds: [], trials: [{ label, events: events.events, streams: captures.map((c) => streamInput(c, runDir)) }] }, runDir);
    const [own, echo] = run.trials[0]!.streams;
    return results.map((result, i) => ({ result, gapOwn: own!.analysis.windows[i]?.downtimeMs ?? null, gapEcho: echo!.analysis.windows[i]?.downtimeMs ?? null }));
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(runDir, { recursive: true, force: true });
  }
}

const f = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? '–' : x < 10 ? x.toFixed(2) : x.toFixed(1));
function row(name: string, xs: (number | null)[], ref?: { mean: number; sd: number }): string {
  const s = summarize(xs.filter((x): x is number => x !== null && !Number.isNaN(x)));
  const cells = s ? [f(s.mean), f(s.sd), f(s.min), f(s.median), f(s.max), String(s.n)] : ['–', '–', '–', '–', '–', '0'];
  return `| ${name} | ${cells.join(' | ')} | ${ref ? `${ref.mean} (σ ${ref.sd})` : ''} |`;
}
const ref = (metric: 'switchingMs' | 'downtimeMs') => paperReferences.find((r) => r.metric === metric)!;

function print(title: string, samples: Sample[]): number | undefined {
  const fig = (k: string) => samples.map((s) => Number(s.result.figures[k] ?? NaN));
  console.log(`\n### ${title}\n`);
  console.log('| metric (ms) | mean | σ | min | median | max | n | paper, reference only |');
  console.log('|---|---|---|---|---|---|---|---|');
  console.log(row('largest gap, workload → client', samples.map((s) => s.gapOwn), ref('downtimeMs')));
  console.log(row('largest gap, client → workload → client', samples.map((s) => s.gapEcho)));
  console.log(row('switching time (announcement → first packet on the new path)', samples.map((s) => s.result.switching.switchingMs), ref('switchingMs')));
  console.log(row('announcement → translators switched', samples.map((s) => s.result.switching.announceToSwitchedMs)));
  if (samples[0]?.result.kind === 'vm') {
    console.log(row("QEMU's downtime", fig('downtimeMs')));
    console.log(row("QEMU's total time", fig('totalTimeMs')));
    console.log(row('STOP → RESUME (QMP events)', fig('stopToResumeMs')));
  } else {
    console.log(row('CRIU checkpoint', fig('checkpointMs')));
    console.log(row('restore', fig('restoreMs')));
    console.log(row('stop → resume', fig('stopToResumeMs')));
  }
  console.log(row('whole migration as warplab saw it', samples.map((s) => s.result.elapsedMs)));
  const accel = samples[0]?.result.figures.accel;
  if (accel) console.log(`\naccelerator: ${accel}`);
  return summarize(samples.map((s) => s.gapOwn).filter((x): x is number => x !== null))?.median;
}

const icoin = await loadTopologyFile(join(packageRoot, 'topologies', 'icoin2011-paging.yaml'));
const variant = (kind: WorkloadKind, intervalMs: number): Topology => ({
  ...icoin,
  name: `bench-${kind === 'vm' ? 'vm' : 'ct'}-${intervalMs}`,
  workloads: icoin.workloads.map((w) => ({ ...w, kind, app: { ...w.app, intervalMs } })),
});

console.log(`## Live migration on the ICOIN topology, ${repeat} migrations per row (PDC ⇄ ADC alternately)`);
const medians: Record<string, number | undefined> = {};
for (const kind of kinds) {
  for (const interval of [10, 1]) {
    const label = `${kind}, ${interval} ms sender, network paging`;
    medians[`${kind}-${interval}`] = print(label, await series(variant(kind, interval), ['pdc-hv', 'adc-hv'], label));
  }
}
if (kinds.includes('vm')) {
  const flat = parseTopology(FLAT, 'flat.yaml');
  const t = { ...flat, workloads: flat.workloads.map((w) => ({ ...w, app: { ...w.app, intervalMs: 1 } })) };
  const label = 'vm, 1 ms sender, no translator in the path (one LAN)';
  const base = print(label, await series(t, ['hv1', 'hv2'], label));
  const paged = medians['vm-1'];
  if (base !== undefined && paged !== undefined) {
    console.log(`\nnetwork-visible gap of a VM migration, 1 ms sender, median: ${f(paged)} ms with network paging vs ${f(base)} ms with no translator: ${paged - base >= 0 ? '+' : ''}${f(paged - base)} ms (target: at most +5 ms)`);
  }
}
