// YAML → Scenario, in the topology loader's pipeline: syntax → schema (unknown keys are
// errors) → the topology (by path or inline) → semantic checks of streams, steps and
// thresholds against it. Every problem is reported at once, as file:line:col: path: message.
import { readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { isMap, type Node } from 'yaml';
import { formatIssue, TopologyError, WarplabError, type Issue } from '../errors.js';
import { packageRoot } from '../paths.js';
import { metrics, type MetricName } from '../report/metrics.js';
import type { Threshold } from '../report/thresholds.js';
import { addressField } from '../topology/checks.js';
import { parseTopology } from '../topology/load.js';
import type { Topology } from '../topology/model.js';
import { schemaIssues } from '../topology/schema.js';
import { pathString, YamlSource, type YamlPath } from '../topology/source.js';
import { streamLabels, type Scenario, type StepSpec, type StreamSpec } from './model.js';
import type { CheckContext, Simulation } from './step.js';
import { stepKind } from './steps/index.js';
import { few, firstAddress, linkName } from './steps/where.js';

export const scenarioSchemaPath = join(packageRoot, 'topologies', 'scenario.schema.json');

/** Every problem of a scenario file (and of its topology) at once. */
export class ScenarioError extends WarplabError {
  override name = 'ScenarioError';
  constructor(readonly issues: Issue[]) {
    super(`${issues.length} problem${issues.length === 1 ? '' : 's'} found:\n` + issues.map(formatIssue).join('\n'));
  }
}

type Raw = Record<string, any>;

/** Threshold shorthands → the report's metrics. */
export const SHORTHANDS: Record<string, MetricName> = {
  'max-downtime-ms': 'downtimeMs',
  'max-switching-ms': 'switchingMs',
  'max-migration-ms': 'migrationMs',
  'max-loss-ratio': 'lossRatio',
  'max-lost-packets': 'lost',
};

/**
 * The inline topology as a document of its own that keeps its line:col: everything outside
 * its node is blanked (newlines kept), so the topology loader's positions are the scenario's.
 */
function inlineText(src: YamlSource): string {
  const pair = isMap(src.doc.contents) ? src.doc.contents.items.find((p) => String((p.key as { value?: unknown })?.value) === 'topology') : undefined;
  const [start, , end] = ((pair?.value as Node | undefined)?.range ?? [0, 0, 0]) as [number, number, number];
  return src.text.replace(/[^\n]/g, (c, i: number) => (i >= start && i < end ? c : ' '));
}

function topologyOf(src: YamlSource, raw: Raw, issues: Issue[]): { topology?: Topology; file?: string } {
  if (typeof raw.topology === 'string') {
    const file = resolve(dirname(src.file), raw.topology);
    if (!statSync(file, { throwIfNoEntry: false })?.isFile()) {
      issues.push({ pos: src.locate(['topology']), path: 'topology', message: `no topology file "${raw.topology}" next to this scenario`, hint: "a path is relative to the scenario file's folder, e.g. ../icoin2011-paging.yaml" });
      return {};
    }
    try {
      return { topology: parseTopology(readFileSync(file, 'utf8'), file), file };
    } catch (e) {
      if (!(e instanceof TopologyError)) throw e;
      issues.push(...e.issues);
      return {};
    }
  }
  try {
    return { topology: parseTopology(inlineText(src), src.file) };
  } catch (e) {
    if (!(e instanceof TopologyError)) throw e;
    issues.push(...e.issues.map((i) => ({ ...i, path: i.path ? `topology.${i.path}` : 'topology' })));
    return {};
  }
}

function streamsOf(raw: Raw[], t: Topology, report: (p: YamlPath, m: string, h?: string) => void): StreamSpec[] {
  const specs: StreamSpec[] = [];
  raw.forEach((s, i) => {
    const at = ['streams', i];
    const nodeKeys = ['from', 'to', 'address', 'return-address', 'interval-ms', 'direction', 'label'].filter((k) => s[k] !== undefined);
    if (s.workload !== undefined) {
      if (nodeKeys.length) report([...at, nodeKeys[0]!], `a workload stream takes no "${nodeKeys[0]}"`, 'write either {workload: NAME} or {from: NODE, to: NODE}, as two items');
      const w = t.workloads.find((x) => x.name === s.workload);
      if (!w) return report([...at, 'workload'], `unknown workload "${s.workload}"`, t.workloads.length ? `workloads: ${few(t.workloads.map((x) => x.name))}` : `topology ${t.name} declares no workloads`);
      if (!w.app.peer) return report([...at, 'workload'], `${w.name} has no app.peer to stream with`, `set workloads.${w.name}.app.peer in the topology`);
      specs.push({ kind: 'workload', workload: w.name, ...(s['echo-interval-ms'] !== undefined ? { echoIntervalMs: s['echo-interval-ms'] } : {}) });
      return;
    }
    if (s['echo-interval-ms'] !== undefined) report([...at, 'echo-interval-ms'], 'echo-interval-ms is for workload streams', 'use interval-ms for a stream between nodes');
    if (s.from === undefined || s.to === undefined) return report(at, 'a stream names a workload, or from and to', 'e.g. {workload: vm-a} or {from: U, to: H1, interval-ms: 10}');
    let ok = true;
    for (const k of ['from', 'to'] as const) {
      const n = t.nodes.find((x) => x.name === s[k]);
      if (!n || n.kind === 'lan') {
        ok = false;
        report([...at, k], n ? `${s[k]} is a lan; streams run between hosts, routers or hypervisors` : `unknown node "${s[k]}"`, `nodes: ${few(t.nodes.filter((x) => x.kind !== 'lan').map((x) => x.name))}`);
      } else if (!firstAddress(t, n.name) && (k === 'to' ? s.address === undefined : s.direction === 'both-ways' && s['return-address'] === undefined)) {
        ok = false;
        report([...at, k], `${n.name} has no address to send to`, `give it one, or write ${k === 'to' ? 'address' : 'return-address'}`);
      }
    }
    if (s['return-address'] !== undefined && s.direction !== 'both-ways') report([...at, 'return-address'], 'return-address is for both-ways streams', 'add direction: both-ways, or remove it');
    for (const k of ['address', 'return-address'] as const) {
      if (s[k] !== undefined && addressField(s[k], [...at, k], report) === undefined) ok = false;
    }
    if (!ok) return;
    specs.push({
      kind: 'nodes',
      from: s.from,
      to: s.to,
      ...(s.address ? { address: s.address } : {}),
      ...(s['return-address'] ? { returnAddress: s['return-address'] } : {}),
      intervalMs: s['interval-ms'] ?? 1,
      bothWays: s.direction === 'both-ways',
      label: s.label ?? `${s.from}→${s.to}`,
    });
  });
  return specs;
}

function stepsOf(list: Raw[], section: 'steps' | 'reset', t: Topology, sim: Simulation, report: (p: YamlPath, m: string, h?: string) => void): StepSpec[] {
  return list.map((raw, i) => {
    const [kind, value] = Object.entries(raw)[0]!;
    const path: YamlPath = [section, i, kind];
    const k = stepKind(kind)!; // the schema admits registered kinds only
    const args = k.parse(value);
    const ctx: CheckContext = { topology: t, sim, at: path, report: (sub, m, h) => report([...path, ...sub], m, h) };
    k.check(args, ctx);
    return { kind, args, path, id: `${section === 'steps' ? 'step' : 'reset'} ${i + 1}`, description: k.describe(args) };
  });
}

/** Where the steps leave the workloads, if not where they started: a next trial would begin elsewhere. */
function driftOf(start: Map<string, string>, end: Map<string, string>): string | undefined {
  const moved = [...end].filter(([w, hv]) => start.get(w) !== hv).map(([w, hv]) => `${w} ends on ${hv}, not on ${start.get(w)} where it started`);
  return moved.length ? moved.join('; ') : undefined;
}

function thresholdsOf(raw: Raw[], labels: string[], steps: StepSpec[], report: (p: YamlPath, m: string, h?: string) => void): Threshold[] {
  const out: Threshold[] = [];
  const migrates = steps.some((s) => s.kind === 'migrate');
  const windows = migrates || steps.some((s) => s.kind === 'cut');
  raw.forEach((th, i) => {
    const at = ['thresholds', i];
    const figures = [...Object.keys(SHORTHANDS).filter((k) => th[k] !== undefined), ...(th.metric !== undefined ? ['metric'] : [])];
    if (figures.length !== 1) {
      return report(figures.length ? [...at, figures[1]!] : at, figures.length ? `one figure per threshold, here ${figures.join(' and ')}` : 'a threshold names one figure', `e.g. {max-downtime-ms: 1500} or {metric: noiseFloorMs, max: 50}; write two items for two limits`);
    }
    const key = figures[0]!;
    let t: Threshold;
    if (key === 'metric') {
      if (th.min === undefined && th.max === undefined) return report([...at, 'metric'], `${th.metric} needs a min or a max`, 'e.g. {metric: noiseFloorMs, max: 50}');
      t = { metric: th.metric, ...(th.min !== undefined ? { min: th.min } : {}), ...(th.max !== undefined ? { max: th.max } : {}) };
    } else {
      for (const k of ['min', 'max'] as const) if (th[k] !== undefined) report([...at, k], `${k} goes with metric, not with ${key}`, `write {metric: ${SHORTHANDS[key]}, ${k}: …} instead`);
      t = { metric: SHORTHANDS[key]!, max: th[key] };
    }
    if (th.statistic) t.statistic = th.statistic;
    if (th.stream !== undefined) {
      if (!labels.includes(th.stream)) report([...at, 'stream'], `no stream "${th.stream}" in this scenario`, labels.length ? `streams: ${few(labels)}` : 'the scenario records no streams');
      if (!metrics[t.metric].perStream) report([...at, 'stream'], `${t.metric} is a figure of the trial, not of one stream`, 'remove stream');
      t.stream = th.stream;
    }
    if (!labels.length) report([...at, key], 'a threshold needs streams to measure', 'add streams: [{workload: NAME}] or [{from: NODE, to: NODE}]');
    else if ((t.metric === 'switchingMs' || t.metric === 'migrationMs' || t.metric === 'resumeToFirstPacketMs') && !migrates) report([...at, key], `${t.metric} is measured on migrations, and no step migrates`, 'add a migrate step, or remove this threshold');
    else if ((t.metric === 'downtimeMs' || t.metric === 'disruptionMs' || t.metric === 'didNotResume') && !windows) report([...at, key], `${t.metric} is measured in migration or link-cut windows, and no step makes one`, 'add a migrate or cut step');
    out.push(t);
  });
  return out;
}

export interface ParseOptions {
  /** Overrides the file's repeat (as `warplab run --repeat` does), checked the same way. */
  repeat?: number;
}

/** Parse and validate; throws ScenarioError listing every problem with file:line:col. */
export function parseScenario(text: string, file = '<inline>', o: ParseOptions = {}): Scenario {
  const src = new YamlSource(text, file);
  if (src.syntaxIssues.length) throw new ScenarioError(src.syntaxIssues);
  const raw = src.value();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ScenarioError([{ pos: { file, line: 1, col: 1 }, path: '', message: 'a scenario is a mapping', expected: 'keys name, topology, streams, steps, thresholds, …', hint: 'see topologies/scenarios/*.yaml for examples' }]);
  }
  const issues: Issue[] = schemaIssues(src, raw, scenarioSchemaPath);
  if (issues.length) throw new ScenarioError(issues);
  const r = raw as Raw;
  const report = (path: YamlPath, message: string, hint?: string) => issues.push({ pos: src.locate(path), path: pathString(path), message, ...(hint ? { hint } : {}) });

  const { topology, file: topologyFile } = topologyOf(src, r, issues);
  if (!topology) throw new ScenarioError(issues);

  const streams = streamsOf(r.streams ?? [], topology, report);
  const start = new Map(topology.workloads.map((w) => [w.name, w.on]));
  const sim: Simulation = { placement: new Map(start), cut: new Map() };
  const steps = stepsOf(r.steps, 'steps', topology, sim, report);
  const reset = stepsOf(r.reset ?? [], 'reset', topology, sim, report);
  for (const [i, at] of sim.cut) report([...at, 'link'], `${linkName(topology.links[i]!)} stays cut at the end of a trial`, 'add a restore step (in steps or reset), or cut with for-ms');
  const drift = driftOf(start, sim.placement);
  const repeat = o.repeat ?? r.repeat ?? 1;
  if (drift && repeat > 1) {
    report(o.repeat !== undefined ? [] : ['repeat'], `${o.repeat !== undefined ? `--repeat ${repeat}: ` : ''}${drift}, so trial 2 would start elsewhere`, 'migrate it back in reset (run after every trial, not measured), or run one trial');
  }
  const peer = (name: string) => {
    const w = topology.workloads.find((x) => x.name === name)!;
    return topology.nodes.find((n) => n.interfaces.some((i) => i.ipv4.some((a) => a.split('/')[0] === w.app.peer)))?.name ?? '?';
  };
  const labels = streams.flatMap((s) => streamLabels(s, peer));
  const twice = labels.find((l, i) => labels.indexOf(l) !== i);
  if (twice) report(['streams'], `two streams are called "${twice}"`, 'give one a label');
  const thresholds = thresholdsOf(r.thresholds ?? [], labels, steps, report);

  if (issues.length) throw new ScenarioError(issues.sort((a, b) => (a.pos.file === b.pos.file ? 0 : a.pos.file === file ? 1 : -1) || a.pos.line - b.pos.line || a.pos.col - b.pos.col));
  return {
    name: r.name,
    ...(r.description ? { description: r.description.trim() } : {}),
    file,
    topology,
    ...(topologyFile ? { topologyFile } : {}),
    repeat,
    streams,
    steps,
    reset,
    thresholds,
  };
}

export async function loadScenarioFile(path: string, o: ParseOptions = {}): Promise<Scenario> {
  return parseScenario(await readFile(path, 'utf8'), path, o);
}
