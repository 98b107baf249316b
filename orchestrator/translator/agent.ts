// The translator agent on each edge router: deployed through the node's Shell when the lab
// comes up, spoken to over a root-only Unix socket in the lab directory.
import { existsSync, mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { Interrupted, ReadinessTimeout, WarplabError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { hasCommand, type Shell } from '../shell/shell.js';
import type { NodeSpec } from '../topology/model.js';
import type { Backend, TranslatorSpec } from '../topology/model.js';
import { ruleLine } from './pages.js';

export class TranslatorError extends WarplabError {
  override name = 'TranslatorError';
}

export const agentBinary = join(packageRoot, 'agents', 'build', 'xlate-agent');
export const bpfObject = join(packageRoot, 'agents', 'build', 'xlate.bpf.o');

export function agentDir(labPath: string, node: string): string {
  return join(labPath, 'agents', node);
}
export function socketPath(labPath: string, node: string): string {
  return join(agentDir(labPath, node), 'ctl.sock');
}

/** One request, one JSON line back; the socket is root-only, so only the orchestrator asks. */
export async function ask(sock: string, lines: string[], timeoutMs = 5000, who = 'translator agent'): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    const c = createConnection(sock);
    let buf = '';
    const timer = setTimeout(() => {
      c.destroy();
      reject(new TranslatorError(`${who} at ${sock} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    c.on('connect', () => c.write(lines.map((l) => l + '\n').join('')));
    c.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      c.end();
      let res: Record<string, any>;
      try {
        res = JSON.parse(buf.slice(0, nl)) as Record<string, any>;
      } catch {
        // A throw here would escape the promise and end warplab mid-move.
        return reject(new TranslatorError(`${who} at ${sock} answered no JSON: ${buf.slice(0, nl)}`));
      }
      if (res.ok === false) reject(new TranslatorError(`${who}: ${res.error}`));
      else resolve(res);
    });
    c.on('error', (e) => {
      clearTimeout(timer);
      reject(new TranslatorError(`cannot reach the ${who} at ${sock}: ${e.message}`));
    });
  });
}

export function applyLines(spec: TranslatorSpec): string[] {
  return ['apply', ...spec.pages.map(ruleLine), 'end'];
}

/** auto → ebpf when its program is built, else nftables; a named backend must be available. */
export async function resolveBackend(spec: TranslatorSpec, shell: Shell): Promise<Backend> {
  const ebpf = existsSync(bpfObject);
  if (spec.backend === 'ebpf' && !ebpf) throw new TranslatorError(`backend ebpf: ${bpfObject} is not built; run bash ci/setup.sh (needs clang, libbpf-dev)`);
  const backend: Backend = spec.backend === 'auto' ? (ebpf ? 'ebpf' : 'nftables') : spec.backend;
  if (backend === 'nftables' && !(await hasCommand(shell, 'nft'))) {
    throw new TranslatorError(`backend nftables: nft is missing on ${shell.where}; apt-get install nftables`);
  }
  return backend;
}

export interface DeployedAgent {
  node: string;
  backend: Backend;
  pid: number;
  socket: string;
}

/** Starts the agent in the node, waits until it answers, applies the node's pages. */
export async function deployAgent(labPath: string, mark: string, node: NodeSpec, shell: Shell, signal?: AbortSignal): Promise<DeployedAgent> {
  const spec = node.translator!;
  if (!existsSync(agentBinary)) throw new TranslatorError(`${agentBinary} is not built; run bash ci/setup.sh`);
  const backend = await resolveBackend(spec, shell);
  const dir = agentDir(labPath, node.name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const sock = socketPath(labPath, node.name);
  const argv = [agentBinary, '--socket', sock, '--state', dir, '--backend', backend, '--mark', mark, '--bpf-object', bpfObject, ...spec.lan.flatMap((i) => ['--lan-if', i])];
  const proc = shell.spawn(argv, { logFile: join(dir, 'agent.log') });
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (signal?.aborted) throw new Interrupted('interrupted while starting translator agents');
    const exited = await Promise.race([proc.exited.then((c) => ({ c })), new Promise<undefined>((r) => setTimeout(() => r(undefined), 20))]);
    if (exited) throw new TranslatorError(`translator agent on ${node.name} exited (${exited.c}) while starting; see ${join(dir, 'agent.log')}`);
    if (existsSync(sock) && (await ask(sock, ['health'], 1000).then(() => true, () => false))) break;
    if (Date.now() > deadline) throw new ReadinessTimeout(`translator agent on ${node.name} did not answer within 10 s; see ${join(dir, 'agent.log')}`);
  }
  await ask(sock, applyLines(spec));
  return { node: node.name, backend, pid: proc.pid, socket: sock };
}
