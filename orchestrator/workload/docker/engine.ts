// One private dockerd per lab: its own data-root, exec-root, socket and containerd
// namespace under the lab's folder, so labs never see each other's containers and `down`
// can remove everything without asking a shared daemon. Started through the lab's Shell
// (which records the process), reachable again later from its folder (attachEngine).
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Interrupted, ReadinessTimeout } from '../../errors.js';
import { LocalShell } from '../../shell/local.js';
import type { BackgroundProcess, Shell } from '../../shell/shell.js';
import { connectDocker, type Dockerode } from './dockerode.js';
import { DockerEngineError } from './errors.js';
import { ensureWorkloadImage, WORKLOAD_IMAGE } from './image.js';
import { containerdSocket, dockerdArgv, dockerdEnv, engineLayout, type EngineLayout } from './layout.js';
import { alive, cmdline, terminate } from '../../lab/processes.js';
import { unmountUnder } from '../../lab/mounts.js';
import { reapShims } from './teardown.js';

/** Where ci/criu.sh links the CRIU that works on this machine. */
export const DEFAULT_CRIU = '/var/cache/warplab/bin/criu';
/** Where ci/criu.sh says, in one line, why no CRIU can checkpoint on this machine. */
export const CRIU_UNAVAILABLE = '/var/cache/warplab/criu.unavailable';

export interface DockerEngine extends AsyncDisposable {
  readonly docker: Dockerode;
  readonly socket: string;
  /** dockerd's PID (from its pidfile). */
  readonly pid: number;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly dir: string;
  readonly logFile: string;
  /** The workload image, imported from agents/build/workload-rootfs.tar. */
  readonly image: string;
  /** Set when `dir` was too deep for unix sockets: the socket and exec-root live here. */
  readonly runDir?: string;
  /** Removes every container, stops dockerd and containerd, unmounts what is left under the engine's folders. */
  stop(): Promise<void>;
}

export interface StartEngineOptions {
  /** A folder of the engine's own (e.g. `<lab>/docker`): stop() unmounts everything under it. */
  dir: string;
  shell: Shell;
  /** A CRIU >= 4.1 that works here (`bash ci/criu.sh` prints it: DEFAULT_CRIU); absent: no checkpoints (an engine for container nodes only). */
  criu?: string;
  signal?: AbortSignal;
  /** Rootfs tarball to import as the workload image (default agents/build/workload-rootfs.tar). */
  rootfs?: string;
  readyTimeoutMs?: number;
}

interface EngineState {
  version: 1;
  pid: number;
  containerdPid?: number;
  layout: EngineLayout;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readPid(path: string): number | undefined {
  try {
    const n = Number(readFileSync(path, 'latin1').trim());
    return n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Guards against a reused PID: a dockerd with our data-root, a containerd with our config, in argv. */
function isOurs(pid: number | undefined, arg: string): pid is number {
  return pid !== undefined && pid > 0 && alive(pid) && cmdline(pid).includes(arg);
}

const containerdConfig = (l: EngineLayout) => join(l.execRoot, 'containerd', 'containerd.toml');

function logTail(path: string, lines = 8): string {
  try {
    const all = readFileSync(path, 'utf8').trimEnd().split('\n');
    return all.slice(-lines).map((l) => `    ${l}`).join('\n');
  } catch {
    return '    (no log)';
  }
}

async function waitReady(docker: Dockerode, proc: BackgroundProcess, l: EngineLayout, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  let exited: number | null | undefined;
  void proc.exited.then((code) => (exited = code));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (signal?.aborted) throw new Interrupted(`interrupted while waiting for dockerd (${l.logFile})`);
    if (exited !== undefined) throw new DockerEngineError(`dockerd exited (code ${exited ?? 'signal'}) before answering on ${l.socket}; its log ${l.logFile} ends:\n${logTail(l.logFile)}`);
    if (existsSync(l.socket)) {
      try {
        await docker.ping({ abortSignal: AbortSignal.timeout(2000) });
        return;
      } catch {
        /* not listening yet */
      }
    }
    if (Date.now() > deadline) throw new ReadinessTimeout(`dockerd did not answer on ${l.socket} within ${timeoutMs} ms; see ${l.logFile}, which ends:\n${logTail(l.logFile)}`);
    await sleep(50);
  }
}

/** Starts the lab's dockerd and imports the workload image; a half-started one is torn down before the error is thrown. */
export async function startEngine(o: StartEngineOptions): Promise<DockerEngine> {
  const l = engineLayout(o.dir);
  const previous = readState(l);
  if (previous && isOurs(previous.pid, l.dataRoot)) {
    throw new DockerEngineError(`a dockerd (pid ${previous.pid}) already serves ${l.dir}: attachEngine() to it or stop it first`);
  }
  // A dead predecessor may have left shims, containers and mounts behind.
  if (previous) await stopByState(connectDocker(previous.layout.socket), previous, o.shell);
  if (o.criu !== undefined) {
    try {
      accessSync(o.criu, constants.X_OK);
    } catch {
      throw new DockerEngineError(`${o.criu} is not an executable criu: run \`bash ci/criu.sh\`, which builds one and prints its path`);
    }
  }
  mkdirSync(l.dir, { recursive: true, mode: 0o700 });
  mkdirSync(l.tmpDir, { recursive: true, mode: 0o700 });
  if (l.runDir) mkdirSync(l.runDir, { recursive: true, mode: 0o700 });
  writeFileSync(l.configFile, '{}\n');
  rmSync(l.socket, { force: true }); // a killed dockerd leaves it; a stale one would look ready
  rmSync(l.pidFile, { force: true });

  const proc = o.shell.spawn(dockerdArgv(l), { env: dockerdEnv(l, o.criu), logFile: l.logFile });
  if (proc.pid <= 0) throw new DockerEngineError(`could not run dockerd on ${o.shell.where} (is docker.io installed?)`);
  const docker = connectDocker(l.socket);
  const state: EngineState = { version: 1, pid: proc.pid, layout: l };
  writeState(state); // before waiting: a crash from here on leaves a trail for reapEngine
  try {
    await waitReady(docker, proc, l, o.readyTimeoutMs ?? 30_000, o.signal);
    state.pid = readPid(l.pidFile) ?? proc.pid;
    const containerdPid = readPid(join(l.execRoot, 'containerd', 'containerd.pid'));
    if (containerdPid) state.containerdPid = containerdPid;
    writeState(state);
    const { image } = await ensureWorkloadImage(docker, o.rootfs);
    return engineHandle(docker, state, image, o.shell);
  } catch (e) {
    await stopByState(docker, state, o.shell).catch(() => {});
    throw e;
  }
}

/** Reconnects to the dockerd that startEngine left running for `dir`. */
export async function attachEngine(dir: string, shell: Shell = new LocalShell()): Promise<DockerEngine> {
  const l = engineLayout(dir);
  const state = readState(l);
  if (!state) throw new DockerEngineError(`no Docker engine was started for ${l.dir} (no ${l.stateFile})`);
  const docker = connectDocker(state.layout.socket);
  try {
    await docker.ping({ abortSignal: AbortSignal.timeout(5000) });
  } catch (e) {
    throw new DockerEngineError(`the dockerd for ${l.dir} (pid ${state.pid}) does not answer on ${state.layout.socket}: ${(e as Error).message}; see ${state.layout.logFile} (reapEngine() cleans up after a dead one)`);
  }
  return engineHandle(docker, state, WORKLOAD_IMAGE, shell);
}

/** Cleans up after an engine whatever its state (running, killed, half-started): what `down` calls. */
export async function reapEngine(dir: string, shell: Shell = new LocalShell()): Promise<void> {
  const l = engineLayout(dir);
  const state = readState(l) ?? { version: 1, pid: readPid(l.pidFile) ?? -1, layout: l };
  await stopByState(connectDocker(state.layout.socket), state, shell);
}

function engineHandle(docker: Dockerode, state: EngineState, image: string, shell: Shell): DockerEngine {
  const l = state.layout;
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= stopByState(docker, state, shell));
  return {
    docker,
    socket: l.socket,
    pid: state.pid,
    dataRoot: l.dataRoot,
    execRoot: l.execRoot,
    dir: l.dir,
    logFile: l.logFile,
    image,
    ...(l.runDir ? { runDir: l.runDir } : {}),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

async function stopByState(docker: Dockerode, state: EngineState, shell: Shell): Promise<void> {
  const l = state.layout;
  const dockerd = isOurs(state.pid, l.dataRoot) ? state.pid : undefined;
  if (dockerd !== undefined) {
    // Removing containers first lets dockerd stop quickly and their shims exit.
    try {
      const all = await docker.listContainers({ all: true });
      await Promise.all(all.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => {})));
    } catch {
      /* not answering: the steps below still clean up */
    }
    await terminate([dockerd], (p) => isOurs(p, l.dataRoot), 15_000);
  }
  const containerd = state.containerdPid ?? readPid(join(l.execRoot, 'containerd', 'containerd.pid'));
  if (containerd !== undefined) await terminate([containerd], (p) => isOurs(p, containerdConfig(l)), 5_000);
  await reapShims(containerdSocket(l), l.namespace, l.execRoot);
  const left = await unmountUnder(shell, l.runDir ? [l.dir, l.runDir] : [l.dir]);
  if (left.length) throw new DockerEngineError(`still mounted after stopping the dockerd of ${l.dir}:\n    ${left.join('\n    ')}`);
  // Runtime state goes; data-root stays, so the next start finds the image imported.
  for (const p of [l.execRoot, l.socket, l.pidFile, l.stateFile, ...(l.runDir ? [l.runDir] : [])]) rmSync(p, { recursive: true, force: true });
}

function readState(l: EngineLayout): EngineState | undefined {
  try {
    return JSON.parse(readFileSync(l.stateFile, 'utf8')) as EngineState;
  } catch {
    return undefined;
  }
}

function writeState(s: EngineState): void {
  writeFileSync(s.layout.stateFile, JSON.stringify(s, null, 2) + '\n', { mode: 0o600 });
}
