// The reachability matrix: pings between every pair of end hosts, beside what the model predicts.
import { endHosts, ForwardingModel } from '../topology/forwarding.js';
import { joinedLans } from '../migration/strategy.js';
import { pool } from '../pool.js';
import type { LabHandle } from './handle.js';

export interface Reach {
  from: string;
  to: string;
  addr: string;
  predicted: boolean;
  observed: boolean;
  /** The model's explanation when it predicts a failure. */
  reason?: string;
}

export async function reachability(lab: LabHandle, concurrency = 8): Promise<Reach[]> {
  const model = new ForwardingModel(lab.topology, joinedLans(lab.topology));
  const hosts = endHosts(lab.topology);
  const pairs = hosts.flatMap((a) => hosts.filter((b) => b.node !== a.node).map((b) => ({ from: a.node, to: b.node, addr: b.addr })));
  const results = await pool(pairs, concurrency, async (p): Promise<Reach> => {
    const predicted = model.ping(p.from, p.addr);
    // Two tries: the first ping of a fresh lab may be lost to ARP resolution on long paths.
    const r = await lab.shell(p.from).exec(['ping', '-n', '-c2', '-i0.2', '-W1', p.addr], { check: false });
    return { ...p, predicted: predicted.ok, observed: r.exitCode === 0, ...(predicted.reason ? { reason: predicted.reason } : {}) };
  });
  return results.map((r) => {
    if (r.status === 'rejected') throw r.reason;
    return r.value;
  });
}

/** A square table: ✓ reached, · not reached, ! where the lab disagrees with the model. */
export function formatMatrix(rows: Reach[]): string {
  const names = [...new Set(rows.flatMap((r) => [r.from, r.to]))];
  const w = Math.max(4, ...names.map((n) => n.length));
  const cell = (a: string, b: string) => {
    if (a === b) return '-';
    const r = rows.find((x) => x.from === a && x.to === b);
    if (!r) return '?';
    const mark = r.observed ? '✓' : '·';
    return r.observed === r.predicted ? mark : `${mark}!`;
  };
  const lines = [['from\\to'.padEnd(w), ...names.map((n) => n.padEnd(w))].join(' ')];
  for (const a of names) lines.push([a.padEnd(w), ...names.map((b) => cell(a, b).padEnd(w))].join(' '));
  const odd = rows.filter((r) => r.observed !== r.predicted);
  lines.push('', '✓ ping answered   · no answer   ! differs from the model' + (odd.length ? '' : '   (lab and model agree)'));
  for (const r of odd) lines.push(`  ${r.from} → ${r.to} (${r.addr}): model says ${r.predicted ? 'reachable' : `unreachable (${r.reason})`}, lab says ${r.observed ? 'reachable' : 'unreachable'}`);
  return lines.join('\n');
}
