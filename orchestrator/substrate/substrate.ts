// Where a lab's nodes and links become real. One interface, several substrates
// (netns, mininet, docker, ssh), chosen by flag → WARPLAB_SUBSTRATE → ssh for a topology
// with hosts, netns otherwise.
import type { NodeMachine } from '../lab/machine.js';
import type { LabState, OwnedObject } from '../lab/state.js';
import type { ClockOffset } from '../probe/clock.js';
import type { BackgroundProcess, Shell } from '../shell/shell.js';
import type { Topology } from '../topology/model.js';

export interface ProgressEvent {
  stage: string;
  done: number;
  total: number;
}

export interface BuildContext {
  /** The lab as recorded so far; `name`, `id` and `mark` are set. */
  readonly state: LabState;
  /** The lab directory: room for the substrate's own files (a Docker engine). */
  readonly path: string;
  /** Records objects in the lab directory before they are created. */
  record(objects: OwnedObject[]): void;
  signal?: AbortSignal;
  progress(e: ProgressEvent): void;
}

/** One part of a build, as `up --dry-run` prints it: where, what, and the exact commands. */
export interface PlanStep {
  where: string;
  what: string;
  commands: string[];
}

/** A command a node's machine needs for a lab extension (QEMU on a hypervisor), with how to install it. */
export interface NodeNeed {
  node: string;
  command: string;
  install: string;
}

export interface Substrate {
  readonly name: string;
  /** Builds on the topology's `hosts` (and only there); the others build on this machine. */
  readonly spansHosts?: boolean;
  /**
   * What this machine (or each host) lacks for the topology, one sentence each (empty: all
   * there). A substrate that spans hosts also checks `needs` on each node's host.
   */
  missing(t: Topology, needs?: readonly NodeNeed[]): Promise<string[]>;
  /**
   * What `create` would run, without running anything; `labId` stands for the random id `up`
   * draws (it names the mark and, on ssh, the VNIs). Absent where a build depends on what
   * earlier steps return (a container's PID).
   */
  plan?(t: Topology, labId: string): PlanStep[];
  /** Builds nodes, links, addresses and routes, recording each object before making it. */
  create(t: Topology, ctx: BuildContext): Promise<void>;
  /** The one Shell of a node. */
  shell(state: LabState, node: string, onSpawn?: (p: BackgroundProcess) => void): Shell;
  /** A Shell in the node's own filesystem, where it has one (a container); default: shell(). */
  imageShell?(state: LabState, node: string): Shell;
  /** The machine a node runs on, where it is not this one (an SSH host); default: this machine, the lab directory. */
  machine?(state: LabState, node: string): NodeMachine;
  /** Each host's clock offset (`host NAME`), where nodes are on other hosts; absent: one clock. */
  clocks?(state: LabState): Promise<ClockOffset[]>;
  /** Removes what the state records and still carries the lab's mark; returns what it removed. */
  destroy(state: LabState): Promise<string[]>;
}
