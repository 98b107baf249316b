// The translator agent on each edge router: deployed through the node's Shell when the lab
// comes up, spoken to over a root-only Unix socket in the lab directory of the router's
// machine (through SSH's socket forwarding when that is another host).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { Interrupted, ReadinessTimeout, WarplabError } from '../errors.js';
import type { LabHandle } from '../lab/handle.js';
import { MachineSocket } from '../lab/machine.js';
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

/** `labDir`: the lab directory on the router's machine. */
export function agentDir(labDir: string, node: string): string {
  return join(labDir, 'agents', node);
}
export function socketPath(labDir: string, node: string): string {
  return join(agentDir(labDir, node), 'ctl.sock');
}

/** The control socket of the agent on `router`, wherever the router runs. */
export function agentSocket(lab: LabHandle, router: string): MachineSocket {
  const m = lab.machine(router);
  return new MachineSocket(m, socketPath(m.labDir, router));
}

/** One request, one JSON line back; the socket is root-only, so only the orchestrator asks. */
export async function ask(sock: MachineSocket, lines: string[], timeoutMs = 5000, who = 'translator agent'): Promise<Record<string, any>> {
  let c: Duplex;
  try {
    c = await sock.connect();
  } catch (e) {
    throw new TranslatorError(`cannot reach the ${who} at ${sock.where}: ${(e as Error).message}`);
  }
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => {
      c.destroy();
      reject(new TranslatorError(`${who} at ${sock.where} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    c.write(lines.map((l) => l + '\n').join(''));
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
        return reject(new TranslatorError(`${who} at ${sock.where} answered no JSON: ${buf.slice(0, nl)}`));
      }
      if (res.ok === false) reject(new TranslatorError(`${who}: ${res.error}`));
      else resolve(res);
    });
    c.on('error', (e) => {
      clearTimeout(timer);
      reject(new TranslatorError(`cannot reach the ${who} at ${sock.where}: ${e.message}`));
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

/**
 * Starts the agent in the node, waits until it answers, applies the node's pages. Its binary
 * (and eBPF object) are placed on the node's machine first.
 */
export async function deployAgent(lab: LabHandle, node: NodeSpec, signal?: AbortSignal): Promise<DeployedAgent> {
  const spec = node.translator!;
  if (!existsSync(agentBinary)) throw new TranslatorError(`${agentBinary} is not built; run bash ci/setup.sh`);
  const shell = lab.shell(node.name);
  const m = lab.machine(node.name);
  const backend = await resolveBackend(spec, shell);
  const [agent, bpf] = await Promise.all([m.place(agentBinary), backend === 'ebpf' ? m.place(bpfObject) : bpfObject]);
  const dir = agentDir(m.labDir, node.name);
  await shell.exec(['mkdir', '-p', '-m700', '--', dir]);
  const sock = agentSocket(lab, node.name);
  const log = `${join(dir, 'agent.log')}${m.where === 'this machine' ? '' : ` on ${m.where}`}`;
  const argv = [agent, '--socket', socketPath(m.labDir, node.name), '--state', dir, '--backend', backend, '--mark', lab.mark, '--bpf-object', bpf, ...spec.lan.flatMap((i) => ['--lan-if', i])];
  const proc = shell.spawn(argv, { logFile: join(dir, 'agent.log') });
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (signal?.aborted) throw new Interrupted('interrupted while starting translator agents');
    const exited = await Promise.race([proc.exited.then((c) => ({ c })), new Promise<undefined>((r) => setTimeout(() => r(undefined), 20))]);
    if (exited) throw new TranslatorError(`translator agent on ${node.name} exited (${exited.c}) while starting; see ${log}`);
    if (await ask(sock, ['health'], 1000).then(() => true, () => false)) break;
    if (Date.now() > deadline) throw new ReadinessTimeout(`translator agent on ${node.name} did not answer within 10 s; see ${log}`);
  }
  await ask(sock, applyLines(spec));
  return { node: node.name, backend, pid: proc.pid, socket: sock.where };
}
