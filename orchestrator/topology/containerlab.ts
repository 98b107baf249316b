// containerlab topology files (*.clab.yml) as warplab topologies: the file is converted to a
// warplab document here, which the normal pipeline then checks; problems of either stage point
// at the containerlab file. Pure: what is ignored or substituted comes back as notes.
import { stringify } from 'yaml';
import { TopologyError, type Issue, type SourcePosition } from '../errors.js';
import { pathString, type Locator, type YamlPath, type YamlSource } from './source.js';

type Raw = Record<string, any>;

export interface Converted {
  /** A warplab topology document: what `warplab convert` prints. */
  document: Raw;
  /** What warplab ignores or runs differently, one sentence each. */
  notes: string[];
  /** Places a path of `document` in the containerlab file. */
  locator: Locator;
}

/** containerlab kinds warplab runs, and the warplab kind each becomes. */
const KINDS: Record<string, 'host' | 'lan' | 'router'> = { linux: 'host', bridge: 'lan', frr: 'router' };

/** Node keys each kind uses; anything else on a node is named in a note. */
const USED: Record<string, string[]> = {
  linux: ['kind', 'group', 'labels', 'image', 'env', 'binds', 'cmd', 'exec', 'sysctls'],
  frr: ['kind', 'group', 'labels', 'image', 'exec', 'startup-config', 'extras'],
  bridge: ['kind', 'group', 'labels'],
};

/** Keys a linux node passes on as its container settings. */
const CONTAINER_KEYS = ['image', 'env', 'binds', 'cmd', 'exec'];

const NODE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,14}$/;

/**
 * A linux node forwards (warplab kind router) when an exec line turns IPv4 forwarding on, by
 * sysctl or by writing /proc/sys, or its sysctls do.
 */
const FORWARDING = [/net[./]ipv4[./](ip_forward|conf[./]all[./]forwarding)\s*=\s*1\b/, /echo\s+1\s*>\s*\/proc\/sys\/net\/ipv4\/(ip_forward|conf\/all\/forwarding)\b/];

const isMapping = (v: unknown): v is Raw => v !== null && typeof v === 'object' && !Array.isArray(v);

/** By name (`*.clab.yml`), or by shape: a `topology:` with `nodes:` under it. */
export function isContainerlab(file: string, raw: unknown): boolean {
  return /\.clab\.ya?ml$/.test(file) || (isMapping(raw) && isMapping(raw.topology) && isMapping(raw.topology.nodes));
}

/** One place a node's settings come from, strongest first: the node, its group, its kind, the defaults. */
interface Layer {
  at: YamlPath;
  def: Raw;
}

function layersOf(topo: Raw, name: string, kind: string | undefined): Layer[] {
  const node = (topo.nodes[name] ?? {}) as Raw;
  const group = typeof node.group === 'string' ? topo.groups?.[node.group] : undefined;
  const kindDef = kind ? topo.kinds?.[kind] : undefined;
  return [
    { at: ['topology', 'nodes', name], def: node },
    ...(isMapping(group) ? [{ at: ['topology', 'groups', node.group], def: group }] : []),
    ...(isMapping(kindDef) ? [{ at: ['topology', 'kinds', kind!], def: kindDef }] : []),
    ...(isMapping(topo.defaults) ? [{ at: ['topology', 'defaults'], def: topo.defaults as Raw }] : []),
  ];
}

/** A scalar setting as containerlab inherits it: the strongest layer that has it. */
function first(layers: Layer[], key: string): { value: any; at: YamlPath } | undefined {
  const l = layers.find((x) => x.def[key] !== undefined && x.def[key] !== '');
  return l && { value: l.def[key], at: [...l.at, key] };
}

/** A mapping merged key by key, the strongest layer winning (env, labels, sysctls). */
function merged(layers: Layer[], key: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of [...layers].reverse()) for (const [k, v] of Object.entries((l.def[key] ?? {}) as Raw)) out[k] = String(v);
  return out;
}

/** exec lines run weakest layer first (defaults, kind, group, node); binds are a union, strongest first. */
const execLines = (layers: Layer[]): string[] => [...layers].reverse().flatMap((l) => (l.def.exec ?? []) as string[]).map(String);
const bindsOf = (layers: Layer[]): string[] => [...new Set(layers.flatMap((l) => (l.def.binds ?? []) as string[]).map(String))];

function forwards(exec: string[], sysctls: Record<string, string>): boolean {
  return exec.some((l) => FORWARDING.some((re) => re.test(l))) || ['net.ipv4.ip_forward', 'net.ipv4.conf.all.forwarding'].some((k) => sysctls[k] === '1');
}

type Report = (at: YamlPath, message: string, hint?: string, key?: boolean) => void;

interface Endpoint {
  node: string;
  iface: string;
  at: YamlPath;
}

/** `node:iface`, or the extended form `{node, interface}`. */
function endpointOf(e: unknown, at: YamlPath, report: Report): Endpoint | undefined {
  const [node, iface] = typeof e === 'string' ? e.split(':') : isMapping(e) ? [e.node, e.interface] : [];
  if (typeof node === 'string' && node && typeof iface === 'string' && iface) return { node, iface, at };
  report(at, `endpoint ${JSON.stringify(e)} is not NODE:INTERFACE`, 'write "r1:eth1", as containerlab does');
  return undefined;
}

/** A node as warplab writes it, with only the keys it uses. */
function nodeDocument(name: string, kind: string, layers: Layer[], notes: string[]): Raw {
  const labels = merged(layers, 'labels');
  const exec = execLines(layers);
  const sysctls = merged(layers, 'sysctls');
  const doc: Raw = { kind: kind === 'linux' && forwards(exec, sysctls) ? 'router' : KINDS[kind], ...(Object.keys(labels).length ? { labels } : {}) };
  if (kind === 'linux') {
    const settings: Raw = { image: first(layers, 'image')?.value, env: merged(layers, 'env'), binds: bindsOf(layers), cmd: first(layers, 'cmd')?.value, exec };
    for (const k of CONTAINER_KEYS) {
      const v = settings[k];
      if (v !== undefined && (typeof v !== 'object' || Object.keys(v).length)) doc[k] = v;
    }
    // A containerlab user's image is often not on this machine: warplab's stands in, saying so.
    if (doc.image) doc['image-missing'] = 'substitute';
  }
  if (kind === 'frr') {
    const daemons = first(layers, 'extras')?.value?.frr?.daemons;
    doc.frr = { config: first(layers, 'startup-config')?.value, ...(Array.isArray(daemons) ? { daemons } : {}) };
    if (exec.length) doc.exec = exec;
  }
  // Defaults apply to every kind: what one kind does not use there is no news.
  const ignored = [...new Set(layers.filter((l) => l.at[1] !== 'defaults').flatMap((l) => Object.keys(l.def)))].filter((k) => !USED[kind]!.includes(k));
  if (ignored.length) notes.push(`${name}: ${ignored.join(', ')} ignored (warplab's ${kind} node has no use for ${ignored.length > 1 ? 'them' : 'it'})`);
  // Filled from the links; a lan has none of its own.
  return kind === 'bridge' ? doc : { ...doc, interfaces: {} };
}

/** The kind of a node and where it is written; kinds: cannot set a kind. */
function kindOf(topo: Raw, name: string): { value: any; at: YamlPath } | undefined {
  return first(layersOf(topo, name, undefined), 'kind');
}

/** Where a path of the converted document lies in the containerlab file. */
function sourcePath(p: YamlPath): YamlPath {
  const [head, a, b] = p;
  if (head === 'nodes' && a !== undefined) {
    const key = b === 'frr' ? 'startup-config' : b;
    return ['topology', 'nodes', a, ...(typeof key === 'string' && [...CONTAINER_KEYS, 'startup-config', 'labels'].includes(key) ? [key] : [])];
  }
  if (head === 'links' && a !== undefined) return ['topology', 'links', a, 'endpoints'];
  return head === 'name' ? ['name'] : [];
}

const TOP_KEYS = ['name', 'topology'];
const TOPOLOGY_KEYS = ['nodes', 'links', 'kinds', 'defaults', 'groups'];

/** Converts a containerlab file; throws TopologyError with every problem at file:line:col. */
export function fromContainerlab(src: YamlSource): Converted {
  const raw = src.value();
  const issues: Issue[] = [];
  const report: Report = (at, message, hint, key = false) => issues.push({ pos: src.locate(at, key), path: pathString(at), message, ...(hint ? { hint } : {}) });
  if (!isMapping(raw) || !isMapping(raw.topology) || !isMapping(raw.topology.nodes)) {
    report([], 'a containerlab file is a mapping with topology.nodes', 'see topologies/containerlab/*.clab.yml for examples');
    throw new TopologyError(issues);
  }
  const notes: string[] = [];
  if (raw.mgmt !== undefined) notes.push('mgmt ignored: warplab has no management network; nodes reach each other over the topology\'s links only');
  const extra = [...Object.keys(raw).filter((k) => !TOP_KEYS.includes(k) && k !== 'mgmt'), ...Object.keys(raw.topology).filter((k) => !TOPOLOGY_KEYS.includes(k)).map((k) => `topology.${k}`)];
  if (extra.length) notes.push(`${extra.join(', ')} ignored`);

  const topo = raw.topology as Raw;
  const kinds = new Map<string, string>();
  for (const name of Object.keys(topo.nodes)) {
    if (!NODE_NAME.test(name)) report(['topology', 'nodes', name], `node name "${name}" cannot be a warplab node name`, 'rename it: a letter, then letters, digits, "_" or "-", at most 15 characters in all (it names the node\'s namespace wl-LAB-NODE)', true);
    const node = topo.nodes[name];
    if (node !== null && !isMapping(node)) { report(['topology', 'nodes', name], `node ${name} is not a mapping`); continue; }
    if (typeof node?.group === 'string' && !isMapping(topo.groups?.[node.group])) report(['topology', 'nodes', name, 'group'], `unknown group "${node.group}"`, `declare it under topology.groups`);
    const kind = kindOf(topo, name);
    if (!kind) report(['topology', 'nodes', name], `node ${name} has no kind`, 'set kind: linux, bridge or frr on the node, its group or topology.defaults', true);
    else if (!(kind.value in KINDS)) report(kind.at, `kind "${kind.value}" is not supported`, 'warplab runs linux, bridge and frr nodes (a router image can become an frr node with its startup-config)');
    else kinds.set(name, kind.value);
  }
  for (const [name, kind] of kinds) {
    if (kind === 'frr' && !first(layersOf(topo, name, kind), 'startup-config')) report(['topology', 'nodes', name], `frr node ${name} has no startup-config`, 'warplab starts FRR with it: startup-config: r1/frr.conf', true);
  }

  const nodes: Raw = Object.fromEntries([...kinds].map(([name, kind]) => [name, nodeDocument(name, kind, layersOf(topo, name, kind), notes)]));
  const frrImages = [...kinds].filter(([name, kind]) => kind === 'frr' && first(layersOf(topo, name, kind), 'image')).map(([name]) => name);
  if (frrImages.length) notes.push(`image of ${frrImages.join(', ')} not used: warplab runs Debian's FRR in the node's namespace (apt-get install frr); no FRR image is needed`);
  const links = (Array.isArray(topo.links) ? topo.links : []).map((l: unknown, i: number) => {
    const at: YamlPath = ['topology', 'links', i];
    if (!isMapping(l) || !Array.isArray(l.endpoints) || l.endpoints.length !== 2) return void report(at, 'a link has endpoints: [A, B]', 'write endpoints: ["r1:eth1", "r2:eth1"]');
    if (l.type !== undefined && l.type !== 'veth') return void report([...at, 'type'], `link type "${l.type}" is not supported`, 'warplab makes veth links between two nodes');
    const ends = l.endpoints.map((e: unknown, k: number) => endpointOf(e, [...at, 'endpoints', k], report));
    if (ends.some((e: Endpoint | undefined) => !e)) return undefined;
    const names = (ends as Endpoint[]).map((e) => {
      if (kinds.get(e.node) === 'bridge') return e.node;
      if (e.iface === 'eth0') report(e.at, `${e.node}:eth0 is containerlab's management interface`, 'warplab has no management network: link eth1 and up');
      if (nodes[e.node]) nodes[e.node].interfaces[e.iface] = {};
      return `${e.node}:${e.iface}`;
    });
    return l.mtu === undefined ? `${names[0]} -- ${names[1]}` : { a: names[0], b: names[1], mtu: l.mtu };
  });
  if (issues.length) throw new TopologyError(issues.sort((a, b) => a.pos.line - b.pos.line || a.pos.col - b.pos.col));

  const document = { name: raw.name, nodes, links };
  return { document, notes, locator: { locate: (p: YamlPath, key?: boolean): SourcePosition => src.locate(sourcePath(p), key) } };
}

/** The converted document as a warplab topology file, the notes as comments at its top. */
export function convertedYaml(c: Converted, from: string): string {
  const header = [`# warplab topology converted from the containerlab file ${from} (warplab convert);`, '# paths are relative to that file\'s folder.', ...c.notes.map((n) => `# note: ${n}`)];
  return `${header.join('\n')}\n${stringify(c.document, { lineWidth: 0 })}`;
}
