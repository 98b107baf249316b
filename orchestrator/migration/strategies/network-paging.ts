// Network paging at run time: a watcher agent (agents/watcher, the paper's "RARP capture and
// configuration tool") waits on the destination hypervisor for the workload's first RARP or
// gratuitous ARP and switches every client-side translator at once, over their sockets.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LabError } from '../../errors.js';
import type { LabHandle } from '../../lab/handle.js';
import { packageRoot } from '../../paths.js';
import { realtimeNowMs } from '../../probe/clock.js';
import type { EventLog } from '../../probe/timeline.js';
import type { BackgroundProcess } from '../../shell/shell.js';
import { nodeByName, type Topology, type WorkloadSpec } from '../../topology/model.js';
import { workloadPort } from '../../topology/workloads.js';
import { ask, socketPath } from '../../translator/agent.js';
import type { AddressStrategy, Armed, ArmOptions, MovePlan, NetworkChange, SwitchOutcome } from '../strategy-types.js';
import { gatewaysAt, pagingPlan, type PageSwitch } from './paging-plan.js';

/** What network paging acts on: the translator switches, and the gateways primed before the move. */
export interface PagingData {
  switches: PageSwitch[];
  gateways: { router: string; iface: string }[];
  /** The destination hypervisor's port where the workload's announcement shows. */
  iface: string;
  address: string;
  mac: string;
}

export const watcherBinary = join(packageRoot, 'agents', 'build', 'wl-watch');

const SWITCH = 'switch-page';

function switched(router: string, line: string, atMs: number, kernelUs?: number): NetworkChange {
  return { node: router, action: SWITCH, detail: line, atMs, ...(kernelUs !== undefined ? { kernelUs } : {}) };
}

async function switchAll(lab: LabHandle, plan: PageSwitch[]): Promise<NetworkChange[]> {
  return Promise.all(
    plan.map(async (s) => {
      const r = await ask(socketPath(lab.path, s.router), [s.line]);
      return switched(s.router, s.line, realtimeNowMs(), r.kernel_us as number);
    }),
  );
}

interface WatchEvent {
  event: string;
  [k: string]: any;
}

function readEvents(path: string): WatchEvent[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as WatchEvent);
}

/** With no traffic to the workload there is no first packet: do not wait long for one. */
const FIRST_PACKET_WAIT_MS = 500;

/** A watcher never outlives a migration by much, whatever happens to warplab. */
const WATCH_LIMIT_S = 600;

const nsToMs = (ns: number | string) => Number(BigInt(ns) / 1000n) / 1000;

/**
 * The destination's gateways learn the workload's MAC before it arrives (warplab knows it;
 * RARP teaches no ARP cache). Otherwise the first packet on the new path waits for an ARP
 * exchange with a guest that has just resumed (measured: 3–10 ms under TCG). The entry
 * ages out as usual (nud reachable).
 */
async function primeGateways(lab: LabHandle, d: PagingData): Promise<void> {
  await Promise.all(d.gateways.map((g) => lab.shell(g.router).exec(['ip', 'neigh', 'replace', d.address, 'lladdr', d.mac, 'dev', g.iface, 'nud', 'reachable'])));
}

export class NetworkPaging implements AddressStrategy<undefined, PagingData> {
  readonly name = 'network-paging';
  readonly summary = 'ICOIN 2011: a watcher on the destination catches the first RARP/gratuitous ARP and switches the page on every client-side edge translator';

  settings(): undefined {
    return undefined;
  }

  plan(t: Topology, w: WorkloadSpec, from: string, to: string): MovePlan<PagingData> {
    const switches = pagingPlan(t, w, to);
    const gateways = gatewaysAt(t, w, to);
    const address = w.ipv4.split('/')[0]!;
    return {
      strategy: this.name,
      workload: w.name,
      from,
      to,
      trigger: 'announcement',
      changes: [
        ...gateways.map((g) => ({ node: g.router, action: 'neigh', detail: `${address} lladdr ${w.mac} dev ${g.iface}`, when: 'arm' as const })),
        ...switches.map((s) => ({ node: s.router, action: SWITCH, detail: s.line })),
      ],
      data: { switches, gateways, iface: workloadPort(nodeByName(t, to)!, w)!, address, mac: w.mac },
    };
  }

  async place(lab: LabHandle, w: WorkloadSpec, hv: string): Promise<NetworkChange[]> {
    return switchAll(lab, pagingPlan(lab.topology, w, hv));
  }

  async arm(lab: LabHandle, p: MovePlan<PagingData>, o: ArmOptions): Promise<Armed> {
    if (!existsSync(watcherBinary)) throw new LabError(`${watcherBinary} is not built; run bash ci/setup.sh`);
    const { switches: plan, iface, address, mac } = p.data;
    const to = p.to;
    await primeGateways(lab, p.data);
    const out = join(o.dir, `watch-${to}-${Date.now()}.jsonl`);
    // One kind only: on a LAN shared with the source, the source's ARP replies would look
    // like a gratuitous ARP. Real-time priority keeps the switch sub-millisecond under load.
    const argv = [watcherBinary, '--iface', iface, '--mac', mac, '--kinds', o.announce, '--rt-prio', '10', '--timeout-s', String(WATCH_LIMIT_S), '--first-to', address, '--first-timeout-ms', String(FIRST_PACKET_WAIT_MS), ...plan.flatMap((s) => ['--switch', socketPath(lab.path, s.router), s.line])];
    const proc = lab.shell(to).spawn(argv, { logFile: out });
    await this.ready(proc, out, to);
    return {
      settled: (timeoutMs) => this.settled(lab, plan, proc, out, to, timeoutMs, o.events),
      disarm: async () => {
        proc.kill('SIGTERM');
        await Promise.race([proc.exited, sleep(2000)]);
      },
    };
  }

  private async ready(proc: BackgroundProcess, out: string, hv: string): Promise<void> {
    let code: number | null | undefined;
    void proc.exited.then((c) => (code = c ?? -1));
    for (const deadline = Date.now() + 5000; Date.now() < deadline; await sleep(5)) {
      if (readEvents(out).some((e) => e.event === 'ready')) return;
      if (code !== undefined) throw new LabError(`the watcher on ${hv} exited (${code}) before it was ready: ${readFileSync(out, 'utf8').trim()}`);
    }
    proc.kill('SIGKILL');
    throw new LabError(`the watcher on ${hv} was not ready within 5 s; see ${out}`);
  }

  /** The watcher's first-packet report, as soon as it is written (or its short wait ran out). */
  private async firstPacket(out: string, proc: BackgroundProcess): Promise<number | undefined> {
    let exited = false;
    void proc.exited.then(() => (exited = true));
    for (const deadline = Date.now() + FIRST_PACKET_WAIT_MS + 500; Date.now() < deadline && !exited; await sleep(2)) {
      const e = readEvents(out).find((x) => x.event === 'first-packet' || x.event === 'first-packet-timeout');
      if (e) return e.event === 'first-packet' ? nsToMs(e.at_ns) : undefined;
    }
    const e = readEvents(out).find((x) => x.event === 'first-packet');
    return e ? nsToMs(e.at_ns) : undefined;
  }

  private async settled(lab: LabHandle, plan: PageSwitch[], proc: BackgroundProcess, out: string, hv: string, timeoutMs: number, events: EventLog): Promise<SwitchOutcome> {
    let code: number | null | undefined;
    void proc.exited.then((c) => (code = c ?? -1));
    let problem = `the watcher on ${hv} saw no complete switch within ${timeoutMs} ms after the move`;
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(2)) {
      const evs = readEvents(out);
      const announce = evs.find((e) => e.event === 'announce');
      const done = evs.filter((e) => e.event === 'switched' || e.event === 'switch-failed');
      if (announce && done.length === plan.length) {
        const at = nsToMs(announce.at_ns);
        events.add({ atMs: at, kind: announce.kind === 'rarp' ? 'rarp-seen' : 'arp-seen', source: `watcher@${hv}`, detail: `${announce.kind} from ${announce.mac}` });
        const failed = done.filter((e) => e.event === 'switch-failed');
        const changes = done.filter((e) => e.event === 'switched').map((e) => {
          const router = plan.find((s) => socketPath(lab.path, s.router) === e.socket)!.router;
          events.add({ atMs: nsToMs(e.done_ns), kind: 'translator-switched', source: router, detail: e.line });
          return switched(router, e.line, nsToMs(e.done_ns), e.reply?.kernel_us);
        });
        if (!failed.length) {
          const first = await this.firstPacket(out, proc);
          if (first) events.add({ atMs: first, kind: 'first-packet-new-path', source: `watcher@${hv}`, detail: `first packet to ${plan[0]?.line.split(' ')[1] ?? 'the workload'} after the ${announce.kind}` });
          return { by: 'watcher', announce: { kind: announce.kind, atMs: at }, changes, ...(first ? { firstPacketMs: first } : {}) };
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
    const seen = readEvents(out).filter((e) => e.event !== 'ready').map((e) => e.event);
    problem += ` (watcher events after ready: ${seen.length ? seen.join(', ') : 'none'}; ${out})`;
    // Fallback: warplab switches itself, so translators never stay half-switched.
    const changes = await switchAll(lab, plan);
    for (const c of changes) events.add({ atMs: c.atMs, kind: 'translator-switched', source: c.node, detail: `${c.detail} (fallback by warplab)` });
    return { by: 'fallback', changes, problem };
  }
}
