// The control-plane state a node holds, counted from its kernel (not from warplab's own
// plans): IPv4 routes in every table, nftables rules and map/set elements, proxy-ARP
// entries, bridge FDB entries; and a translator agent's loaded pages. Counted in all, or only
// the entries that name one workload (its address or MAC): the state a strategy keeps per VM.
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

/** Workloads as entries name them (any of the addresses or MACs); without it, every entry counts. */
export interface Subject {
  addresses: string[];
  macs: string[];
}

const STATE_NAMES: Record<keyof KernelState, string> = { pages: 'translator pages', nft: 'nft rules/elements', proxyArp: 'proxy-ARP entries', routes: 'routes', fdb: 'FDB entries' };

const json = (s: string): any[] => (s.trim() ? JSON.parse(s) : []);

/** Matches text that names one of `addresses` as a whole address (172.16.10.2 is not in 172.16.10.20). */
function addressPattern(addresses: string[]): RegExp {
  return new RegExp(`(^|[^0-9.])(${addresses.map((a) => a.replaceAll('.', '\\.')).join('|')})(?![0-9]|\\.[0-9])`);
}

export function names(text: string, addresses: string[]): boolean {
  return addressPattern(addresses).test(text);
}

/** Whether an entry's text counts: every one without a subject, else those naming it. */
const counter = (about?: Subject) => {
  const re = about && addressPattern(about.addresses);
  return (text: string) => !re || re.test(text);
};

export function countRoutes(ipJson: string, about?: Subject): number {
  const counts = counter(about);
  return json(ipJson).filter((r) => r.type !== 'local' && r.type !== 'broadcast' && r.table !== 'local' && counts(String(r.dst))).length;
}

export function countNft(nftJson: string, about?: Subject): number {
  const items: any[] = nftJson.trim() ? (JSON.parse(nftJson).nftables ?? []) : [];
  const named = counter(about);
  const counts = (x: unknown) => named(JSON.stringify(x));
  const elems = (e?: unknown[]) => (e ?? []).filter(counts).length;
  return items.reduce((n, x) => n + (x.rule && counts(x.rule) ? 1 : 0) + elems(x.map?.elem) + elems(x.set?.elem), 0);
}

export function countFdb(bridgeJson: string, about?: Subject): number {
  // A multicast MAC (low bit of the first octet) is a device's own subscription, not forwarding state.
  return json(bridgeJson).filter((e) => (!(parseInt(String(e.mac).slice(0, 2), 16) & 1) || e.dst) && (!about || about.macs.some((m) => m.toLowerCase() === String(e.mac).toLowerCase()))).length;
}

async function out(shell: Shell, argv: string[]): Promise<string> {
  const r = await shell.exec(argv, { check: false });
  return r.exitCode === 0 ? r.stdout : '';
}

/** One node's state as its tools print it, read once and counted as often as needed. */
interface NodeReadout {
  routes: string;
  nft: string;
  proxy: string;
  fdb: string;
  pages: string[];
}

async function readNode(lab: LabHandle, node: string): Promise<NodeReadout> {
  const shell = lab.shell(node);
  const hasTranslator = lab.topology.nodes.find((n) => n.name === node)?.translator;
  const [routes, nft, proxy, fdb, pages] = await Promise.all([
    out(shell, ['ip', '-4', '-j', 'route', 'show', 'table', 'all']),
    out(shell, ['nft', '-j', 'list', 'ruleset']),
    out(shell, ['ip', '-4', '-j', 'neigh', 'show', 'proxy']),
    out(shell, ['bridge', '-j', 'fdb', 'show']),
    hasTranslator ? translatorStatus(lab, node).then((x) => x.rules) : Promise.resolve([]),
  ]);
  return { routes, nft, proxy, fdb, pages };
}

function countReadout(r: NodeReadout, about?: Subject): KernelState {
  const proxyArp = json(r.proxy).filter((e) => !about || about.addresses.includes(e.dst)).length;
  return { routes: countRoutes(r.routes, about), nft: countNft(r.nft, about), proxyArp, fdb: countFdb(r.fdb, about), pages: r.pages.filter(counter(about)).length };
}

const sum = (states: KernelState[]): KernelState => {
  const total = { routes: 0, nft: 0, proxyArp: 0, fdb: 0, pages: 0 };
  for (const s of states) for (const k of STATE_KINDS) total[k] += s[k];
  return total;
};

/** Every router's state summed (what the network as a whole holds), and the part that names `about`; each router read once. */
export async function routersState(lab: LabHandle, about: Subject): Promise<{ all: KernelState; named: KernelState }> {
  const routers = lab.topology.nodes.filter((n) => isRouter(n.kind)).map((n) => n.name);
  const readouts = await Promise.all(routers.map((r) => readNode(lab, r)));
  return { all: sum(readouts.map((r) => countReadout(r))), named: sum(readouts.map((r) => countReadout(r, about))) };
}

/** `+2 routes, +1 nft` — what `after` holds beyond `before`, kind by kind ('none' when equal). */
export function stateDelta(before: KernelState, after: KernelState): string {
  const parts = STATE_KINDS.flatMap((k) => (after[k] === before[k] ? [] : [`${after[k] > before[k] ? '+' : ''}${after[k] - before[k]} ${STATE_NAMES[k]}`]));
  return parts.length ? parts.join(', ') : 'none';
}

/** `2 routes, 4 nft rules/elements` — what a state holds ('none' when empty). */
export function stateText(s: KernelState): string {
  const parts = STATE_KINDS.flatMap((k) => (s[k] ? [`${Number(s[k].toFixed(2))} ${STATE_NAMES[k]}`] : []));
  return parts.length ? parts.join(', ') : 'none';
}
