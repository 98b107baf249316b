// The watcher agent (agents/watcher, the paper's "RARP capture and configuration tool") on a
// destination hypervisor: it reports the workload's first announcement and the first packet
// to it on the new path, and may switch translators itself. Shared by the strategies.
import { createWriteStream, existsSync, readFileSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LabError } from '../../errors.js';
import type { LabHandle } from '../../lab/handle.js';
import type { MachineSocket } from '../../lab/machine.js';
import { packageRoot } from '../../paths.js';
import type { EventKind, EventLog } from '../../probe/timeline.js';
import type { BackgroundProcess } from '../../shell/shell.js';
import type { Announcement, NetworkChange, SwitchOutcome } from '../strategy-types.js';

export const watcherBinary = join(packageRoot, 'agents', 'build', 'wl-watch');

/** With no traffic to the workload there is no first packet: do not wait long for one. */
const FIRST_PACKET_WAIT_MS = 500;

/** A watcher never outlives a migration by much, whatever happens to warplab. */
const WATCH_LIMIT_S = 600;

export interface WatchEvent {
  event: string;
  [k: string]: any;
}

const nsToMs = (ns: number | string) => Number(BigInt(ns) / 1000n) / 1000;

export interface Watch {
  proc: BackgroundProcess;
  /** Its JSON lines (on this machine: its output streams here, wherever it runs). */
  out: string;
  hv: string;
  /** Its switches, each with the socket path it was given (the events name it). */
  switches: { sw: WatchedSwitch; path: string }[];
  /** One of its timestamps (ns on its machine's clock) in ms on the orchestrator's clock. */
  toMs(ns: number | string): number;
  events(): WatchEvent[];
  /** The first-packet report, as soon as it is written (or its short wait ran out). */
  firstPacket(): Promise<number | undefined>;
  stop(): Promise<void>;
}

export interface WatchSpec {
  hv: string;
  iface: string;
  mac: string;
  address: string;
  announce: Announcement;
  /** Where the JSON lines go (the workload's folder). */
  dir: string;
  /** What the watcher switches itself on the announcement (`--switch SOCKET LINE`). */
  switches?: WatchedSwitch[];
}

/** A request the watcher sends on the announcement, and the network change it stands for. */
export interface WatchedSwitch {
  /** Wherever it is: on another machine than the watcher's, it is reached through a relay. */
  socket: MachineSocket;
  line: string;
  node: string;
  action: string;
  detail: string;
}

function readEvents(path: string): WatchEvent[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as WatchEvent);
}

async function opened(path: string): Promise<WriteStream> {
  const f = createWriteStream(path);
  await once(f, 'open');
  return f;
}

/** Starts a watcher on the hypervisor's machine and waits until it listens. */
export async function startWatcher(lab: LabHandle, w: WatchSpec): Promise<Watch> {
  if (!existsSync(watcherBinary)) throw new LabError(`${watcherBinary} is not built; run bash ci/setup.sh`);
  const machine = lab.machine(w.hv);
  const stamp = Date.now();
  const out = join(w.dir, `watch-${w.hv}-${stamp}.jsonl`);
  const binary = await machine.place(watcherBinary);
  const relays = await Promise.allSettled((w.switches ?? []).map((sw, i) => sw.socket.reachedFrom(machine, join(machine.labDir, `relay-${w.hv}-${stamp}-${i}.sock`))));
  const reached = relays.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  let unrelayed: Promise<void> | undefined;
  const unrelay = () => (unrelayed ??= Promise.all(reached.map((r) => r.close())).then(() => {}));
  const failed = relays.find((r) => r.status === 'rejected');
  if (failed) {
    await unrelay();
    throw failed.reason;
  }
  const switches = (w.switches ?? []).map((sw, i) => ({ sw, path: reached[i]!.path }));
  // One kind only: on a LAN shared with the source, the source's ARP replies would look
  // like a gratuitous ARP. Real-time priority keeps the switch sub-millisecond under load.
  const argv = [binary, '--iface', w.iface, '--mac', w.mac, '--kinds', w.announce, '--rt-prio', '10', '--timeout-s', String(WATCH_LIMIT_S), '--first-to', w.address, '--first-timeout-ms', String(FIRST_PACKET_WAIT_MS), ...switches.flatMap((x) => ['--switch', x.path, x.sw.line])];
  // Its output streams here, so its events are read here whichever machine it runs on.
  const proc = lab.shell(w.hv).spawn(argv, { stdout: await opened(out), stderr: await opened(`${out}.stderr`) });
  let code: number | null | undefined;
  void proc.exited.then((c) => (code = c ?? -1));
  void proc.exited.then(unrelay, unrelay);
  const watch: Watch = {
    proc,
    out,
    hv: w.hv,
    switches,
    toMs: (ns) => lab.onOrchestratorClock(w.hv, nsToMs(ns)),
    events: () => readEvents(out),
    async firstPacket() {
      for (const deadline = Date.now() + FIRST_PACKET_WAIT_MS + 500; Date.now() < deadline && code === undefined; await sleep(2)) {
        const e = readEvents(out).find((x) => x.event === 'first-packet' || x.event === 'first-packet-timeout');
        if (e) return e.event === 'first-packet' ? watch.toMs(e.at_ns) : undefined;
      }
      const e = readEvents(out).find((x) => x.event === 'first-packet');
      return e ? watch.toMs(e.at_ns) : undefined;
    },
    async stop() {
      proc.kill('SIGTERM');
      await Promise.race([proc.exited, sleep(2000)]);
      await unrelay();
    },
  };
  const said = () => `${readFileSync(out, 'utf8')}${readFileSync(`${out}.stderr`, 'utf8')}`.trim();
  for (const deadline = Date.now() + 5000; Date.now() < deadline; await sleep(5)) {
    if (watch.events().some((e) => e.event === 'ready')) return watch;
    if (code !== undefined) throw new LabError(`the watcher on ${w.hv} exited (${code}) before it was ready: ${said()}`);
  }
  proc.kill('SIGKILL');
  throw new LabError(`the watcher on ${w.hv} was not ready within 5 s; see ${out}`);
}

export interface Settle {
  timeoutMs: number;
  events: EventLog;
  /** How the changes show on the timeline. */
  kind: EventKind;
  /** warplab makes the changes itself when the watcher did not, so the network never stays half-switched. */
  fallback(): Promise<NetworkChange[]>;
}

/** Announcement and first packet, as the watcher saw them, onto the timeline. */
async function observed(watch: Watch, events: EventLog): Promise<Pick<SwitchOutcome, 'announce' | 'firstPacketMs'>> {
  const a = watch.events().find((e) => e.event === 'announce');
  if (!a) return {};
  const at = watch.toMs(a.at_ns);
  events.add({ atMs: at, kind: a.kind === 'rarp' ? 'rarp-seen' : 'arp-seen', source: `watcher@${watch.hv}`, detail: `${a.kind} from ${a.mac}` });
  const first = await watch.firstPacket();
  if (first) events.add({ atMs: first, kind: 'first-packet-new-path', source: `watcher@${watch.hv}`, detail: `first packet to the workload after the ${a.kind}` });
  return { announce: { kind: a.kind, atMs: at }, ...(first ? { firstPacketMs: first } : {}) };
}

/** After the move: the watcher's switches on the announcement, or the fallback, with the reason. */
export async function settle(watch: Watch, o: Settle): Promise<SwitchOutcome> {
  const { proc, out, hv } = watch;
  let code: number | null | undefined;
  void proc.exited.then((c) => (code = c ?? -1));
  let problem = `the watcher on ${hv} saw no complete switch within ${o.timeoutMs} ms after the move`;
  for (const deadline = Date.now() + o.timeoutMs; Date.now() < deadline; await sleep(2)) {
    const evs = watch.events();
    const announce = evs.find((e) => e.event === 'announce');
    const done = evs.filter((e) => e.event === 'switched' || e.event === 'switch-failed');
    if (announce && done.length === watch.switches.length) {
      const failed = done.filter((e) => e.event === 'switch-failed');
      if (!failed.length) {
        const changes = done.map((e): NetworkChange => {
          const { sw } = watch.switches.find((x) => x.path === e.socket)!;
          return { node: sw.node, action: sw.action, detail: sw.detail, atMs: watch.toMs(e.done_ns), ...(e.reply?.kernel_us !== undefined ? { kernelUs: e.reply.kernel_us } : {}) };
        });
        for (const c of changes) o.events.add({ atMs: c.atMs, kind: o.kind, source: c.node, detail: c.detail });
        return { by: 'watcher', changes, ...(await observed(watch, o.events)) };
      }
      problem = `the watcher on ${hv} could not switch: ${failed.map((e) => `${e.socket}: ${e.error}`).join('; ')}`;
      break;
    }
    if (code !== undefined && !announce) {
      problem = `the watcher on ${hv} was gone (exit ${code}) when the workload resumed`;
      break;
    }
  }
  proc.kill('SIGTERM');
  const seen = watch.events().filter((e) => e.event !== 'ready').map((e) => e.event);
  problem += ` (watcher events after ready: ${seen.length ? seen.join(', ') : 'none'}; ${out})`;
  const changes = await o.fallback();
  for (const c of changes) o.events.add({ atMs: c.atMs, kind: o.kind, source: c.node, detail: `${c.detail} (fallback by warplab)` });
  return { by: 'fallback', changes, problem };
}

/** Changes warplab made itself (its own trigger), with what the watcher saw of the move. */
export async function madeByOrchestrator(watch: Watch, changes: NetworkChange[], events: EventLog, kind: EventKind): Promise<SwitchOutcome> {
  for (const c of changes) events.add({ atMs: c.atMs, kind, source: c.node, detail: c.detail });
  const seen = await observed(watch, events);
  await watch.stop();
  return { by: 'orchestrator', changes, ...seen };
}
