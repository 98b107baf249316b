// FRR nodes as a lab extension: Debian's FRR daemons in each frr node's namespace, in the
// foreground and spawned through the node's Shell, so that the lab records them and `down`
// ends them (as BIRD for routing-update). Their sockets, pid files, logs and a copy of the
// configuration live under the lab directory; what FRR still makes in /var/run/frr is
// recorded there and removed by stop().
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LabError } from '../errors.js';
import type { LabExtension } from '../lab/extension.js';
import type { LabHandle } from '../lab/handle.js';
import type { ExecResult } from '../shell/shell.js';
import type { NodeSpec } from '../topology/model.js';

const FRR_LIB = '/usr/lib/frr';
/** Each daemon makes /var/run/frr/NAME for its -N name even when every path is given. */
const FRR_RUN = '/var/run/frr';
/** ospfd's graceful-restart state, one file for every ospfd on the machine. */
const OSPF_GR = join(FRR_RUN, 'ospfd-gr.json');
/** From spawn to the daemon's vty socket: ~0.1 s measured; a loaded CI machine gets more. */
const READY_MS = 15_000;

export interface FrrFiles {
  dir: string;
  /** The -N name: lab-unique, as /var/run/frr is the machine's. */
  name: string;
  conf: string;
}

export function frrFiles(labPath: string, lab: string, node: string): FrrFiles {
  const dir = join(labPath, 'frr', node);
  return { dir, name: `wl-${lab}-${node}`, conf: join(dir, 'frr.conf') };
}

/** What FRR made outside the lab directory, for stop(). */
const madeFile = (labPath: string) => join(labPath, 'frr', 'made.json');

/**
 * One daemon's command line. No -d: the recorded process is the daemon itself. -u root -g
 * frrvty: the lab directory is root's alone, so the frr user could not reach its sockets
 * there; the vty group passes FRR's check that the user may serve vty sockets.
 */
export function daemonArgv(f: FrrFiles, daemon: string): string[] {
  return [
    join(FRR_LIB, daemon), '-N', f.name, '-P', '0', '-u', 'root', '-g', 'frrvty',
    '-z', join(f.dir, 'zserv.api'), '--vty_socket', f.dir, '-i', join(f.dir, `${daemon}.pid`),
    '-f', f.conf, '--log', 'stdout',
    ...(daemon === 'bfdd' ? ['--bfdctl', join(f.dir, 'bfdd.sock')] : []),
  ];
}

const frrNodes = (nodes: NodeSpec[]) => nodes.filter((n) => n.frr);

/** `vtysh` against the node's daemons, one -c per command. */
export function vtysh(lab: LabHandle, node: string, commands: string[], check = true): Promise<ExecResult> {
  const f = frrFiles(lab.path, lab.name, node);
  return lab.shell(node).exec(['vtysh', '--vty_socket', f.dir, ...commands.flatMap((c) => ['-c', c])], { check });
}

/** Resolves when `path` exists; rejects when the daemon exits first or the time is up. */
async function ready(path: string, exited: Promise<number | null>, what: string, log: string): Promise<void> {
  let code: number | null | undefined;
  void exited.then((c) => (code = c));
  for (const deadline = Date.now() + READY_MS; Date.now() < deadline; await sleep(20)) {
    if (existsSync(path)) return;
    if (code !== undefined) break;
  }
  const tail = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').slice(-5).join('\n    ') : '';
  throw new LabError(`${what} ${code !== undefined ? `exited (${code ?? 'signal'})` : `has no vty socket after ${READY_MS / 1000} s`}; see ${log}${tail ? `\n    ${tail}` : ''}`);
}

async function startNode(lab: LabHandle, n: NodeSpec): Promise<void> {
  const f = frrFiles(lab.path, lab.name, n.name);
  mkdirSync(f.dir, { recursive: true });
  writeFileSync(f.conf, readFileSync(n.frr!.config));
  // zebra first: the others connect to its zserv socket as they start.
  for (const daemon of n.frr!.daemons) {
    const log = join(f.dir, `${daemon}.log`);
    const p = lab.shell(n.name).spawn(daemonArgv(f, daemon), { logFile: log });
    await ready(join(f.dir, daemon === 'zebra' ? 'zserv.api' : `${daemon}.vty`), p.exited, `${daemon} on ${n.name}`, log);
  }
}

export const frrExtension: LabExtension = {
  name: 'frr',
  wanted: (t) => frrNodes(t.nodes).length > 0,
  async missing(t) {
    const absent = [...new Set(frrNodes(t.nodes).flatMap((n) => n.frr!.daemons))].filter((d) => !existsSync(join(FRR_LIB, d)));
    return absent.length ? [`FRR is missing (${absent.map((d) => join(FRR_LIB, d)).join(', ')}), needed by the frr nodes: apt-get install frr (or run bash ci/setup.sh)`] : [];
  },
  async start(lab, ctx) {
    const nodes = frrNodes(lab.topology.nodes);
    mkdirSync(join(lab.path, 'frr'), { recursive: true });
    mkdirSync(FRR_RUN, { recursive: true });
    // Recorded before any daemon starts, so that a failed up removes them too.
    const ospf = nodes.some((n) => n.frr!.daemons.includes('ospfd')) && !existsSync(OSPF_GR);
    writeFileSync(madeFile(lab.path), JSON.stringify([...nodes.map((n) => join(FRR_RUN, frrFiles(lab.path, lab.name, n.name).name)), ...(ospf ? [OSPF_GR] : [])]));
    let done = 0;
    ctx.onProgress?.({ stage: 'FRR daemons', done, total: nodes.length });
    await Promise.all(
      nodes.map(async (n) => {
        await startNode(lab, n);
        ctx.onProgress?.({ stage: 'FRR daemons', done: ++done, total: nodes.length });
      }),
    );
  },
  // The daemons are recorded lab processes (down ends them); their run directories are not.
  async stop(labPath) {
    if (!existsSync(madeFile(labPath))) return [];
    const made = (JSON.parse(readFileSync(madeFile(labPath), 'utf8')) as string[]).filter((p) => existsSync(p));
    for (const p of made) rmSync(p, { recursive: true, force: true });
    rmSync(madeFile(labPath));
    return made.map((p) => `FRR's ${p}`);
  },
};
