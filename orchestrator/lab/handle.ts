// What drivers, strategies, scenario steps and lab extensions see of a running lab: its
// shells, files and records. Not the lifecycle (lab.ts), so none of them imports it.
import type { Shell } from '../shell/shell.js';
import type { NodeMachine } from './machine.js';
import type { Topology } from '../topology/model.js';
import type { LabState, WorkloadRecord } from './state.js';

export interface LabHandle {
  readonly name: string;
  /** Carried by everything the lab creates; `down` removes only what carries it. */
  readonly mark: string;
  /** The lab directory on the orchestrator's machine. */
  readonly path: string;
  readonly topology: Topology;
  readonly snapshot: LabState;
  /** The one Shell of a node; background processes it starts are recorded in the lab state. */
  shell(node: string): Shell;
  /**
   * A Shell in the node's own filesystem: `docker exec` into a container node, for commands
   * that need the image's tools or files (containerlab's `exec:`). Elsewhere the node's Shell.
   */
  imageShell(node: string): Shell;
  /** The machine a node runs on: its lab directory there, files placed there, its unix sockets. */
  machine(node: string): NodeMachine;
  /**
   * A time stamped on `node`'s machine (a QMP event, the watcher's), in ms on the
   * orchestrator's clock: less its host's offset once the lab's clocks were estimated.
   */
  onOrchestratorClock(node: string, atMs: number): number;
  /** A Shell on the orchestrator's machine whose background processes belong to the lab. */
  hostShell(): Shell;
  /** A Shell into a workload, wherever it runs when a command starts (`vm vm-a on adc-hv`). */
  workloadShell(name: string): Shell;
  workload(name: string): WorkloadRecord | undefined;
  recordWorkload(name: string, rec: WorkloadRecord): void;
}
