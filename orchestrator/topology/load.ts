// YAML → Topology, in one pipeline: syntax → schema (unknown keys are errors) → model →
// semantic checks → auto routing. Every problem of the file is reported at once.
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { TopologyError, type Issue } from '../errors.js';
import { topologySchemaPath } from '../paths.js';
import { checkTopology, type Report } from './checks.js';
import { daemonsFor } from '../frr/daemons.js';
import type { ContainerSettings, Endpoint, FrrSettings, HostSpec, LinkParams, LinkSpec, NodeSpec, PageSpec, Placement, Topology } from './model.js';
import { checkHosts, checkTunnelMtus, placeNodes } from './hosts.js';
import { autoRoutes } from './routing.js';
import { schemaIssues } from './schema.js';
import { checkPage, checkPageSets, pageFromRaw } from '../translator/pages.js';
import { fromContainerlab, isContainerlab } from './containerlab.js';
import { pathString, YamlSource, type Locator, type YamlPath } from './source.js';
import { checkWorkloads, migrationFromRaw, workloadsFromRaw } from './workloads.js';
import { checkStrategySettings } from '../migration/strategy.js';

type Raw = Record<string, any>;

const TERSE_LINK = /^\s*(\S+)\s+--\s+(\S+)\s*$/;

function endpoint(s: string): Endpoint {
  const [node, iface] = s.split(':');
  return iface ? { node: node!, iface } : { node: node! };
}

const optional = <K extends string, V>(key: K, v: V | undefined) => (v === undefined ? {} : ({ [key]: v } as Record<K, V>));

function strings(labels: Raw | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(labels ?? {}).map(([k, v]) => [k, String(v)]));
}

const CONTAINER_KEYS = ['image', 'env', 'binds', 'cmd', 'exec'] as const;

/** A relative host path is relative to the topology file's folder, as containerlab reads it. */
function fromFolder(base: string, path: string): string {
  return isAbsolute(path) ? path : resolve(base, path);
}

/** Present only when the node says something about its container. */
function containerOf(n: Raw, base: string): ContainerSettings | undefined {
  if (!CONTAINER_KEYS.some((k) => n[k] !== undefined)) return undefined;
  return {
    ...(n.image ? { image: n.image } : {}),
    ...(n['image-missing'] === 'substitute' ? { substituteMissingImage: true } : {}),
    env: strings(n.env),
    binds: ((n.binds ?? []) as string[]).map((b) => {
      const [host, ...rest] = b.split(':');
      return [fromFolder(base, host!), ...rest].join(':');
    }),
    ...(n.cmd ? { cmd: n.cmd } : {}),
    exec: n.exec ?? [],
  };
}

/** The configuration must exist now: the daemons it needs are read from it. */
function frrOf(name: string, n: Raw, base: string, report: Report): FrrSettings | undefined {
  if (!n.frr) return undefined;
  const config = fromFolder(base, n.frr.config);
  if (!existsSync(config)) {
    report(['nodes', name, 'frr', 'config'], `FRR configuration ${config} does not exist`, `paths are relative to the topology file's folder (${base})`);
    return { config, daemons: daemonsFor('', n.frr.daemons) };
  }
  return { config, daemons: daemonsFor(readFileSync(config, 'utf8'), n.frr.daemons) };
}

/** Key files and known_hosts files are read from the orchestrator's machine, like FRR configurations. */
function hostsOf(raw: Raw, base: string): HostSpec[] {
  return Object.entries(raw).map(([name, h]: [string, Raw]) => ({
    name,
    address: h.address,
    port: h.port ?? 22,
    user: h.user ?? 'root',
    ...optional('keyFile', h['key-file'] && fromFolder(base, h['key-file'])),
    ...optional('fingerprint', h.fingerprint),
    ...optional('knownHosts', h['known-hosts'] && fromFolder(base, h['known-hosts'])),
    ...optional('sshConfig', h['ssh-config']),
    underlayMtu: h['underlay-mtu'] ?? 1500,
    labels: strings(h.labels),
  }));
}

/** Present when written (a placement without hosts is an error), round-robin by default when there are hosts. */
function placementOf(raw: Raw): Placement | undefined {
  const p = raw.placement ?? (raw.hosts ? 'round-robin' : undefined);
  return typeof p === 'object' ? { byLabel: p['by-label'] } : p;
}

function toModel(raw: Raw, source: string, base: string, report: Report): Topology {
  const named = (raw.pages ?? {}) as Raw;
  const pagesOf = (node: string, list: (string | Raw)[]): PageSpec[] =>
    list.flatMap((p, i) => {
      if (typeof p !== 'string') return [pageFromRaw(p)];
      // Own keys only: a page called "constructor" is not Object.prototype's.
      if (Object.hasOwn(named, p)) return [pageFromRaw(named[p], p)];
      report(['nodes', node, 'translator', 'pages', i], `unknown page "${p}"`, Object.keys(named).length ? `pages are: ${Object.keys(named).join(', ')}` : 'declare it under the top-level pages');
      return [];
    });
  const nodes: NodeSpec[] = Object.entries(raw.nodes as Raw).map(([name, n]) => ({
    name,
    kind: n.kind,
    labels: strings(n.labels),
    interfaces: Object.entries((n.interfaces ?? {}) as Raw).map(([iname, i]) => ({
      name: iname,
      ipv4: i?.ipv4 === undefined ? [] : [i.ipv4].flat(),
      ...(i?.mac ? { mac: i.mac } : {}),
      ...(i?.mtu ? { mtu: i.mtu } : {}),
      announce: i?.announce ?? true,
    })),
    routes: ((n.routes ?? []) as Raw[]).map((r) => ({ to: r.to, via: r.via })),
    announce: n.announce ?? [],
    ...(n.subnet ? { subnet: n.subnet } : {}),
    ...(n.translator ? { translator: { backend: n.translator.backend ?? 'auto', lan: n.translator.lan, pages: pagesOf(name, n.translator.pages) } } : {}),
    ...optional('container', containerOf(n, base)),
    ...optional('frr', frrOf(name, n, base, report)),
    ...optional('host', n.host),
  }));
  const links: LinkSpec[] = ((raw.links ?? []) as (string | Raw)[]).map((l, i) => {
    if (typeof l === 'string') {
      const m = TERSE_LINK.exec(l)!;
      return { a: endpoint(m[1]!), b: endpoint(m[2]!), labels: {} };
    }
    // The schema lets a bare number through so that this can say what is missing.
    if (typeof l.delay === 'number') report(['links', i, 'delay'], `delay ${l.delay} has no unit`, `write ${l.delay}ms (units: us, ms, s)`);
    const params: LinkParams = {
      ...(l.bw !== undefined ? { bw: l.bw } : {}),
      ...(l.delay !== undefined ? { delay: l.delay } : {}),
      ...(l.loss !== undefined ? { loss: l.loss } : {}),
      ...(l.max_queue_size !== undefined ? { maxQueueSize: l.max_queue_size } : {}),
    };
    return { a: endpoint(l.a), b: endpoint(l.b), ...(l.mtu ? { mtu: l.mtu } : {}), ...(Object.keys(params).length ? { params } : {}), labels: strings(l.labels) };
  });
  const migration = migrationFromRaw(raw.migration);
  return {
    name: raw.name,
    labels: strings(raw.labels),
    routing: raw.routing ?? 'static',
    nodes,
    links,
    workloads: workloadsFromRaw(raw.workloads),
    ...optional('migration', migration),
    ...optional('hosts', raw.hosts && hostsOf(raw.hosts, base)),
    ...optional('placement', placementOf(raw)),
    source,
  };
}

function checkTranslators(raw: Raw, t: Topology, report: Report): void {
  for (const [name, p] of Object.entries((raw.pages ?? {}) as Raw)) checkPage(pageFromRaw(p, name), ['pages', name], report, p.pass === true);
  for (const n of t.nodes.filter((x) => x.translator)) {
    const base = ['nodes', n.name, 'translator'];
    if (n.kind !== 'edge-router') report(base, `a translator runs on edge routers; ${n.name} is a ${n.kind}`, 'set kind: edge-router');
    n.translator!.lan.forEach((itf, i) => {
      if (!n.interfaces.some((x) => x.name === itf)) report([...base, 'lan', i], `${n.name} has no interface "${itf}"`, `interfaces: ${n.interfaces.map((x) => x.name).join(', ')}`);
    });
    const rawPages = (raw.nodes[n.name].translator.pages ?? []) as (string | Raw)[];
    rawPages.forEach((p, i) => {
      if (typeof p !== 'string') checkPage(pageFromRaw(p), [...base, 'pages', i], report, p.pass === true);
    });
  }
  checkPageSets(t, report, (node, i) => ['nodes', node, 'translator', 'pages', i]);
}

/**
 * Parse and validate a warplab or a containerlab file (converted first, see containerlab.ts);
 * throws TopologyError listing every problem with file:line:col.
 */
export function parseTopology(text: string, file = '<inline>'): Topology {
  const src = new YamlSource(text, file);
  if (src.syntaxIssues.length) throw new TopologyError(src.syntaxIssues);
  const raw = src.value();
  if (isContainerlab(file, raw)) {
    const c = fromContainerlab(src);
    return { ...topologyOf(c.document, file, c.locator), ...(c.notes.length ? { notes: c.notes } : {}) };
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new TopologyError([{ pos: { file, line: 1, col: 1 }, path: '', message: 'a topology is a mapping', expected: 'keys name, nodes, links, …', hint: 'see topologies/*.yaml for examples' }]);
  }
  return topologyOf(raw as Raw, file, src);
}

/** A warplab document, checked; `at` places its problems in the file. */
function topologyOf(raw: Raw, file: string, at: Locator): Topology {
  const issues: Issue[] = schemaIssues(at, raw, topologySchemaPath);
  if (issues.length) throw new TopologyError(issues);

  const report: Report = (path: YamlPath, message, hint, key = false) =>
    issues.push({ pos: at.locate(path, key), path: pathString(path), message, ...(hint ? { hint } : {}) });
  const rawNodes = raw.nodes as Raw;
  const addressPath = (node: string, iface: string, k: number): YamlPath => {
    const base = ['nodes', node, 'interfaces', iface, 'ipv4'];
    return Array.isArray(rawNodes[node]?.interfaces?.[iface]?.ipv4) ? [...base, k] : base;
  };

  const folder = file === '<inline>' ? process.cwd() : dirname(resolve(file));
  let topo = placeNodes(toModel(raw, file, folder, report), report);
  checkTopology(topo, report, addressPath);
  checkHosts(topo, report);
  checkTunnelMtus(topo, report);
  checkTranslators(raw, topo, report);
  checkWorkloads(topo, raw, report);
  if (!issues.length && topo.routing === 'auto') topo = autoRoutes(topo, report);
  if (!issues.length) checkStrategySettings(topo, raw.migration, at, issues);
  if (issues.length) throw new TopologyError(issues.sort((a, b) => a.pos.line - b.pos.line || a.pos.col - b.pos.col));
  return topo;
}

export async function loadTopologyFile(path: string): Promise<Topology> {
  return parseTopology(await readFile(path, 'utf8'), path);
}
