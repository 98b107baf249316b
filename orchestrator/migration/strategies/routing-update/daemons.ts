// The lab's part: one BIRD per router, in its namespace, started through the node's Shell so
// that the lab records it and `down` kills it (its files live in the lab directory, its
// routes in the namespace): nothing is left for stop() to do.
import { setTimeout as sleep } from 'node:timers/promises';
import { LabError } from '../../../errors.js';
import type { LabExtension } from '../../../lab/extension.js';
import type { LabHandle } from '../../../lab/handle.js';
import { LocalShell } from '../../../shell/local.js';
import { hasCommand, type ExecResult } from '../../../shell/shell.js';
import { settingsOf } from '../../../topology/model.js';
import { LISTENER_COMMANDS } from '../listeners.js';
import { birdConfigs, birdFiles } from './bird-config.js';
import { routersOf } from './peers.js';
import { NAME } from './plan.js';
import type { RoutingUpdateSettings } from './settings.js';

/** From start to every session Established: about 1.2 s measured with fast timers, BIRD's own connect delay is 5 s. */
const ESTABLISH_LIMIT_MS = { fast: 15_000, default: 60_000 };

/** `router`'s BIRD files, on its machine. */
export function birdFilesOf(lab: LabHandle, router: string): ReturnType<typeof birdFiles> {
  return birdFiles(lab.machine(router).labDir, router);
}

/** `birdc -s SOCKET ARGS…` on `router`. */
export function birdc(lab: LabHandle, router: string, args: string[], check = true): Promise<ExecResult> {
  return lab.shell(router).exec(['birdc', '-s', birdFilesOf(lab, router).socket, ...args], { check });
}

/** BGP protocols not Established, `name state info`, from `show protocols`. */
export function notEstablished(showProtocols: string): string[] {
  return showProtocols
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((c) => c[1] === 'BGP' && c[5] !== 'Established')
    .map((c) => [c[0], c[3], ...c.slice(5)].join(' '));
}

async function waitEstablished(lab: LabHandle, router: string, deadline: number, limitMs: number): Promise<void> {
  let last = 'no answer on its control socket';
  for (; Date.now() < deadline; await sleep(50)) {
    const r = await birdc(lab, router, ['show', 'protocols'], false);
    if (r.exitCode !== 0 || !/BGP/.test(r.stdout)) continue;
    const down = notEstablished(r.stdout);
    if (!down.length) return;
    last = down.join('; ');
  }
  const where = lab.machine(router).where;
  throw new LabError(`BGP on ${router} not Established within ${limitMs / 1000} s: ${last}; see ${birdFilesOf(lab, router).log}${where === 'this machine' ? '' : ` on ${where}`}`);
}

/** What each router's machine runs: BIRD and birdc, and a listener that holds its prepared announcement until the trigger. */
const ROUTER_COMMANDS = [
  { command: 'bird', install: 'apt-get install --no-install-recommends bird2 (or bash ci/setup.sh)' },
  { command: 'birdc', install: 'apt-get install --no-install-recommends bird2 (or bash ci/setup.sh)' },
  ...LISTENER_COMMANDS,
];

export const birdExtension: LabExtension = {
  name: NAME,
  wanted: (t) => settingsOf(t, NAME) !== undefined,
  // Through the routers' Shells and machines.
  spansHosts: true,
  async missing(t) {
    if (t.hosts) return []; // the routers' hosts are asked (needsOnNodes)
    const local = new LocalShell('host');
    const out: string[] = [];
    for (const c of ROUTER_COMMANDS) if (!(await hasCommand(local, c.command))) out.push(`${c.command} is missing (routing update's routers): ${c.install}`);
    return out;
  },
  needsOnNodes: (t) => routersOf(t).flatMap((r) => ROUTER_COMMANDS.map((c) => ({ node: r.name, ...c }))),
  async start(lab, ctx) {
    const s = settingsOf<RoutingUpdateSettings>(lab.topology, NAME);
    const placement = Object.fromEntries(lab.topology.workloads.map((w) => [w.name, lab.workload(w.name)?.on ?? w.on]));
    const configs = birdConfigs(lab.topology, s.timers, placement);
    ctx.onProgress?.({ stage: 'BGP sessions', done: 0, total: configs.size });
    for (const [router, conf] of configs) {
      const f = birdFilesOf(lab, router);
      await lab.machine(router).write(f.conf, conf);
      // -f: in the foreground, so the recorded process is BIRD itself.
      lab.shell(router).spawn(['bird', '-f', '-c', f.conf, '-s', f.socket, '-P', f.pid], { logFile: f.log });
    }
    const limitMs = ESTABLISH_LIMIT_MS[s.timers];
    const deadline = Date.now() + limitMs;
    let done = 0;
    await Promise.all(
      [...configs.keys()].map(async (router) => {
        await waitEstablished(lab, router, deadline, limitMs);
        ctx.onProgress?.({ stage: 'BGP sessions', done: ++done, total: configs.size });
      }),
    );
  },
  // BIRD runs in the routers' namespaces as a recorded process: `down` kills it and deletes them.
  stop: async () => [],
};
