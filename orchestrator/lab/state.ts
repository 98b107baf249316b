// The lab directory: what a lab created, written before it is created, so that `down`
// works from this file alone (after a crash, without the topology file).
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from '../errors.js';
import { withLock } from './lock.js';
import type { Topology } from '../topology/model.js';

export const STATE_VERSION = 1;

export interface OwnedObject {
  /**
   * A container node is a `container` (recorded before it is made) and, once running, its
   * `netns`. A `tunnel` is one end of a VXLAN link between hosts, a `dir` the lab's
   * directory on a host (SSH substrate).
   */
  kind: 'netns' | 'link' | 'tunnel' | 'dir' | 'container' | 'docker-engine';
  /** Kernel name: namespace name, or interface name inside `netns`; a container's name; an engine's folder or socket. */
  name: string;
  node: string;
  netns?: string;
  /** The namespace's inode: what names it after the process in `netns` is gone. */
  inode?: number;
  /** The SSH host that has it; absent: the orchestrator's machine. */
  host?: string;
  /** A tunnel's VXLAN network identifier, allocated by the lab. */
  vni?: number;
  /** A Docker engine warplab did not start (`--docker-host`): only the lab's labelled containers are removed there. */
  external?: boolean;
}

export interface ProcessRecord {
  /** As the host numbers it. */
  pid: number;
  /** The SSH host it runs on; absent: the orchestrator's machine. */
  host?: string;
  node: string;
  argv: readonly string[];
  startedAt: string;
}

/** Where a workload runs now, and what runs it (written by the migration drivers). */
export interface WorkloadRecord {
  on: string;
  /** The process that runs it (QEMU; a container's holder). */
  pid: number;
  /** The driver's own details (accelerator, container ids…). */
  details: Record<string, string>;
}

export interface LabState {
  version: number;
  name: string;
  /** Random per `up`: two labs of the same name at different times never share a mark. */
  id: string;
  /** Set on every object and process of the lab; `down` removes only what carries it. */
  mark: string;
  substrate: string;
  status: 'creating' | 'up' | 'destroying';
  createdAt: string;
  topologyFile?: string;
  topology: Topology;
  objects: OwnedObject[];
  processes: ProcessRecord[];
  workloads?: Record<string, WorkloadRecord>;
}

export function defaultStateDir(): string {
  return process.env.WARPLAB_STATE_DIR ?? '/run/warplab';
}

export function markOf(name: string, id: string): string {
  return `warplab:${name}:${id}`;
}

export class LabDir {
  readonly path: string;
  private constructor(root: string, readonly name: string) {
    this.path = join(root, 'labs', name);
  }

  /** Claims the name and writes the first state; fails if a lab of that name exists. */
  static create(root: string, name: string, initial: LabState): LabDir {
    const dir = new LabDir(root, name);
    mkdirSync(join(root, 'labs'), { recursive: true, mode: 0o700 });
    try {
      mkdirSync(dir.path, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new LabError(`lab "${name}" already exists (state in ${dir.path}); run \`warplab down ${name}\` first, or rename the lab`);
      }
      throw e;
    }
    dir.write(initial);
    return dir;
  }

  static open(root: string, name: string): LabDir {
    const dir = new LabDir(root, name);
    if (!existsSync(dir.file)) {
      const known = LabDir.list(root).map((d) => d.name);
      throw new LabError(`no lab named "${name}" (state dir ${root})` + (known.length ? `; labs: ${known.join(', ')}` : '; no labs are up'));
    }
    return dir;
  }

  static list(root: string): LabDir[] {
    const labs = join(root, 'labs');
    if (!existsSync(labs)) return [];
    return readdirSync(labs)
      .filter((n) => existsSync(join(labs, n, 'state.json')))
      .sort()
      .map((n) => new LabDir(root, n));
  }

  get file(): string {
    return join(this.path, 'state.json');
  }

  read(): LabState {
    const s = JSON.parse(readFileSync(this.file, 'utf8')) as LabState;
    if (s.version !== STATE_VERSION) throw new LabError(`${this.file}: state version ${s.version}, this warplab reads ${STATE_VERSION}`);
    return s;
  }

  /**
   * Every change of the state: read, change, write, holding the lab's lock, so that two
   * warplab processes on one lab (`run --lab` beside `migrate`) never lose each other's
   * records. Returns the state written.
   */
  update(change: (s: LabState) => LabState): LabState {
    return withLock(this.lock, () => {
      const s = change(this.read());
      this.write(s);
      return s;
    });
  }

  private get lock(): string {
    return join(this.path, 'state.lock');
  }

  /** Atomic: a crash leaves the old or the new state, never half of one. */
  private write(s: LabState): void {
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(s, null, 1), { mode: 0o600 });
    renameSync(tmp, this.file);
  }

  /** Waits for an update under way in another process, so that it does not recreate the state. */
  remove(): void {
    withLock(this.lock, () => rmSync(this.path, { recursive: true, force: true }));
  }
}
