// The control-plane state a node holds, counted from its kernel (not from warplab's own
// plans): IPv4 routes in every table, nftables rules and map/set elements, proxy-ARP
// entries, bridge FDB entries; and a translator agent's loaded pages. What a strategy adds
// for a moved workload is the difference of two counts.
import type { LabHandle } from './handle.js';
import type { Shell } from '../shell/shell.js';
import { isRouter } from '../topology/model.js';
import { translatorStatus } from '../translator/control.js';

export interface KernelState {
  /** IPv4 routes, local and broadcast ones left out. */
  routes: number;
  /** nftables rules plus the elements of its maps and sets. */
  nft: number;
  proxyArp: number;
  /** Bridge FDB entries the kernel or a daemon set, the devices' own multicast addresses left out. */
  fdb: number;
  /** Pages the node's translator agent has loaded. */
  pages: number;
}

export const STATE_KINDS = ['pages', 'nft', 'proxyArp', 'routes', 'fdb'] as const satisfies readonly (keyof KernelState)[];

const json = (s: string): any[] => (s.trim() ? JSON.parse(s) : []);

export function countRoutes(ipJson: string): number {
  return json(ipJson).filter((r) => r.type !== 'local' && r.type !== 'broadcast' && r.table !== 'local').length;
}

export function countNft(nftJson: string): number {
  const items: any[] = nftJson.trim() ? (JSON.parse(nftJson).nftables ?? []) : [];
  return items.reduce((n, x) => n + (x.rule ? 1 : 0) + (x.map?.elem?.length ?? 0) + (x.set?.elem?.length ?? 0), 0);
}

export function countFdb(bridgeJson: string): number {
  // A multicast MAC (low bit of the first octet) is a device's own subscription, not forwarding state.
  return json(bridgeJson).filter((e) => !(parseInt(String(e.mac).slice(0, 2), 16) & 1) || e.dst).length;
}

async function out(shell: Shell, argv: string[]): Promise<string> {
  const r = await shell.exec(argv, { check: false });
  return r.exitCode === 0 ? r.stdout : '';
}

export async function kernelState(lab: LabHandle, node: string): Promise<KernelState> {
  const shell = lab.shell(node);
  const [routes, nft, proxy, fdb] = await Promise.all([
    out(shell, ['ip', '-4', '-j', 'route', 'show', 'table', 'all']),
    out(shell, ['nft', '-j', 'list', 'ruleset']),
    out(shell, ['ip', '-4', '-j', 'neigh', 'show', 'proxy']),
    out(shell, ['bridge', '-j', 'fdb', 'show']),
  ]);
  const hasTranslator = lab.topology.nodes.find((n) => n.name === node)?.translator;
  const pages = hasTranslator ? (await translatorStatus(lab, node)).rules.length : 0;
  return { routes: countRoutes(routes), nft: countNft(nft), proxyArp: json(proxy).length, fdb: countFdb(fdb), pages };
}

/** Every router's state, summed: what the network as a whole holds. */
export async function routersState(lab: LabHandle): Promise<KernelState> {
  const routers = lab.topology.nodes.filter((n) => isRouter(n.kind)).map((n) => n.name);
  const states = await Promise.all(routers.map((r) => kernelState(lab, r)));
  const sum = { routes: 0, nft: 0, proxyArp: 0, fdb: 0, pages: 0 };
  for (const s of states) for (const k of STATE_KINDS) sum[k] += s[k];
  return sum;
}

/** `+2 routes, +1 nft` — what `after` holds beyond `before`, kind by kind ('none' when equal). */
export function stateDelta(before: KernelState, after: KernelState): string {
  const names: Record<keyof KernelState, string> = { pages: 'translator pages', nft: 'nft rules/elements', proxyArp: 'proxy-ARP entries', routes: 'routes', fdb: 'FDB entries' };
  const parts = STATE_KINDS.flatMap((k) => (after[k] === before[k] ? [] : [`${after[k] > before[k] ? '+' : ''}${after[k] - before[k]} ${names[k]}`]));
  return parts.length ? parts.join(', ') : 'none';
}
