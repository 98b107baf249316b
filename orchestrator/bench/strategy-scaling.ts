// The comparison's scaling axis: how each strategy's state and switch grow with the number of
// moved workloads. A lab carries the real VM plus N-1 placeholders (kind: placeholder, an
// address and a MAC that run nothing), which the strategy's own `place` moves to ADC before
// the VM moves there and back. Counted from the routers' kernels, not from plans.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument, isMap } from 'yaml';
import { routersState, STATE_KINDS, type KernelState } from '../lab/kernel-state.js';
import { strategyFor } from '../migration/strategy.js';
import { packageRoot } from '../paths.js';
import { parseTopology } from '../topology/load.js';
import type { Topology } from '../topology/model.js';
import { interleaved, Series } from './series.js';
import { COMPARISON_TOPOLOGIES, HVS } from './strategy-comparison.js';
import type { ScaleRow } from './strategy-table.js';

/** `a.b.c.d` → `a.b.X.Y`, the i-th of a block that leaves the labs' own addresses (.0.x, .10.x) alone. */
export function placeholderAddress(address: string, i: number): string {
  const [a, b] = address.split('.');
  return `${a}.${b}.${100 + Math.floor(i / 200)}.${10 + (i % 200)}`;
}

/**
 * The topology text with `count` placeholders beside its first workload (same gateway, at home).
 * Strategy settings keyed by that workload's name (service switching's care-of) get the same
 * entry for each placeholder, its address shifted alike.
 */
export function withPlaceholders(text: string, file: string, count: number, name: string): Topology {
  const doc = parseDocument(text);
  doc.set('name', name);
  const workloads = doc.get('workloads');
  if (!isMap(workloads) || !workloads.items.length) throw new Error(`${file}: no workload to scale`);
  const first = String(workloads.items[0]!.key);
  const [address, len] = String(doc.getIn(['workloads', first, 'ipv4'])).split('/');
  const gateway = doc.getIn(['workloads', first, 'gateway']);
  const strategy = String(doc.getIn(['migration', 'strategy']));
  const settings = doc.getIn(['migration', strategy]);
  const keyed = isMap(settings) ? settings.items.map((x) => String(x.key)).filter((k) => doc.getIn(['migration', strategy, k, first]) !== undefined) : [];
  for (let i = 0; i < count; i++) {
    const ph = `ph${i + 1}`;
    doc.setIn(['workloads', ph], doc.createNode({ kind: 'placeholder', on: HVS[0], ipv4: `${placeholderAddress(address!, i)}/${len}`, ...(gateway ? { gateway } : {}) }));
    for (const k of keyed) doc.setIn(['migration', strategy, k, ph], placeholderAddress(String(doc.getIn(['migration', strategy, k, first])), i));
  }
  return parseTopology(doc.toString(), file);
}

export interface ScaleOptions {
  counts: number[];
  strategies: string[];
  rename?: (name: string) => string;
}

async function placeAll(s: Series, row: ScaleRow): Promise<void> {
  const lab = s.lab;
  const strategy = strategyFor(lab.topology);
  for (const w of lab.topology.workloads.filter((x) => x.kind === 'placeholder')) {
    const t0 = performance.now();
    await strategy.place(lab, w, HVS[1]);
    row.placeMs.push(performance.now() - t0);
    lab.recordWorkload(w.name, { ...lab.workload(w.name)!, on: HVS[1] });
  }
}

async function count(s: Series, row: ScaleRow): Promise<void> {
  const ws = s.lab.topology.workloads;
  const about = { addresses: ws.map((w) => w.ipv4.split('/')[0]!), macs: ws.map((w) => w.mac) };
  const { named, all } = await routersState(s.lab, about);
  row.perWorkload = Object.fromEntries(STATE_KINDS.map((k) => [k, named[k] / ws.length])) as unknown as KernelState;
  row.all = all;
}

/** Per count, the strategies' labs side by side: placeholders placed away, the VM moved away (counted there) and back. */
export async function scaleStrategies(o: ScaleOptions): Promise<ScaleRow[]> {
  const texts = Object.fromEntries(await Promise.all(o.strategies.map(async (s) => [s, await readFile(join(packageRoot, 'topologies', COMPARISON_TOPOLOGIES[s]!), 'utf8')] as const)));
  const rows: ScaleRow[] = [];
  for (const n of o.counts) {
    if (!(n >= 1)) throw new Error(`scale: ${n} is no count of moved workloads (1 or more)`);
    const byStrategy = new Map<Series, ScaleRow>();
    const series = o.strategies.map((strategy) => {
      const name = `scl${n}-${strategy.split('-').map((x) => x[0]).join('')}`;
      const t = withPlaceholders(texts[strategy]!, COMPARISON_TOPOLOGIES[strategy]!, n - 1, o.rename?.(name) ?? name);
      const x = new Series({ ...t, workloads: t.workloads.map((w) => ({ ...w, app: { ...w.app, intervalMs: 10 } })) }, HVS, `${strategy}, ${n} moved`);
      byStrategy.set(x, { strategy, moved: n, placeMs: [], samples: [] });
      return x;
    });
    const results = await interleaved(2, series, (s, i) => (i === -1 ? placeAll(s, byStrategy.get(s)!) : i === 0 ? count(s, byStrategy.get(s)!) : Promise.resolve()));
    series.forEach((s, k) => rows.push({ ...byStrategy.get(s)!, samples: results[k]! }));
  }
  return rows;
}
