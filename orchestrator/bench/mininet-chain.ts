// The plain-Mininet side of the chain benchmark: ci/bench/mininet_chain.py in a private
// sandbox. `mn`/`mn -c` and Mininet's fixLimits() act on the whole host, so the script
// never calls them, and unshare gives it its own network, PID and mount namespaces: when
// the sandbox's PID 1 exits (or is killed), every node shell and veth goes with it.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../paths.js';

const run = promisify(execFile);

// Debian's Mininet imports only under the system Python, not a pyenv one on PATH.
const python = '/usr/bin/python3';
const script = join(packageRoot, 'ci', 'bench', 'mininet_chain.py');
const sandbox = ['--net', '--pid', '--fork', '--kill-child', '--mount', '--mount-proc', '--propagation', 'private'];

export interface MininetChainResult {
  n: number;
  upMs: number;
  downMs: number;
  reachable: boolean;
}

function parseLine(line: string): MininetChainResult {
  const r = JSON.parse(line) as Record<string, unknown>;
  if (typeof r.n !== 'number' || typeof r.up_ms !== 'number' || typeof r.down_ms !== 'number' || typeof r.reachable !== 'boolean') {
    throw new Error(`mininet_chain.py: unexpected output line: ${line}`);
  }
  return { n: r.n, upMs: r.up_ms, downMs: r.down_ms, reachable: r.reachable };
}

/** Builds and tears down each chain of `ns` routers with plain Mininet; one result per n, in order. */
export async function plainMininetChains(ns: number[]): Promise<MininetChainResult[]> {
  try {
    await run(python, ['-c', 'import mininet']);
  } catch {
    throw new Error(`Mininet is not importable by ${python}: install it with \`apt-get install mininet\``);
  }
  let stdout: string;
  try {
    ({ stdout } = await run('unshare', [...sandbox, python, script, ...ns.map(String)]));
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`plain Mininet chain benchmark failed: ${err.stderr?.trim() || err.message}`);
  }
  const results = stdout.split('\n').filter((l) => l.trim()).map(parseLine);
  if (results.length !== ns.length) throw new Error(`mininet_chain.py: expected ${ns.length} results, got ${results.length}`);
  return results;
}
