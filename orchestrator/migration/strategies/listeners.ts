// A node's part of a move, prepared before the move and carried out on one `go`: a listener
// in the node (socat on a Unix socket in the lab directory, real-time priority like the
// watcher's) runs prepared commands, so the trigger costs a write instead of a process start
// in the namespace. The watcher holds the connections and writes `go` on the announcement;
// warplab writes it itself on its own trigger or as the fallback.
import { setTimeout as sleep } from 'node:timers/promises';
import { LabError } from '../../errors.js';
import type { LabHandle } from '../../lab/handle.js';
import { MachineSocket, workloadDir } from '../../lab/machine.js';
import { realtimeNowMs } from '../../probe/clock.js';
import type { BackgroundProcess } from '../../shell/shell.js';
import { ask } from '../../translator/agent.js';
import type { NetworkChange } from '../strategy-types.js';
import type { WatchedSwitch } from './watcher.js';

/** What one node does on `go`. Commands are shell lines; `files` are written beside them first. */
export interface NodeAction {
  node: string;
  /** What it changes, for the reports. */
  detail: string;
  files?: Record<string, string>;
  /** Until the node forwards the new way: the answer waits for these. */
  commands: string[];
  /** After the answer (announcements that need not hold the trigger up). */
  after?: string[];
}

/** What a node's machine needs to run a listener. */
export const LISTENER_COMMANDS = [
  { command: 'socat', install: 'apt-get install socat' },
  { command: 'chrt', install: 'apt-get install util-linux' },
];

export interface Listener {
  node: string;
  /** On the node's machine. */
  socket: MachineSocket;
  detail: string;
  proc: BackgroundProcess;
}

/** Until a listener accepts a connection (one without `go` changes nothing). */
async function accepting(l: Listener, log: string): Promise<void> {
  let exited = false;
  void l.proc.exited.then(() => (exited = true));
  for (const deadline = Date.now() + 5000; ; await sleep(5)) {
    const c = await l.socket.connect().catch(() => undefined);
    if (c) return void c.destroy();
    if (exited || Date.now() > deadline) throw new LabError(`the listener on ${l.node} did not start; see ${log}`);
  }
}

/**
 * Starts one listener per action, its files in `workload`'s folder on the node's machine;
 * `{files}` in commands refers to the action's `files` there.
 */
export async function startListeners(lab: LabHandle, workload: string, prefix: string, actions: NodeAction[]): Promise<Listener[]> {
  const stamp = Date.now();
  const started: Listener[] = [];
  try {
    for (const a of actions) {
      const machine = lab.machine(a.node);
      const base = `${workloadDir(machine, workload)}/${prefix}-${a.node}-${stamp}`;
      for (const [name, content] of Object.entries(a.files ?? {})) await machine.write(`${base}.${name}`, content);
      const sub = (c: string) => c.replaceAll('{files}', base);
      // Only a `go` line acts: a connection closed without one (a disarmed watcher) changes nothing.
      await machine.write(
        `${base}.sh`,
        [
          'read l && [ "$l" = go ] || exit 0',
          // Braces: the log takes every command's output, not only the last one's (the answer is the only line on the socket).
          `if { ${[...a.commands.map(sub), 'true'].join(' && ')}; } >>${base}.log 2>&1; then echo '{"ok":true}'; else echo '{"ok":false,"error":"see ${base}.log"}'; fi`,
          ...(a.after ?? []).map((c) => `${sub(c)} >>${base}.log 2>&1`),
          '',
        ].join('\n'),
      );
      const socket = new MachineSocket(machine, `${base}.sock`);
      // The script is a file: socat's address syntax would split an inline one at commas and colons.
      const proc = lab.shell(a.node).spawn(['chrt', '-f', '10', 'socat', `UNIX-LISTEN:${socket.path},fork,unlink-early,mode=600`, `SYSTEM:sh ${base}.sh`], { logFile: `${base}.log` });
      const l: Listener = { node: a.node, socket, detail: a.detail, proc };
      started.push(l);
      await accepting(l, `${base}.log${machine.where === 'this machine' ? '' : ` on ${machine.where}`}`);
    }
  } catch (e) {
    stopListeners(started);
    throw e;
  }
  return started;
}

export function stopListeners(ls: Listener[]): void {
  for (const l of ls) l.proc.kill('SIGTERM');
}

/** What the watcher sends on the announcement: `go` to each listener. */
export function watchedGo(ls: Listener[], action: string): WatchedSwitch[] {
  return ls.map((l) => ({ socket: l.socket, line: 'go', node: l.node, action, detail: l.detail }));
}

/** warplab's own `go` to every listener, at once. */
export async function goAll(ls: Listener[], action: string): Promise<NetworkChange[]> {
  return Promise.all(
    ls.map(async (l) => {
      await ask(l.socket, ['go'], 5000, `listener on ${l.node}`);
      return { node: l.node, action, detail: l.detail, atMs: realtimeNowMs() };
    }),
  );
}
