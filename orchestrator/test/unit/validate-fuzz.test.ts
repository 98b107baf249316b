// Generative test: no input crashes the validator. Every shipped topology and scenario is
// read as a YAML document; one scalar at a time is replaced (bad addresses and prefix
// lengths, wrong types, empty and huge values, unknown names), or one mapping key is written
// twice or removed, everything else kept. Each mutated file goes through validateFile, what
// `warplab validate` runs: it is accepted, or rejected with the validator's own error whose
// every issue points at a line:col of the mutated file. A seeded sample keeps it fast.
import { strict as assert } from 'node:assert';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { isSeq, LineCounter, parseDocument, visit, type Document, type Scalar, type YAMLMap } from 'yaml';
import { packageRoot } from '../../paths.js';
import { isValidationError, validateFile } from '../../validate.js';
import { removeDir, shippedScenarios, shippedTopologies, tempStateDir } from '../helpers.js';

/** Mutations per case, drawn with a fixed seed; WARPLAB_FUZZ_ALL=1 runs every one (~50 000: minutes). */
const SAMPLE_PER_CASE = 150;
const SEED = 20110207;
const ALL = !!process.env.WARPLAB_FUZZ_ALL;

/** Replacements for any value: wrong types, empty, huge and not-a-number values, bad addresses. */
const ANY_VALUE: unknown[] = [
  '', 'nosuch', 'constructor', '__proto__', 0, -1, 0.5, 1e308, 2 ** 53 + 1, NaN, 'NaN', '1e999', true, false, null, [], {},
  '10.0.0.1/33', '10.0.0.1/-1', '300.1.1.1', '300.1.1.1/24', '1.2.3', '1.2.3.4/abc', '0.0.0.0/0', '10.0.0.1',
];

const ADDRESS = /^(\d+)\.(\d+)\.(\d+)\.(\d+)(\/\d+)?$/;

/** Replacements derived from what is there: the same address out of range, the same names misspelt. */
function variants(value: unknown): unknown[] {
  if (typeof value === 'number') return [-value, value * 1e6, String(value)];
  if (typeof value === 'boolean') return [String(value)];
  if (typeof value !== 'string') return [];
  const out: unknown[] = [[value], { [value]: value }];
  const a = ADDRESS.exec(value);
  if (a) {
    const octets = a.slice(1, 5);
    const len = a[5] ?? '';
    for (let i = 0; i < 4; i++) out.push(octets.map((o, j) => (i === j ? '300' : o)).join('.') + len);
    out.push(octets.slice(0, 3).join('.') + len, ...['/33', '/-1', '/abc', '/0', '/32', ''].map((l) => octets.join('.') + l));
  }
  // One name at a time misspelt: unknown nodes, interfaces, pages, workloads, keys.
  for (const m of value.matchAll(/[A-Za-z][\w.-]*/g)) out.push(`${value.slice(0, m.index)}${m[0]}x${value.slice(m.index + m[0].length)}`);
  return out;
}

/** A scalar and what holds it, so that it can be replaced (or, as a key, its pair doubled). */
interface Site {
  scalar: Scalar;
  holder: Record<string | number, unknown>;
  slot: string | number;
  /** For a key: the mapping it is a key of. */
  map?: YAMLMap;
}

/** Every scalar of the document, keys included. */
function sitesOf(doc: Document): Site[] {
  const sites: Site[] = [];
  visit(doc, {
    Scalar: (key, scalar, path) => {
      const parent = path[path.length - 1] as unknown as Record<string | number, unknown>;
      const holder = key === null ? (doc as unknown as Record<string, unknown>) : isSeq(parent) ? (parent.items as unknown as Record<number, unknown>) : parent;
      sites.push({ scalar, holder, slot: key ?? 'contents', ...(key === 'key' ? { map: path[path.length - 2] as YAMLMap } : {}) });
    },
  });
  return sites;
}

interface Mutation {
  /** line:col in the original, and what changed: for the failure message. */
  what: string;
  /** Changes the document in place; returns what undoes it. */
  apply(): () => void;
}

function mutationsOf(doc: Document, lines: LineCounter): Mutation[] {
  return sitesOf(doc).flatMap(({ scalar, holder, slot, map }) => {
    const { line, col } = lines.linePos(scalar.range?.[0] ?? 0);
    const where = `${line}:${col}: ${JSON.stringify(scalar.value)}`;
    // A key stays a name; a value may become anything.
    const values = map ? [...variants(scalar.value), '', 'nosuch', 'constructor', '__proto__'].filter((v) => typeof v === 'string') : [...ANY_VALUE, ...variants(scalar.value)];
    const replace = values.map((v): Mutation => ({
      what: `${where} → ${JSON.stringify(v)}`,
      apply: () => {
        holder[slot] = doc.createNode(v);
        return () => (holder[slot] = scalar);
      },
    }));
    if (!map) return replace;
    const index = () => map.items.findIndex((p) => p.key === scalar);
    const twice: Mutation = {
      what: `${where}: key written twice`,
      apply: () => {
        const i = index();
        map.items.splice(i + 1, 0, map.items[i]!.clone());
        return () => map.items.splice(i + 1, 1);
      },
    };
    const removed: Mutation = {
      what: `${where}: key removed`,
      apply: () => {
        const i = index();
        const [pair] = map.items.splice(i, 1);
        return () => map.items.splice(i, 0, pair!);
      },
    };
    return [...replace, twice, removed];
  });
}

/** mulberry32: a small seeded generator, so every run draws the same sample. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sample<T>(all: T[], n: number, next: () => number): T[] {
  if (ALL || all.length <= n) return all;
  const pool = [...all];
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(next() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, n);
}

/** Why the validator's answer to `file` is wrong, or undefined when it is fine; `files`: where issues may point, with their text. */
async function problemOf(file: string, files: Map<string, string>): Promise<string | undefined> {
  try {
    await validateFile(file);
    return undefined;
  } catch (e) {
    if (!isValidationError(e)) return `crashed: ${((e as Error)?.stack ?? String(e)).split('\n').slice(0, 4).join('\n    ')}`;
    if (!e.issues.length) return 'rejected without an issue';
    const inFile = ({ file, line, col }: { file: string; line: number; col: number }) => {
      const text = files.get(file)?.split('\n')[line - 1];
      return text !== undefined && col >= 1 && col <= text.length + 1;
    };
    // A message built from a field that failed earlier says "undefined" where a value should be.
    const bad = e.issues.filter((i) => !inFile(i.pos) || /\bundefined\b|\[object Object\]/.test(`${i.message} ${i.hint ?? ''}`));
    return bad.length ? `bad issues: ${bad.map((i) => `${i.pos.file}:${i.pos.line}:${i.pos.col}: ${i.path}: ${i.message}${i.hint ? ` | ${i.hint}` : ''}`).join('; ')}` : undefined;
  }
}

/** The topology file a scenario names (all shipped scenarios name one). */
function topologyFileOf(scenario: string): string {
  return resolve(dirname(scenario), parseDocument(readFileSync(scenario, 'utf8')).get('topology') as string);
}

describe('warplab validate on mutated shipped files: no crash, every issue at file:line:col', function () {
  if (ALL) this.timeout(0);
  // Files as paths inside topologies/, validated in a copy of it: scenarios name their
  // topology relative to themselves (../X.yaml).
  const shipped = join(packageRoot, 'topologies');
  const inShipped = (f: string) => relative(shipped, f);
  const cases = [
    ...shippedTopologies.map((t) => ({ mutate: inShipped(t), validate: inShipped(t) })),
    ...shippedScenarios.map((s) => ({ mutate: inShipped(s), validate: inShipped(s) })),
    // The scenario's checks on topologies that changed under it.
    ...shippedScenarios.map((s) => ({ mutate: inShipped(topologyFileOf(s)), validate: inShipped(s) })),
  ];
  let dir: string;
  let total = 0;
  let started = 0;
  before(() => {
    dir = tempStateDir();
    mkdirSync(join(dir, 'scenarios'));
    for (const f of [...shippedTopologies, ...shippedScenarios]) copyFileSync(f, join(dir, inShipped(f)));
    started = Date.now();
  });
  after(() => {
    console.log(`      ${total} mutations in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    removeDir(dir);
  });

  cases.forEach((c, k) => {
    it(c.mutate === c.validate ? basename(c.mutate) : `${basename(c.validate)} on a mutated ${basename(c.mutate)}`, async () => {
      const [mutate, validate] = [join(dir, c.mutate), join(dir, c.validate)];
      const original = readFileSync(mutate, 'utf8');
      const lines = new LineCounter();
      const doc = parseDocument(original, { lineCounter: lines });
      const failures: string[] = [];
      try {
        // A seed per case: a topology mutated under a scenario gets other mutations than alone.
        for (const m of sample(mutationsOf(doc, lines), SAMPLE_PER_CASE, random(SEED + k))) {
          const undo = m.apply();
          const mutated = doc.toString();
          undo();
          writeFileSync(mutate, mutated);
          const problem = await problemOf(validate, new Map([[validate, readFileSync(validate, 'utf8')], [mutate, mutated]]));
          if (problem) failures.push(`${m.what}: ${problem}`);
          total++;
        }
      } finally {
        writeFileSync(mutate, original);
      }
      if (failures.length) assert.fail(`${failures.length} mutations of ${c.mutate} failed:\n${failures.join('\n')}`);
    });
  });
});
