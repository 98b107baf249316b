// How the network follows a moved workload: one interface, a registry (strategy.ts). A
// strategy owns its settings in the topology (`migration.<name>`), plans a whole move as
// data from the topology alone, then carries the plan out; what it did comes back as
// generic network changes.
import type { LabExtension } from '../lab/extension.js';
import type { PaperReference } from '../report/references.js';
import type { LabHandle } from '../lab/handle.js';
import type { EventLog } from '../probe/timeline.js';
import type { Topology, WorkloadSpec } from '../topology/model.js';
import type { YamlPath } from '../topology/source.js';

/** What a resumed workload sends first: QEMU's RARP, or a gratuitous ARP. */
export type Announcement = 'rarp' | 'garp';

/** Who makes the network follow: a watcher on the workload's announcement, or warplab once the driver reports completion. */
export type Trigger = 'announcement' | 'orchestrator';

/** One change a strategy makes on one node: `{node: R1, action: nat, detail: dst 192.168.11.3 → 192.168.10.3}`. */
export interface PlannedChange {
  node: string;
  action: string;
  detail: string;
  /** `arm`: made before the move starts (a primed ARP entry); otherwise at the trigger. */
  when?: 'arm';
}

/** A change as carried out. */
export interface NetworkChange extends PlannedChange {
  /** When it took effect (CLOCK_REALTIME epoch ms). */
  atMs: number;
  /** The kernel's own time for it, when known. */
  kernelUs?: number;
}

/** Workload → the hypervisor it runs on. */
export type Placement = Record<string, string>;

/** A whole move, planned before anything acts: what `migrate --dry-run` prints and unit tests check. */
export interface MovePlan<D = unknown> {
  strategy: string;
  workload: string;
  from: string;
  to: string;
  trigger: Trigger;
  /** The destination hypervisor's interface whose LAN the workload joins. */
  port: string;
  /** In the order they are applied; the trigger applies them all. */
  changes: PlannedChange[];
  /** The strategy's own data to act on (plain JSON). */
  data: D;
}

export interface SwitchOutcome {
  /** Who switched: the watcher on the announcement, warplab on completion, or warplab as a fallback. */
  by: 'watcher' | 'orchestrator' | 'fallback';
  announce?: { kind: string; atMs: number };
  changes: NetworkChange[];
  /** The first packet to the workload seen at its new place (the paper's "new path"). */
  firstPacketMs?: number;
  /** Why the fallback was needed. */
  problem?: string;
}

export interface Armed {
  /** After the workload resumed at the destination: the switch, by its trigger or the fallback. */
  settled(timeoutMs: number): Promise<SwitchOutcome>;
  /** The move failed or was cancelled: stop watching, change nothing. */
  disarm(): Promise<void>;
}

export interface ArmOptions {
  /** The workload's files in the lab directory. */
  dir: string;
  events: EventLog;
  announce: Announcement;
}

/** A problem with the strategy's settings, at a path below `migration.<name>` (or anywhere in the file). */
export type SettingsReport = (path: YamlPath, message: string, hint?: string) => void;

export interface AddressStrategy<S = unknown, D = unknown> {
  readonly name: string;
  /** One line for help texts and the schema's description. */
  readonly summary: string;
  /** What its paper measured, shown beside warplab's figures as labelled references (none: the paper measured none). */
  readonly references?: readonly PaperReference[];
  /** JSON Schema of `migration.<name>`; absent when the strategy takes no settings. */
  readonly settingsSchema?: object;
  /** The settings with defaults, from the raw value (already valid against the schema; undefined when absent). */
  settings(raw: unknown): S;
  /** What the schema cannot say: a plan that cannot work in this topology is an error here, not at `migrate`. */
  check?(t: Topology, s: S, report: SettingsReport): void;
  /** Groups of lans its extension bridges into one L2 segment, so the forwarding model predicts what the lab does. */
  joinedLans?(t: Topology, s: S): string[][];
  /** What it runs for the whole lab (tables, proxy ARP…), started before the workloads. */
  readonly extension?: LabExtension;
  /**
   * The whole move of `w` from `from` to `to`, from the topology and where every workload is
   * now. `overrides`: settings for this move on (a scenario step's `settings:`), valid
   * against `settingsSchema` and `checkOverrides`.
   */
  plan(t: Topology, w: WorkloadSpec, from: string, to: string, placement: Placement, overrides?: unknown): MovePlan<D>;
  /** What the schema cannot say about a move's overrides; paths below them. */
  checkOverrides?(t: Topology, raw: unknown, report: SettingsReport): void;
  /** Makes the network reach `w` on `hv` now (initial placement, or a repair). */
  place(lab: LabHandle, w: WorkloadSpec, hv: string): Promise<NetworkChange[]>;
  /** Before the move: whatever reacts to the workload's arrival is started. */
  arm(lab: LabHandle, plan: MovePlan<D>, o: ArmOptions): Promise<Armed>;
  /** What it has set on each node now, read from the nodes (`warplab rules`). */
  rules?(lab: LabHandle): Promise<NodeRules[]>;
}

/** One node's live state as a strategy reads it back: a few small tables. */
export interface NodeRules {
  node: string;
  strategy: string;
  tables: { title: string; header: string[]; rows: string[][] }[];
}
