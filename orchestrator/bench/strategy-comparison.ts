// Benchmark: the four address strategies side by side. The same VM (or container) moves
// PDC ⇄ ADC on labs of one shape (ICOIN's two DCs, a WAN core, a client site) with each
// strategy, the series of all strategies interleaved so that machine noise hits them alike, at
// the papers' 10 ms and at 1 ms. Per move: largest gap (or "did not resume"), switching time,
// resume → first packet, migration time. Per strategy, before the first move and after it:
// RTT and routers on the client ↔ workload path (the stretch), the bytes each packet carries on
// the destination's WAN link (captured), and the control-plane state the routers' kernels
// hold. Prints one Markdown table and writes it with JSON and an SVG chart; the papers'
// figures only as labelled references.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { routersState } from '../lab/kernel-state.js';
import { getStrategy } from '../migration/strategy.js';
import { packageRoot } from '../paths.js';
import { parsePing, splitRoute } from '../probe/ping.js';
import { summarize } from '../probe/stats.js';
import { wireOverhead } from '../probe/wire-overhead.js';
import { renderSvg } from '../report/svg.js';
import { loadTopologyFile } from '../topology/load.js';
import { isRouter, type Topology, type WorkloadKind } from '../topology/model.js';
import { segmentsOf } from '../topology/segments.js';
import { APP_PORTS } from '../workload/app.js';
import { workloadsMissing } from '../workload/start.js';
import { peerNode } from '../workload/streams.js';
import { interleaved, Series } from './series.js';
import { chartSpec, markdownTable, scalingTable, type Extras, type Place, type Row, type ScaleRow } from './strategy-table.js';

/** Each strategy's lab: the same two-DC shape, addresses and VM; what differs is what the strategy needs. */
export const COMPARISON_TOPOLOGIES: Record<string, string> = {
  'network-paging': 'icoin2011-paging.yaml',
  'service-switching': 'service-switching-two-dc.yaml',
  'routing-update': 'routing-update-two-dc.yaml',
  'l2-overlay': 'l2-overlay-two-dc.yaml',
};
export const HVS: [string, string] = ['pdc-hv', 'adc-hv'];

async function place(s: Series): Promise<Place> {
  const client = peerNode(s.lab, s.workload);
  const address = s.workload.ipv4.split('/')[0]!;
  const r = await s.lab.shell(client).exec(['ping', '-n', '-R', '-c', '40', '-i', '0.05', '-W', '1', address], { check: false, env: { LC_ALL: 'C' } });
  const p = parsePing(r.stdout);
  const { all: state, named: vm } = await routersState(s.lab, { addresses: [address], macs: [s.workload.mac] });
  return { rttMs: summarize(p.rttMs)?.median ?? null, routers: splitRoute(p.routes[0] ?? []).routers, state, vm };
}

/** The destination DC's gateway and its WAN interface: where a moved workload's traffic enters the DC. */
function wanOf(t: Topology, hv: string): { node: string; iface: string } {
  const seg = segmentsOf(t).find((x) => x.lan?.name !== t.migration?.network && x.members.some((m) => m.node.name === hv))!;
  const gw = seg.members.find((m) => isRouter(m.node.kind))!;
  const wan = gw.node.interfaces.find((i) => i.name !== gw.iface && i.ipv4.length)!;
  return { node: gw.node.name, iface: wan.name };
}

/** Before any move (home) and after the first (away): the path, the state, and (away) the wire. */
async function measurePlace(s: Series, i: number, extras: Extras): Promise<void> {
  if (i === -1) extras.home = await place(s);
  else if (i === 0) {
    const wan = wanOf(s.t, HVS[1]);
    extras.overhead = await wireOverhead(s.lab, wan.node, wan.iface, { address: s.workload.ipv4.split('/')[0]!, ports: Object.values(APP_PORTS) });
    extras.away = await place(s);
  }
}

export interface ComparisonOptions {
  repeat: number;
  intervals: number[];
  strategies: string[];
  /** Workload kinds to move (default: a VM); a kind this machine cannot run is skipped, saying why. */
  kinds?: WorkloadKind[];
  /** The labs' names (e.g. the tests' tagged ones), so parallel runs do not meet. */
  rename?: (name: string) => string;
}

export interface Comparison {
  rows: Row[];
  /** Kinds left out, each with the reason. */
  skipped: string[];
  /** The scaling axis (strategy-scaling.ts), when it ran. */
  scaling?: ScaleRow[];
}

export async function compareStrategies(o: ComparisonOptions): Promise<Comparison> {
  if (!(o.repeat >= 2)) throw new Error('repeat: at least 2 (there and back)');
  for (const s of o.strategies) {
    getStrategy(s);
    if (!COMPARISON_TOPOLOGIES[s]) throw new Error(`no comparison lab for strategy ${s} (have: ${Object.keys(COMPARISON_TOPOLOGIES).join(', ')})`);
  }
  const base = Object.fromEntries(await Promise.all(o.strategies.map(async (s) => [s, await loadTopologyFile(join(packageRoot, 'topologies', COMPARISON_TOPOLOGIES[s]!))] as const)));
  const variant = (t: Topology, kind: WorkloadKind, intervalMs: number): Topology => {
    const name = `cmp${kind === 'vm' ? 'v' : 'c'}${intervalMs}-${t.name}`;
    return { ...t, name: o.rename?.(name) ?? name, workloads: t.workloads.map((w) => ({ ...w, kind, app: { ...w.app, intervalMs } })) };
  };
  const rows: Row[] = [];
  const skipped: string[] = [];
  for (const kind of o.kinds ?? ['vm']) {
    if (kind === 'placeholder') throw new Error('kinds: a placeholder runs nothing to move (the scaling axis places them)');
    const missing = [...new Set((await Promise.all(o.strategies.map((s) => workloadsMissing(variant(base[s]!, kind, 10))))).flat())];
    if (missing.length) {
      skipped.push(`${kind}: ${missing.join('; ')}`);
      continue;
    }
    for (const intervalMs of o.intervals) {
      const extras = new Map<Series, Extras>();
      const series = o.strategies.map((s) => {
        const x = new Series(variant(base[s]!, kind, intervalMs), HVS, `${s}, ${kind}, ${intervalMs} ms sender`);
        extras.set(x, {});
        return x;
      });
      const results = await interleaved(o.repeat, series, (s, i) => measurePlace(s, i, extras.get(s)!));
      series.forEach((s, k) => rows.push({ strategy: o.strategies[k]!, kind, intervalMs, topology: COMPARISON_TOPOLOGIES[o.strategies[k]!]!, samples: results[k]!, extras: extras.get(s)! }));
    }
  }
  return { rows, skipped };
}

/** The table as Markdown (also printed), the rows as JSON, the chart as SVG; returns the Markdown. */
export async function writeComparison({ rows, skipped, scaling }: Comparison, repeat: number, outDir: string): Promise<string> {
  const left = skipped.map((x) => `\nnot measured: ${x}\n`).join('');
  const scaled = scaling?.length ? `\n## Scaling: placeholders moved to ADC by the strategy, then the VM there and back\n\n${scalingTable(scaling)}\n` : '';
  const side = rows.length ? `## Address strategies side by side: ${repeat} moves each (PDC ⇄ ADC alternately), series interleaved\n\n${markdownTable(rows, repeat)}\n` : '';
  const md = `${side}${left}${scaled}`;
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'strategies.md'), md);
  const json = rows.map((r) => ({ ...r, samples: r.samples.map((x) => ({ own: x.own, echo: x.echo, switchingMs: x.result.switching.switchingMs, elapsedMs: x.result.elapsedMs, figures: x.result.figures, changes: x.result.switching.changes })) }));
  const scalingJson = scaling?.map((r) => ({ ...r, samples: r.samples.map((x) => ({ own: x.own, echo: x.echo, switchingMs: x.result.switching.switchingMs })) }));
  writeFileSync(join(outDir, 'strategies.json'), JSON.stringify({ repeat, skipped, rows: json, scaling: scalingJson }, null, 2));
  writeFileSync(join(outDir, 'strategies.svg'), await renderSvg(chartSpec(rows)));
  return md;
}
