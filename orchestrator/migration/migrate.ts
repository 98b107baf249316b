// One migration: the strategy plans the network's part as data, the driver moves the
// workload, the strategy's trigger carries the plan out. Either the workload ends up at the
// destination with the network switched, or it still runs at the source with the network
// unchanged — and the error says which.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Interrupted, LabError, MigrationError } from '../errors.js';
import type { LabHandle } from '../lab/handle.js';
import { workloadDir } from '../lab/machine.js';
import type { WorkloadRecord } from '../lab/state.js';
import { EventLog } from '../probe/timeline.js';
import { nodeByName, type WorkloadSpec } from '../topology/model.js';
import { workloadPort } from '../topology/workloads.js';
import { driverFor } from './driver.js';
import type { DriverContext, MigrationProgress } from './driver-types.js';
import { strategyFor } from './strategy.js';
import type { Armed, MovePlan, Placement, SwitchOutcome } from './strategy-types.js';

export interface MigrateOptions {
  /** Default: the topology's migration.strategy. */
  strategy?: string;
  /** The strategy's settings for this move on (see AddressStrategy.plan). */
  settings?: unknown;
  signal?: AbortSignal;
  onProgress?: (p: MigrationProgress) => void;
  /** Where the timeline goes (a probe run's events); a fresh log by default. */
  events?: EventLog;
  /** How long after the resume the switch may take before warplab switches itself. */
  switchTimeoutMs?: number;
}

export interface MigrationResult {
  workload: string;
  kind: string;
  from: string;
  to: string;
  driver: string;
  strategy: string;
  /** The driver's own figures. */
  figures: Record<string, number | string>;
  /** What the strategy planned; `switching.changes` is what it did. */
  plan: MovePlan;
  switching: SwitchOutcome & {
    /** Announcement seen → last network change made (ms), when the announcement triggered it. */
    announceToSwitchedMs: number | null;
    /** Switching time as the paper defines it: announcement → first packet on the new path. */
    switchingMs: number | null;
  };
  /** Migration call → network switched, as warplab measured it. */
  elapsedMs: number;
  events: EventLog['events'];
}

export function workloadSpec(lab: LabHandle, name: string): WorkloadSpec {
  const w = lab.topology.workloads.find((x) => x.name === name);
  if (!w) {
    const names = lab.topology.workloads.map((x) => x.name);
    throw new LabError(`lab ${lab.name} has no workload "${name}"` + (names.length ? `; workloads: ${names.join(', ')}` : '; it declares none'));
  }
  return w;
}

export function driverContext(lab: LabHandle, w: WorkloadSpec, o: Pick<MigrateOptions, 'signal' | 'onProgress'> & { events: EventLog; plan?: MovePlan }): DriverContext {
  const dir = join(lab.path, 'workloads', w.name);
  mkdirSync(dir, { recursive: true });
  const portOn = (hv: string) => (hv === o.plan?.to ? o.plan.port : workloadPort(nodeByName(lab.topology, hv)!, w)!);
  const dirOn = (hv: string) => workloadDir(lab.machine(hv), w.name);
  return { lab, workload: w, dir, dirOn, events: o.events, portOn, ...(o.signal ? { signal: o.signal } : {}), ...(o.onProgress ? { onProgress: o.onProgress } : {}) };
}

/** What a move needs before anything starts: the workload, where it runs, a real destination. */
export function checkMove(lab: LabHandle, name: string, to: string): { w: WorkloadSpec; from: WorkloadRecord } {
  const w = workloadSpec(lab, name);
  if (w.kind === 'placeholder') throw new LabError(`${name} is a placeholder: nothing runs in it to migrate (its network state is placed by the strategy)`);
  const from = lab.workload(name);
  if (!from) throw new LabError(`${name} is not running in lab ${lab.name} (was it started with the lab?)`);
  const dest = nodeByName(lab.topology, to);
  if (dest?.kind !== 'hypervisor') {
    const hvs = lab.topology.nodes.filter((n) => n.kind === 'hypervisor').map((n) => n.name);
    throw new LabError(`--to ${to}: not a hypervisor of lab ${lab.name}; hypervisors: ${hvs.join(', ')}`);
  }
  if (from.on === to) throw new LabError(`${name} already runs on ${to}`);
  return { w, from };
}

/** Where every workload of the lab runs now. */
export function placementOf(lab: LabHandle): Placement {
  return Object.fromEntries(lab.topology.workloads.map((w) => [w.name, lab.workload(w.name)?.on ?? w.on]));
}

/** The network's part of a move, as data, before anything acts (`migrate --dry-run`). */
export function planMove(lab: LabHandle, name: string, to: string, o: Pick<MigrateOptions, 'strategy' | 'settings'> = {}): MovePlan {
  const { w, from } = checkMove(lab, name, to);
  return strategyFor(lab.topology, o.strategy).plan(lab.topology, w, from.on, to, placementOf(lab), o.settings);
}

export async function migrateWorkload(lab: LabHandle, name: string, to: string, o: MigrateOptions = {}): Promise<MigrationResult> {
  const { w, from } = checkMove(lab, name, to);
  const driver = driverFor(w.kind);
  const strategy = strategyFor(lab.topology, o.strategy);
  const plan = strategy.plan(lab.topology, w, from.on, to, placementOf(lab), o.settings);
  const events = o.events ?? new EventLog();
  const ctx = driverContext(lab, w, { ...o, events, plan });
  const t0 = performance.now();

  const prepared = await driver.prepare(ctx, from, to);
  let armed: Armed;
  try {
    if (o.signal?.aborted) throw new Interrupted(`interrupted before moving ${name}`);
    armed = await strategy.arm(lab, plan, { dir: ctx.dir, events, announce: driver.announce });
  } catch (e) {
    await prepared.cancel();
    throw e;
  }
  let result;
  try {
    result = await driver.migrate(ctx, from, prepared);
  } catch (e) {
    await armed.disarm();
    throw e;
  }
  lab.recordWorkload(name, result.placement);
  ctx.onProgress?.({ phase: 'switch', detail: `waiting for ${name}'s announcement on ${to}` });
  const outcome = await armed.settled(o.switchTimeoutMs ?? 3000);
  events.record('migration-completed', 'warplab', `${name} on ${to}`);
  if (outcome.by === 'fallback') {
    throw new MigrationError(`${outcome.problem}; warplab made the changes on ${[...new Set(outcome.changes.map((c) => c.node))].join(', ') || 'no node'} itself, so the network is consistent; ${name} runs on ${to}`);
  }
  const last = Math.max(...outcome.changes.map((c) => c.atMs));
  return {
    workload: name,
    kind: w.kind,
    from: from.on,
    to,
    driver: driver.name,
    strategy: strategy.name,
    figures: result.figures,
    plan,
    switching: {
      ...outcome,
      announceToSwitchedMs: outcome.announce && outcome.changes.length ? last - outcome.announce.atMs : null,
      switchingMs: outcome.announce && outcome.firstPacketMs !== undefined ? outcome.firstPacketMs - outcome.announce.atMs : null,
    },
    elapsedMs: performance.now() - t0,
    events: events.events,
  };
}
