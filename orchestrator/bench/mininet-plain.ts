// The plain-Mininet side of the up/down benchmark: ci/bench/mininet_plain.py builds a
// warplab topology the way a Mininet user writes it, in a private sandbox. `mn`/`mn -c` and
// Mininet's fixLimits() act on the whole host, so the script never calls them, and unshare
// gives it its own network, PID and mount namespaces: when the sandbox's PID 1 exits (or is
// killed), every node shell and veth goes with it.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../paths.js';
import { SANDBOX_ARGS } from '../substrate/mininet/helper-client.js';
import { DEFAULT_PYTHON } from '../substrate/mininet/mininet.js';
import type { Topology } from '../topology/model.js';

const run = promisify(execFile);
const script = join(packageRoot, 'ci', 'bench', 'mininet_plain.py');

export interface PlainMininetResult {
  name: string;
  upMs: number[];
  downMs: number[];
  /** The `check` ping, when one was asked for. */
  reachable: boolean | null;
}

/** What mininet_plain.py reads: the topology's nodes, addresses, routes and links. */
export function plainSpec(t: Topology, check?: [string, string]) {
  return {
    name: t.name,
    nodes: t.nodes.map((n) => ({
      name: n.name,
      kind: n.kind === 'lan' ? 'lan' : n.kind === 'router' || n.kind === 'edge-router' ? 'router' : 'host',
      interfaces: n.interfaces.map((i) => ({ name: i.name, ipv4: i.ipv4, ...(i.mac ? { mac: i.mac } : {}) })),
      routes: n.routes.map((r) => ({ to: r.to, via: r.via })),
    })),
    links: t.links.map((l) => ({ a: l.a, b: l.b })),
    ...(check ? { check } : {}),
  };
}

/** Builds and stops each topology `repeat` times with plain Mininet; one result per topology, in order. */
export async function plainMininet(topologies: { t: Topology; check?: [string, string] }[], repeat: number, python = DEFAULT_PYTHON): Promise<PlainMininetResult[]> {
  const spec = JSON.stringify({ repeat, topologies: topologies.map((x) => plainSpec(x.t, x.check)) });
  let stdout: string;
  try {
    const child = run('unshare', [...SANDBOX_ARGS, '--', python, script], { maxBuffer: 1 << 24, env: { ...process.env, SETUPTOOLS_USE_DISTUTILS: 'stdlib' } });
    child.child.stdin!.end(spec);
    ({ stdout } = await child);
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`plain Mininet benchmark failed: ${err.stderr?.trim() || err.message}`);
  }
  const results = stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const r = JSON.parse(l) as { name: string; up_ms: number[]; down_ms: number[]; reachable: boolean | null };
      return { name: r.name, upMs: r.up_ms, downMs: r.down_ms, reachable: r.reachable };
    });
  if (results.length !== topologies.length) throw new Error(`mininet_plain.py: expected ${topologies.length} results, got ${results.length}`);
  return results;
}
