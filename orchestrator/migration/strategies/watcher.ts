// The watcher agent (agents/watcher, the paper's "RARP capture and configuration tool") on a
// destination hypervisor: it reports the workload's first announcement and the first packet
// to it on the new path, and may switch translators itself. Shared by the strategies.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LabError } from '../../errors.js';
import type { LabHandle } from '../../lab/handle.js';
import { packageRoot } from '../../paths.js';
import type { BackgroundProcess } from '../../shell/shell.js';
import type { Announcement } from '../strategy-types.js';

export const watcherBinary = join(packageRoot, 'agents', 'build', 'wl-watch');

/** With no traffic to the workload there is no first packet: do not wait long for one. */
const FIRST_PACKET_WAIT_MS = 500;

/** A watcher never outlives a migration by much, whatever happens to warplab. */
const WATCH_LIMIT_S = 600;

export interface WatchEvent {
  event: string;
  [k: string]: any;
}

export const nsToMs = (ns: number | string) => Number(BigInt(ns) / 1000n) / 1000;

export interface Watch {
  proc: BackgroundProcess;
  /** Its JSON lines. */
  out: string;
  hv: string;
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
  /** `--switch SOCKET LINE` pairs: the watcher switches these translators itself. */
  switches?: { socket: string; line: string }[];
}

function readEvents(path: string): WatchEvent[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as WatchEvent);
}

/** Starts a watcher and waits until it listens. */
export async function startWatcher(lab: LabHandle, w: WatchSpec): Promise<Watch> {
  if (!existsSync(watcherBinary)) throw new LabError(`${watcherBinary} is not built; run bash ci/setup.sh`);
  const out = join(w.dir, `watch-${w.hv}-${Date.now()}.jsonl`);
  // One kind only: on a LAN shared with the source, the source's ARP replies would look
  // like a gratuitous ARP. Real-time priority keeps the switch sub-millisecond under load.
  const argv = [watcherBinary, '--iface', w.iface, '--mac', w.mac, '--kinds', w.announce, '--rt-prio', '10', '--timeout-s', String(WATCH_LIMIT_S), '--first-to', w.address, '--first-timeout-ms', String(FIRST_PACKET_WAIT_MS), ...(w.switches ?? []).flatMap((s) => ['--switch', s.socket, s.line])];
  const proc = lab.shell(w.hv).spawn(argv, { logFile: out });
  let code: number | null | undefined;
  void proc.exited.then((c) => (code = c ?? -1));
  const watch: Watch = {
    proc,
    out,
    hv: w.hv,
    events: () => readEvents(out),
    async firstPacket() {
      for (const deadline = Date.now() + FIRST_PACKET_WAIT_MS + 500; Date.now() < deadline && code === undefined; await sleep(2)) {
        const e = readEvents(out).find((x) => x.event === 'first-packet' || x.event === 'first-packet-timeout');
        if (e) return e.event === 'first-packet' ? nsToMs(e.at_ns) : undefined;
      }
      const e = readEvents(out).find((x) => x.event === 'first-packet');
      return e ? nsToMs(e.at_ns) : undefined;
    },
    async stop() {
      proc.kill('SIGTERM');
      await Promise.race([proc.exited, sleep(2000)]);
    },
  };
  for (const deadline = Date.now() + 5000; Date.now() < deadline; await sleep(5)) {
    if (watch.events().some((e) => e.event === 'ready')) return watch;
    if (code !== undefined) throw new LabError(`the watcher on ${w.hv} exited (${code}) before it was ready: ${readFileSync(out, 'utf8').trim()}`);
  }
  proc.kill('SIGKILL');
  throw new LabError(`the watcher on ${w.hv} was not ready within 5 s; see ${out}`);
}
