// How the network follows a moved workload. One interface, a registry (strategy.ts); network paging
// (ICOIN 2011) is the first strategy.
import type { StartedLab } from '../lab/lab.js';
import type { EventLog } from '../probe/timeline.js';
import type { WorkloadSpec } from '../topology/model.js';

/** What a resumed workload sends first: QEMU's RARP, or a gratuitous ARP. */
export type Announcement = 'rarp' | 'garp';

export interface AppliedSwitch {
  router: string;
  line: string;
  /** When the translator confirmed it (CLOCK_REALTIME epoch ms). */
  doneMs: number;
  kernelUs?: number;
}

export interface SwitchOutcome {
  /** Who switched: the watcher on the announcement, or warplab itself as a fallback. */
  by: 'watcher' | 'orchestrator';
  announce?: { kind: string; atMs: number };
  switches: AppliedSwitch[];
  /** The first packet to the workload seen at its new place (the paper's "new path"). */
  firstPacketMs?: number;
  /** Why the fallback was needed. */
  problem?: string;
}

export interface Armed {
  /** After the workload resumed at the destination: the switch, by the watcher or the fallback. */
  settled(timeoutMs: number): Promise<SwitchOutcome>;
  /** The move failed or was cancelled: stop watching, change nothing. */
  disarm(): Promise<void>;
}

export interface AddressStrategy {
  readonly name: string;
  /** Makes the network reach `w` on `hv` now (initial placement, or a repair). */
  place(lab: StartedLab, w: WorkloadSpec, hv: string): Promise<AppliedSwitch[]>;
  /** Before a move to `to`: whatever reacts to the workload's arrival is started. */
  arm(lab: StartedLab, w: WorkloadSpec, to: string, o: { dir: string; events: EventLog; announce: Announcement }): Promise<Armed>;
}
