// Benchmark: the four address strategies side by side. The same VM moves PDC ⇄ ADC on labs of
// one shape (ICOIN's two DCs, a WAN core, a client site) with each strategy, the series of all
// strategies interleaved so that machine noise hits them alike, at the papers' 10 ms and at
// 1 ms. Per move: largest gap (or "did not resume"), switching time, resume → first packet,
// migration time. Per strategy, measured once away and once at home: RTT and routers on the
// client ↔ VM path (the stretch), the bytes each packet carries on the destination's WAN link
// (captured), and the control-plane state the routers' kernels hold. Prints one Markdown table
// and writes it with JSON and an SVG chart; the papers' figures only as labelled references.
//   sudo npm run bench:strategies [-- --repeat 10 --intervals 10,1 --strategies network-paging,l2-overlay --out DIR]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { routersState } from '../lab/kernel-state.js';
import { planMove } from '../migration/migrate.js';
import { getStrategy } from '../migration/strategy.js';
import { packageRoot } from '../paths.js';
import { parsePing, splitRoute } from '../probe/ping.js';
import { summarize } from '../probe/stats.js';
import { wireOverhead } from '../probe/wire-overhead.js';
import { renderSvg } from '../report/svg.js';
import { loadTopologyFile } from '../topology/load.js';
import { isRouter, type Topology } from '../topology/model.js';
import { segmentsOf } from '../topology/segments.js';
import { APP_PORTS } from '../workload/app.js';
import { peerNode } from '../workload/streams.js';
import { interleaved, Series } from './series.js';
import { chartSpec, markdownTable, type Extras, type Place, type Row } from './strategy-table.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
}

/** Each strategy's lab: the same two-DC shape, addresses and VM; what differs is what the strategy needs. */
export const COMPARISON_TOPOLOGIES: Record<string, string> = {
  'network-paging': 'icoin2011-paging.yaml',
  'service-switching': 'service-switching-two-dc.yaml',
  'routing-update': 'routing-update-two-dc.yaml',
  'l2-overlay': 'l2-overlay-two-dc.yaml',
};
const HVS: [string, string] = ['pdc-hv', 'adc-hv'];

async function place(s: Series): Promise<Place> {
  const client = peerNode(s.lab, s.workload);
  const address = s.workload.ipv4.split('/')[0]!;
  const r = await s.lab.shell(client).exec(['ping', '-n', '-R', '-c', '20', '-i', '0.05', '-W', '1', address], { check: false, env: { LC_ALL: 'C' } });
  const p = parsePing(r.stdout);
  return { rttMs: summarize(p.rttMs)?.median ?? null, routers: splitRoute(p.routes[0] ?? []).routers, state: await routersState(s.lab) };
}

/** The destination DC's gateway and its WAN interface: where a moved workload's traffic enters the DC. */
function wanOf(t: Topology, hv: string, port: string): { node: string; iface: string } {
  const seg = segmentsOf(t).find((x) => x.members.some((m) => m.node.name === hv && m.iface === port))!;
  const gw = seg.members.find((m) => isRouter(m.node.kind))!;
  const wan = gw.node.interfaces.find((i) => i.name !== gw.iface && i.ipv4.length)!;
  return { node: gw.node.name, iface: wan.name };
}

/** After the first move (away) and the second (home): the path, the state, and (away) the wire. */
async function measurePlace(s: Series, i: number, extras: Extras): Promise<void> {
  if (i === 0) {
    const { port } = planMove(s.lab, s.workload.name, HVS[1]);
    const wan = wanOf(s.t, HVS[1], port);
    extras.overhead = await wireOverhead(s.lab, wan.node, wan.iface, { address: s.workload.ipv4.split('/')[0]!, ports: Object.values(APP_PORTS) });
    extras.away = await place(s);
  } else if (i === 1) extras.home = await place(s);
}

async function main(): Promise<void> {
  const repeat = Number(arg('repeat', '10'));
  const intervals = arg('intervals', '10,1').split(',').map(Number);
  const strategies = arg('strategies', Object.keys(COMPARISON_TOPOLOGIES).join(',')).split(',');
  const outDir = resolve(arg('out', 'bench-strategies'));
  if (!(repeat >= 2)) throw new Error('--repeat: at least 2 (one move away and one back, where path and state are measured)');
  for (const s of strategies) {
    getStrategy(s);
    if (!COMPARISON_TOPOLOGIES[s]) throw new Error(`no comparison lab for strategy ${s} (have: ${Object.keys(COMPARISON_TOPOLOGIES).join(', ')})`);
  }
  const base = Object.fromEntries(await Promise.all(strategies.map(async (s) => [s, await loadTopologyFile(join(packageRoot, 'topologies', COMPARISON_TOPOLOGIES[s]!))] as const)));
  const rows: Row[] = [];
  for (const intervalMs of intervals) {
    const extras = new Map<Series, Extras>();
    const series = strategies.map((s) => {
      const t = base[s]!;
      const variant: Topology = { ...t, name: `cmp-${t.name}-${intervalMs}`, workloads: t.workloads.map((w) => ({ ...w, app: { ...w.app, intervalMs } })) };
      const x = new Series(variant, HVS, `${s}, ${intervalMs} ms sender`);
      extras.set(x, {});
      return x;
    });
    const results = await interleaved(repeat, series, (s, i) => measurePlace(s, i, extras.get(s)!));
    series.forEach((s, k) => rows.push({ strategy: strategies[k]!, intervalMs, topology: COMPARISON_TOPOLOGIES[strategies[k]!]!, samples: results[k]!, extras: extras.get(s)! }));
  }
  const table = markdownTable(rows, repeat);
  const title = `## Address strategies side by side: ${repeat} moves each (PDC ⇄ ADC alternately), series interleaved`;
  console.log(`${title}\n\n${table}`);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'strategies.md'), `${title}\n\n${table}\n`);
  writeFileSync(join(outDir, 'strategies.json'), JSON.stringify({ repeat, intervals, rows: rows.map((r) => ({ ...r, samples: r.samples.map((x) => ({ own: x.own, echo: x.echo, switchingMs: x.result.switching.switchingMs, elapsedMs: x.result.elapsedMs, figures: x.result.figures, changes: x.result.switching.changes })) })) }, null, 2));
  writeFileSync(join(outDir, 'strategies.svg'), await renderSvg(chartSpec(rows)));
  console.log(`\nwritten: ${['strategies.md', 'strategies.json', 'strategies.svg'].map((f) => join(outDir, f)).join(', ')}`);
}

await main();
