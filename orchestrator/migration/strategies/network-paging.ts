// Network paging at run time: the watcher on the destination hypervisor waits for the
// workload's first RARP or gratuitous ARP and switches every client-side translator at once,
// over their sockets.
import { setTimeout as sleep } from 'node:timers/promises';
import type { LabHandle } from '../../lab/handle.js';
import { realtimeNowMs } from '../../probe/clock.js';
import type { EventLog } from '../../probe/timeline.js';
import { nodeByName, type Topology, type WorkloadSpec } from '../../topology/model.js';
import { workloadPort } from '../../topology/workloads.js';
import { ask, socketPath } from '../../translator/agent.js';
import type { AddressStrategy, Armed, ArmOptions, MovePlan, NetworkChange, SwitchOutcome } from '../strategy-types.js';
import { gatewaysAt, pagingPlan, type PageSwitch } from './paging-plan.js';
import { nsToMs, startWatcher, type Watch } from './watcher.js';

/** What network paging acts on: the translator switches, and the gateways primed before the move. */
export interface PagingData {
  switches: PageSwitch[];
  gateways: { router: string; iface: string }[];
  /** The destination hypervisor's port where the workload's announcement shows. */
  iface: string;
  address: string;
  mac: string;
}

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
      port: workloadPort(nodeByName(t, to)!, w)!,
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
    const { switches: plan, iface, address, mac } = p.data;
    await primeGateways(lab, p.data);
    const watch = await startWatcher(lab, { hv: p.to, iface, mac, address, announce: o.announce, dir: o.dir, switches: plan.map((s) => ({ socket: socketPath(lab.path, s.router), line: s.line })) });
    return {
      settled: (timeoutMs) => this.settled(lab, plan, watch, timeoutMs, o.events),
      disarm: () => watch.stop(),
    };
  }

  private async settled(lab: LabHandle, plan: PageSwitch[], watch: Watch, timeoutMs: number, events: EventLog): Promise<SwitchOutcome> {
    const { proc, out, hv } = watch;
    let code: number | null | undefined;
    void proc.exited.then((c) => (code = c ?? -1));
    let problem = `the watcher on ${hv} saw no complete switch within ${timeoutMs} ms after the move`;
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(2)) {
      const evs = watch.events();
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
          const first = await watch.firstPacket();
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
    const seen = watch.events().filter((e) => e.event !== 'ready').map((e) => e.event);
    problem += ` (watcher events after ready: ${seen.length ? seen.join(', ') : 'none'}; ${out})`;
    // Fallback: warplab switches itself, so translators never stay half-switched.
    const changes = await switchAll(lab, plan);
    for (const c of changes) events.add({ atMs: c.atMs, kind: 'translator-switched', source: c.node, detail: `${c.detail} (fallback by warplab)` });
    return { by: 'fallback', changes, problem };
  }
}
