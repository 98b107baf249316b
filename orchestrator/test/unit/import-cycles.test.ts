import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { packageRoot } from '../../paths.js';

const root = join(packageRoot, 'orchestrator');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return f === 'test' ? [] : sources(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** Relative imports, type-only ones included: a type cycle ties modules together as much as a value cycle. */
function imports(file: string, known: Set<string>): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export)[^'";]*?from\s+'(\.[^']+)'/gms)].map((m) => resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts'))).filter((p) => known.has(p));
}

describe('module structure', () => {
  it('orchestrator/ has no import cycles', () => {
    const files = sources(root);
    const known = new Set(files);
    const graph = new Map(files.map((f) => [f, imports(f, known)]));
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, path: string[]) => {
      state.set(f, 'open');
      for (const g of graph.get(f)!) {
        if (state.get(g) === 'open') cycles.push([...path.slice(path.indexOf(g)), g].map((x) => relative(root, x)).join(' → '));
        else if (!state.has(g)) visit(g, [...path, g]);
      }
      state.set(f, 'done');
    };
    for (const f of files) if (!state.has(f)) visit(f, [f]);
    assert.ok(files.length > 50, `found only ${files.length} sources under ${root}`);
    assert.deepEqual(cycles, []);
  });
});
