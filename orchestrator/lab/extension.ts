// Lab extensions: what a lab runs besides its nodes and links (translator agents, a
// strategy's tables, workloads and their engines). `up` starts the wanted ones in
// registration order after the substrate; `down` stops them in reverse order before it.
import type { NodeNeed, ProgressEvent } from '../substrate/substrate.js';
import type { Topology } from '../topology/model.js';
import type { LabHandle } from './handle.js';
import type { LabState } from './state.js';

export interface ExtensionOptions {
  /** Whether the lab starts its workloads (`up --no-workloads` does not). */
  workloads: boolean;
}

export interface ExtensionContext {
  signal?: AbortSignal;
  onProgress?: (e: ProgressEvent) => void;
}

export interface LabExtension {
  readonly name: string;
  /** Runs on labs whose nodes are on SSH hosts: it only uses the nodes' Shells. */
  readonly spansHosts?: boolean;
  /** Whether this lab needs it at all. */
  wanted(t: Topology, o: ExtensionOptions): boolean;
  /** What this machine lacks for it, one sentence each. */
  missing(t: Topology): Promise<string[]>;
  /** Commands it needs on its nodes' machines: a substrate that spans hosts checks them on each host before building. */
  needsOnNodes?(t: Topology): NodeNeed[];
  start(lab: LabHandle, ctx: ExtensionContext): Promise<void>;
  /**
   * Removes what it made that the namespaces' deletion does not, from the lab directory
   * and state alone (after a crash too); one line per thing removed.
   */
  stop(labPath: string, state: LabState): Promise<string[]>;
}

/** Why `up` refuses an extension (or a part of one) on a lab across SSH hosts. */
export function notAcrossHosts(name: string): string {
  return `${name} does not run on labs across SSH hosts yet (it starts processes or reads files on this machine)`;
}
