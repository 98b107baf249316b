// The strategy comparison's table and chart, from the measured rows (pure: unit-tested).
// A figure with missing samples says how many were measured; a move whose stream never came
// back counts as "did not resume", never as a gap.
import type { TopLevelSpec } from 'vega-lite';
import { stateDelta, stateText, type KernelState } from '../lab/kernel-state.js';
import { summarize } from '../probe/stats.js';
import type { Overhead } from '../probe/wire-overhead.js';
import type { WorkloadKind } from '../topology/model.js';
import { strategyReferences } from '../report/references.js';
import { measured, median, num } from './compare.js';
import { gap, type Sample } from './series.js';

/** One placement's path and state. */
export interface Place {
  rttMs: number | null;
  /** Routers on the way out, from IP Record Route; null when the route was not recorded. */
  routers: number | null;
  state: KernelState;
  /** Only the entries that name the workload (its address or MAC). */
  vm: KernelState;
}

export interface Extras {
  away?: Place;
  home?: Place;
  overhead?: Overhead;
}

export interface Row {
  strategy: string;
  kind: WorkloadKind;
  intervalMs: number;
  topology: string;
  samples: Sample[];
  extras: Extras;
}

export interface ScaleRow {
  strategy: string;
  /** Workloads moved to ADC when counted: the VM and the placeholders. */
  moved: number;
  /** How long the strategy's `place` took per placeholder (ms). */
  placeMs: number[];
  /** Entries naming any moved workload, divided by `moved`. */
  perWorkload?: KernelState;
  /** All the routers hold then. */
  all?: KernelState;
  /** The VM's moves there and back with the placeholders away. */
  samples: Sample[];
}

const notResumed = (samples: Sample[]) => samples.filter((x) => !x.own?.resumed || !x.echo?.resumed).length;

function rowFigures(r: Row) {
  const own = measured(r.samples.map((x) => gap(x.own)));
  const switching = measured(r.samples.map((x) => x.result.switching.switchingMs));
  const resume = measured(r.samples.map((x) => (x.own?.resumed ? x.own.resumeToFirstPacketMs : null)));
  const migration = measured(r.samples.map((x) => x.result.elapsedMs));
  return { own, switching, resume, migration };
}

function overheadText(o?: Overhead): string {
  if (!o) return '–';
  const frames = o.tunnelled + o.plain;
  if (!frames) return `no frame of the workload's seen on ${o.node}:${o.iface}`;
  const perPacket = (o.overheadBytes * o.tunnelled) / frames;
  return `${num(perPacket)} B (${o.tunnelled} of ${frames} frames tunnelled${o.tunnelled ? `, +${o.overheadBytes} B each` : ''})`;
}

function pathText(e: Extras): string {
  const { home, away } = e;
  if (!home || !away) return '–';
  const stretch = home.rttMs && away.rttMs ? ` (×${(away.rttMs / home.rttMs).toFixed(2)})` : '';
  const routers = (p: Place) => (p.routers === null ? '?' : String(p.routers));
  return `${num(home.rttMs)} → ${num(away.rttMs)} ms${stretch}; ${routers(home)} → ${routers(away)} routers`;
}

export function markdownTable(rows: Row[], repeat: number): string {
  const lines = [
    `| strategy | workload, sender | n | largest gap, workload → client (median) | did not resume | switching (announcement → first packet on the new path) | resume → first packet from the workload | migration (call → network switched) | bytes added per packet on the destination's WAN link | RTT client → workload, home → away; routers on the way | routers' kernel entries naming the workload, home → away (all state the move added) | paper, reference only |`,
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const f = rowFigures(r);
    const gone = notResumed(r.samples);
    const { home, away } = r.extras;
    const state = home && away ? `${stateText(home.vm)} → ${stateText(away.vm)} (${stateDelta(home.state, away.state)})` : '–';
    lines.push(`| ${r.strategy} | ${r.kind}, ${r.intervalMs} ms | ${r.samples.length} of ${repeat} | ${median(f.own)} | ${gone ? `**${gone}**` : '0'} | ${median(f.switching)} | ${median(f.resume)} | ${median(f.migration)} | ${overheadText(r.extras.overhead)} | ${pathText(r.extras)} | ${state} | *${strategyReferences[r.strategy] ?? '–'}* |`);
  }
  return lines.join('\n');
}

/** The scaling axis: per count of moved workloads, what the routers hold and how the VM's switch fares. */
export function scalingTable(rows: ScaleRow[]): string {
  const lines = [
    '| strategy | moved workloads | routers\' kernel entries naming them, per workload | all state in the routers | `place` of one placeholder (median) | switching, the VM there and back (median) | largest gap, VM → client (median) | did not resume |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const switching = measured(r.samples.map((x) => x.result.switching.switchingMs));
    const own = measured(r.samples.map((x) => gap(x.own)));
    const state = (k?: KernelState) => (k ? stateText(k) : '–');
    lines.push(`| ${r.strategy} | ${r.moved} | ${state(r.perWorkload)} | ${state(r.all)} | ${r.placeMs.length ? median(measured(r.placeMs)) : '–'} | ${median(switching)} | ${median(own)} | ${notResumed(r.samples)} |`);
  }
  return lines.join('\n');
}

export function chartSpec(rows: Row[]): TopLevelSpec {
  const values = rows.flatMap((r) => {
    const f = rowFigures(r);
    const at = (m: ReturnType<typeof measured>) => summarize(m.values)?.median ?? null;
    const metrics = { 'largest gap': f.own, switching: f.switching, 'resume → first packet': f.resume };
    return Object.entries(metrics).map(([metric, m]) => ({ strategy: r.strategy, sender: `${r.kind}, ${r.intervalMs} ms sender`, metric, ms: at(m) })).filter((v) => v.ms !== null);
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Address strategies compared: medians per move (ms)', subtitle: 'the same workload and probe on labs of one shape; missing bars: not measured' },
    background: 'white',
    data: { values },
    facet: { column: { field: 'sender', type: 'nominal', title: null }, row: { field: 'metric', type: 'nominal', title: null } },
    spec: { width: 260, height: 120, mark: 'bar', encoding: { y: { field: 'strategy', type: 'nominal', title: null }, x: { field: 'ms', type: 'quantitative', title: 'ms' }, color: { field: 'strategy', type: 'nominal', legend: null } } },
  };
}

