// A move carried out by prepared node actions (listeners.ts) on one trigger: the watcher
// says `go` on the workload's announcement, or warplab does once the driver reports the move
// complete; either way the announcement and the first packet on the new path are reported.
import type { LabHandle } from '../../lab/handle.js';
import type { Armed, ArmOptions, MovePlan } from '../strategy-types.js';
import { goAll, startListeners, stopListeners, watchedGo, type NodeAction } from './listeners.js';
import { madeByOrchestrator, settle, startWatcher, type Watch } from './watcher.js';

export interface PreparedSwitch {
  /** Names the listeners' files in the workload's folder. */
  prefix: string;
  actions: NodeAction[];
  /** How the changes are named in the reports (default `apply`). */
  action?: string;
  /** The workload's MAC (its announcement) and address (its first packet). */
  mac: string;
  address: string;
}

export async function armPrepared(lab: LabHandle, p: MovePlan, o: ArmOptions, s: PreparedSwitch): Promise<Armed> {
  const listeners = await startListeners(lab, p.workload, s.prefix, s.actions);
  const stop = () => stopListeners(listeners);
  // On the announcement the watcher itself says `go`; otherwise it only reports what it saw.
  const action = s.action ?? 'apply';
  const switches = p.trigger === 'announcement' ? watchedGo(listeners, action) : [];
  let watch: Watch;
  try {
    watch = await startWatcher(lab, { hv: p.to, iface: p.port, mac: s.mac, address: s.address, announce: o.announce, dir: o.dir, switches });
  } catch (e) {
    stop();
    throw e;
  }
  return {
    async settled(timeoutMs) {
      try {
        if (p.trigger === 'orchestrator') return await madeByOrchestrator(watch, await goAll(listeners, action), o.events, 'network-changed');
        return await settle(watch, { timeoutMs, events: o.events, kind: 'network-changed', fallback: () => goAll(listeners, action) });
      } finally {
        stop();
      }
    },
    async disarm() {
      stop();
      await watch.stop();
    },
  };
}
