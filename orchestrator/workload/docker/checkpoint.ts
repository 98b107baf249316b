// Checkpoint/restore of a container workload through dockerd (runc → CRIU). A restore
// "into" another container is dockerd's own restore pointed at a copy of the images:
// create a container from the same image in the destination holder, copy the checkpoint
// into its checkpoints folder, start it from that checkpoint.
import { cp } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { dockerMessage, type DockerContainer, type Dockerode } from './dockerode.js';
import type { DockerEngine } from './engine.js';
import { CheckpointError, RestoreError } from './errors.js';

export interface CheckpointResult {
  /** Full ID of the checkpointed container. */
  containerId: string;
  name: string;
  ms: number;
}

/** Where dockerd keeps a container's checkpoint (what restoreInto copies). */
export function checkpointDir(engine: Pick<DockerEngine, 'dataRoot'>, containerId: string, name: string): string {
  return join(engine.dataRoot, 'containers', containerId, 'checkpoints', name);
}

/**
 * Dumps the container with CRIU. With `exit` (the default) it stops afterwards, as a
 * migration needs; on failure CRIU thaws it and it keeps running where it was.
 */
export async function checkpoint(docker: Dockerode, containerId: string, name: string, opts: { exit?: boolean } = {}): Promise<CheckpointResult> {
  const c = docker.getContainer(containerId);
  const started = performance.now();
  try {
    await c.createCheckpoint({ CheckpointID: name, Exit: opts.exit ?? true });
  } catch (e) {
    // dockerd's message names criu's dump.log: keep it whole.
    throw new CheckpointError(`checkpoint ${name} of ${containerId} failed: ${dockerMessage(e)}`);
  }
  const ms = performance.now() - started;
  return { containerId: (await c.inspect()).Id, name, ms };
}

/** moby#42900: starting from a checkpoint right after creating the container sometimes says "already exists". */
const RACE = /already exists/i;

/**
 * Starts a (created or exited) container from one of its checkpoints, retrying on the
 * known race (moby#42900; right after a dump it can take a few hundred ms to clear).
 * Resolves with the number of attempts.
 */
export async function startFromCheckpoint(docker: Dockerode, containerId: string, name: string, retryDelayMs = 50): Promise<number> {
  const c: DockerContainer = docker.getContainer(containerId);
  // `start({checkpoint})` puts it in the body, which dockerd answers with a 400.
  const start = () => c.start({ _query: { checkpoint: name }, _body: {} });
  for (let attempt = 1; ; attempt++) {
    try {
      await start();
      return attempt;
    } catch (e) {
      if (!RACE.test(dockerMessage(e)) || attempt === 5) throw e;
      await new Promise((r) => setTimeout(r, retryDelayMs * 2 ** (attempt - 1)));
    }
  }
}

export interface RestoreSpec {
  image: string;
  /** Name of the new container. */
  name: string;
  /** `container:<holderId>` (see holder.ts). */
  networkMode: string;
  env?: Record<string, string> | string[];
  /** A checkpoint folder (checkpointDir()); its basename is the checkpoint's name. */
  checkpointDir: string;
  labels?: Record<string, string>;
}

export interface RestoreResult {
  id: string;
  createMs: number;
  copyMs: number;
  restoreMs: number;
  /** 2 when the start hit moby#42900 and was retried. */
  attempts: number;
}

/**
 * Restores a checkpoint into a new container. On failure the new container is removed and
 * a RestoreError says which phase failed; the source's checkpoint is untouched (it was
 * copied, not moved), so startFromCheckpoint(source) resumes the workload where it was.
 */
export async function restoreInto(docker: Dockerode, engine: Pick<DockerEngine, 'dataRoot'>, spec: RestoreSpec): Promise<RestoreResult> {
  const name = basename(spec.checkpointDir);
  const env = Array.isArray(spec.env) ? spec.env : Object.entries(spec.env ?? {}).map(([k, v]) => `${k}=${v}`);
  const t0 = performance.now();
  let c: DockerContainer;
  try {
    c = await docker.createContainer({ name: spec.name, Image: spec.image, Env: env, Labels: spec.labels ?? {}, HostConfig: { NetworkMode: spec.networkMode } });
  } catch (e) {
    throw new RestoreError(`cannot create ${spec.name} (${spec.networkMode}) to restore ${name} into: ${dockerMessage(e)}`, 'create');
  }
  const fail = async (phase: RestoreError['phase'], what: string, e: unknown): Promise<never> => {
    await c.remove({ force: true }).catch(() => {});
    throw new RestoreError(`${what} ${name} into ${spec.name} failed: ${dockerMessage(e)}`, phase);
  };
  const t1 = performance.now();
  try {
    await cp(spec.checkpointDir, checkpointDir(engine, c.id, name), { recursive: true });
  } catch (e) {
    return fail('copy', 'copying checkpoint', e);
  }
  const t2 = performance.now();
  let attempts: number;
  try {
    attempts = await startFromCheckpoint(docker, c.id, name);
  } catch (e) {
    return fail('start', 'restoring checkpoint', e);
  }
  const t3 = performance.now();
  return { id: c.id, createMs: t1 - t0, copyMs: t2 - t1, restoreMs: t3 - t2, attempts };
}

export interface MigrationResult extends RestoreResult {
  checkpointMs: number;
  switchMs: number;
}

/**
 * Checkpoint `source` and restore it as `name` in another holder of the same engine,
 * with the source's image and environment. A RestoreError leaves the source stopped
 * with its checkpoint `checkpointName`: startFromCheckpoint brings it back there.
 */
export async function migrate(
  docker: Dockerode,
  engine: Pick<DockerEngine, 'dataRoot'>,
  o: {
    source: string;
    checkpointName: string;
    name: string;
    networkMode: string;
    /** Runs after the dump, before the restore: where the network moves (timed in switchMs). */
    between?: () => Promise<void>;
  },
): Promise<MigrationResult> {
  const info = await docker.getContainer(o.source).inspect();
  const cp = await checkpoint(docker, info.Id, o.checkpointName);
  const s0 = performance.now();
  await o.between?.();
  const switchMs = performance.now() - s0;
  const r = await restoreInto(docker, engine, {
    image: info.Config.Image,
    name: o.name,
    networkMode: o.networkMode,
    env: info.Config.Env ?? [],
    checkpointDir: checkpointDir(engine, info.Id, o.checkpointName),
    labels: info.Config.Labels ?? {},
  });
  return { ...r, checkpointMs: cp.ms, switchMs };
}
