// Lab lifecycle: Topology → up() → StartedLab (AsyncDisposable) → down(). The substrate
// builds nodes and links; lab extensions (extensions.ts) add everything else.
import { randomBytes } from 'node:crypto';
import { Interrupted, LabError, SubstrateError } from '../errors.js';
import { getSubstrate } from '../substrate/registry.js';
import type { ProgressEvent, Substrate } from '../substrate/substrate.js';
import type { BackgroundProcess, Shell } from '../shell/shell.js';
import { nodeByName, type Topology } from '../topology/model.js';
import { defaultStateDir, LabDir, markOf, STATE_VERSION, type LabState, type WorkloadRecord } from './state.js';
import { carriesMark, reaped, terminate } from './processes.js';
import { mountsUnder, unmountUnder } from './mounts.js';
import { readFileSync } from 'node:fs';
import { LocalShell } from '../shell/local.js';
import { notAcrossHosts, type ExtensionOptions } from './extension.js';
import { labExtensions } from './extensions.js';
import type { LabHandle } from './handle.js';
import { LocalMachine, type NodeMachine } from './machine.js';
import { multiHostClock, singleHostClock, type ClockInfo } from '../probe/clock.js';
import { workloadSpec } from '../migration/migrate.js';
import { WorkloadShell } from '../workload/shell.js';

export interface UpOptions {
  stateDir?: string;
  substrate?: string;
  signal?: AbortSignal;
  onProgress?: (e: ProgressEvent) => void;
  /** Recorded for `inspect`; the lab never needs the file again. */
  topologyFile?: string;
  /** Start the topology's workloads (default true). */
  workloads?: boolean;
}

export class StartedLab implements LabHandle, AsyncDisposable {
  private readonly shells = new Map<string, Shell>();
  /** Each host's clock offset (`host NAME` → ms), once `clock()` estimated them. */
  private offsets = new Map<string, number>();

  constructor(
    private readonly dir: LabDir,
    private state: LabState,
    private readonly substrate: Substrate,
  ) {}

  get name(): string {
    return this.state.name;
  }
  get mark(): string {
    return this.state.mark;
  }
  get topology(): Topology {
    return this.state.topology;
  }
  get snapshot(): LabState {
    return this.state;
  }
  get path(): string {
    return this.dir.path;
  }

  /** The one Shell of a node; background processes it starts are recorded in the lab state. */
  shell(node: string): Shell {
    if (!nodeByName(this.state.topology, node)) {
      const workloads = this.state.topology.workloads.map((w) => w.name);
      throw new LabError(`lab ${this.name} has no node "${node}"; nodes: ${this.state.topology.nodes.map((n) => n.name).join(', ')}` + (workloads.length ? `; workloads: ${workloads.join(', ')}` : ''));
    }
    let s = this.shells.get(node);
    if (!s) {
      s = this.substrate.shell(this.state, node, (p) => this.recordProcess(node, p));
      this.shells.set(node, s);
    }
    return s;
  }

  /**
   * Also forgets processes that have exited (or whose PID no longer carries the mark): a
   * long run starts probes per trial, and `down` needs only the ones still running.
   */
  private recordProcess(node: string, p: BackgroundProcess): void {
    const host = 'host' in p ? String(p.host) : undefined;
    this.state = this.dir.update((s) => ({
      ...s,
      processes: [
        ...s.processes.filter((r) => r.host !== undefined || carriesMark(r.pid, s.mark)),
        { pid: p.pid, ...(host ? { host } : {}), node, argv: p.argv, startedAt: new Date().toISOString() },
      ],
    }));
    // An SSH host's PIDs cannot be checked here; one whose channel warplab holds is forgotten when it ends.
    const forget = () => (this.state = this.dir.update((s) => ({ ...s, processes: s.processes.filter((r) => !(r.host === host && r.pid === p.pid)) })));
    if (host && 'held' in p && p.held) void p.exited.then(forget).catch(() => {}); // the lab may be gone by then
  }

  imageShell(node: string): Shell {
    return this.substrate.imageShell?.(this.state, node) ?? this.shell(node);
  }

  machine(node: string): NodeMachine {
    return this.substrate.machine?.(this.state, node) ?? new LocalMachine(this.dir.path);
  }

  /** The node's host, where nodes run on several: its clock offset is `host NAME`'s. */
  hostOf(node: string): string | undefined {
    return nodeByName(this.state.topology, node)?.host;
  }

  /** How the lab's clocks relate: one clock, or each host's offset estimated now (and used from now on). */
  async clock(): Promise<ClockInfo> {
    if (!this.substrate.clocks) return singleHostClock();
    const offsets = await this.substrate.clocks(this.state);
    this.offsets = new Map(offsets.map((o) => [o.of, o.offsetMs]));
    return multiHostClock(offsets);
  }

  onOrchestratorClock(node: string, atMs: number): number {
    return atMs - (this.offsets.get(`host ${this.hostOf(node)}`) ?? 0);
  }

  /** A Shell on the orchestrator's machine whose background processes belong to the lab (a Docker engine). */
  hostShell(): Shell {
    return new LocalShell('host', [], { WARPLAB_LAB: this.state.mark }, (p) => this.recordProcess('(host)', p));
  }

  workloadShell(name: string): Shell {
    return new WorkloadShell(this, workloadSpec(this, name));
  }

  workload(name: string): WorkloadRecord | undefined {
    return this.dir.read().workloads?.[name];
  }

  recordWorkload(name: string, rec: WorkloadRecord): void {
    this.state = this.dir.update((s) => ({ ...s, workloads: { ...s.workloads, [name]: rec } }));
  }

  async down(): Promise<string[]> {
    return destroy(this.dir, this.substrate);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.down();
  }
}

export async function up(t: Topology, opts: UpOptions = {}): Promise<StartedLab> {
  const substrate = getSubstrate(opts.substrate, t.hosts !== undefined);
  const xo: ExtensionOptions = { workloads: opts.workloads !== false };
  const wanted = labExtensions().filter((x) => x.wanted(t, xo));
  const elsewhere = t.hosts && !substrate.spansHosts ? [`${t.name} places its nodes on hosts (${t.hosts.map((h) => h.name).join(', ')}); ${substrate.name} builds on this machine only: use -s ssh`] : [];
  const notAcross = substrate.spansHosts ? wanted.filter((x) => !x.spansHosts).map((x) => notAcrossHosts(x.name)) : [];
  const needs = wanted.flatMap((x) => x.needsOnNodes?.(t) ?? []);
  const missing = [...elsewhere, ...notAcross, ...(await substrate.missing(t, needs)), ...(await Promise.all(wanted.map((x) => x.missing(t)))).flat()];
  if (missing.length) throw new SubstrateError(`cannot bring up ${t.name} on ${substrate.name}:\n  - ${missing.join('\n  - ')}`);
  if (opts.signal?.aborted) throw new Interrupted('interrupted before bringing the lab up');

  const id = randomBytes(4).toString('hex');
  let state: LabState = {
    version: STATE_VERSION,
    name: t.name,
    id,
    mark: markOf(t.name, id),
    substrate: substrate.name,
    status: 'creating',
    createdAt: new Date().toISOString(),
    ...(opts.topologyFile ? { topologyFile: opts.topologyFile } : {}),
    topology: t,
    objects: [],
    processes: [],
  };
  const dir = LabDir.create(opts.stateDir ?? defaultStateDir(), t.name, state);
  try {
    await substrate.create(t, {
      get state() {
        return state;
      },
      path: dir.path,
      record: (objects) => {
        state = dir.update((s) => ({ ...s, objects: [...s.objects, ...objects] }));
      },
      signal: opts.signal,
      progress: (e) => opts.onProgress?.(e),
    });
    const lab = new StartedLab(dir, state, substrate);
    for (const x of wanted) {
      if (opts.signal?.aborted) throw new Interrupted(`interrupted before starting ${x.name}`);
      await x.start(lab, { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
    }
    state = dir.update((s) => ({ ...s, status: 'up' }));
  } catch (e) {
    // Whatever failed or interrupted us, leave nothing behind before reporting it.
    await destroy(dir, substrate).catch((cleanup: Error) => {
      process.stderr.write(`warplab: cleanup after a failed up also failed: ${cleanup.message}\n`);
    });
    throw e;
  }
  return new StartedLab(dir, state, substrate);
}

/** Opens a running lab from its state alone. */
export function attach(name: string, stateDir = defaultStateDir()): StartedLab {
  const dir = LabDir.open(stateDir, name);
  const state = dir.read();
  return new StartedLab(dir, state, getSubstrate(state.substrate));
}

export function listLabs(stateDir = defaultStateDir()): LabState[] {
  return LabDir.list(stateDir).map((d) => d.read());
}

async function destroy(dir: LabDir, substrate: Substrate): Promise<string[]> {
  const state = dir.update((s) => (s.status === 'up' ? { ...s, status: 'destroying' } : s));
  // Extensions first, last started first: engines stop their containers, shims and mounts in order.
  const removed: string[] = [];
  for (const x of labExtensions().reverse()) removed.push(...(await x.stop(dir.path, state)));
  // Processes on SSH hosts run in the lab's namespaces there, which the substrate empties.
  const here = state.processes.filter((p) => p.host === undefined).map((p) => p.pid);
  const stopped = await terminate(here, (p) => carriesMark(p, state.mark), 2000);
  removed.push(...stopped.map((p) => `process ${p.pid}`));
  removed.push(...(await substrate.destroy(state)));
  // Gone means reaped: an orphan stays a zombie until init gets to it.
  await reaped(stopped);
  const mounts = mountsUnder(readFileSync('/proc/self/mountinfo', 'utf8'), [dir.path]);
  const left = await unmountUnder(new LocalShell('host'), [dir.path]);
  if (left.length) throw new LabError(`could not unmount ${left.join(', ')}; the lab's state stays in ${dir.path}`);
  removed.push(...mounts.map((m) => `mount ${m}`));
  dir.remove();
  return removed;
}

export async function down(name: string, stateDir = defaultStateDir()): Promise<string[]> {
  const dir = LabDir.open(stateDir, name);
  return destroy(dir, getSubstrate(dir.read().substrate));
}

