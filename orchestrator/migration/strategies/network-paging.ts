// Network paging at run time: the watcher on the destination hypervisor waits for the
// workload's first RARP or gratuitous ARP and switches every client-side translator at once,
// over their sockets.
import type { LabHandle } from '../../lab/handle.js';
import { realtimeNowMs } from '../../probe/clock.js';
import { paperReferences } from '../../report/references.js';
import { nodeByName, type Topology, type WorkloadSpec } from '../../topology/model.js';
import { workloadPort } from '../../topology/workloads.js';
import { agentSocket, ask } from '../../translator/agent.js';
import type { AddressStrategy, Armed, ArmOptions, MovePlan, NetworkChange } from '../strategy-types.js';
import { gatewaysAt, pagingPlan, type PageSwitch } from './paging-plan.js';
import { settle, startWatcher } from './watcher.js';

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
      const r = await ask(agentSocket(lab, s.router), [s.line]);
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
  readonly references = paperReferences;
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
    const switches = plan.map((s) => ({ socket: agentSocket(lab, s.router), line: s.line, node: s.router, action: SWITCH, detail: s.line }));
    const watch = await startWatcher(lab, { hv: p.to, iface, mac, address, announce: o.announce, dir: o.dir, switches });
    return {
      settled: (timeoutMs) => settle(watch, { timeoutMs, events: o.events, kind: 'translator-switched', fallback: () => switchAll(lab, plan) }),
      disarm: () => watch.stop(),
    };
  }
}
