// Where one lab's private dockerd keeps its things, and the command line that says so.
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';

/** sun_path is 108 bytes with its NUL. */
export const UNIX_PATH_MAX = 107;
/** The longest socket dockerd's containerd makes under exec-root: `/containerd/containerd.sock.ttrpc`. */
const EXEC_ROOT_SOCKET_SUFFIX = 40;
/** Short home for the socket and exec-root when the lab folder is too deep for them. */
export const SHORT_RUN_BASE = '/run/warplab';

export interface EngineLayout {
  dir: string;
  /** Images and containers (checkpoints live in `containers/<id>/checkpoints/`). */
  dataRoot: string;
  /** Runtime state: containerd and its sockets, runc state, netns files. */
  execRoot: string;
  socket: string;
  pidFile: string;
  logFile: string;
  /** An empty daemon.json: the host's /etc/docker/daemon.json must not leak in. */
  configFile: string;
  /** What attachEngine reads back. */
  stateFile: string;
  /** TMPDIR of dockerd and its containerd: containerd writes every checkpoint's images to a
   *  `ctrd-checkpoint*` folder there and never removes it; inside the lab, `down` does. */
  tmpDir: string;
  /** containerd namespace: unique per lab folder. */
  namespace: string;
  /** Set when `dir` is too long for unix sockets: socket and exec-root live here instead. */
  runDir?: string;
}

export function engineLayout(dirIn: string): EngineLayout {
  const dir = resolve(dirIn);
  const id = createHash('sha256').update(dir).digest('hex').slice(0, 12);
  const short = join(dir, 'exec').length + EXEC_ROOT_SOCKET_SUFFIX > UNIX_PATH_MAX || join(dir, 'docker.sock').length > UNIX_PATH_MAX;
  const runDir = short ? join(SHORT_RUN_BASE, `docker-${id}`) : undefined;
  const base = runDir ?? dir;
  return {
    dir,
    dataRoot: join(dir, 'data'),
    execRoot: join(base, 'exec'),
    socket: join(base, 'docker.sock'),
    pidFile: join(dir, 'dockerd.pid'),
    logFile: join(dir, 'dockerd.log'),
    configFile: join(dir, 'daemon.json'),
    stateFile: join(dir, 'engine.json'),
    tmpDir: join(dir, 'tmp'),
    namespace: `warplab-${id}`,
    ...(runDir ? { runDir } : {}),
  };
}

/** containerd's socket: shims carry it in their argv, which is how a sweep finds ours. */
export function containerdSocket(l: EngineLayout): string {
  return join(l.execRoot, 'containerd', 'containerd.sock');
}

/**
 * Offline and hands off the host's network: no bridge, no iptables/NAT (the orchestrator
 * plumbs every container's network itself); experimental for checkpoints; cgroupfs
 * because nothing here runs systemd.
 */
export function dockerdArgv(l: EngineLayout): string[] {
  return [
    'dockerd',
    '--config-file', l.configFile,
    '--data-root', l.dataRoot,
    '--exec-root', l.execRoot,
    '--pidfile', l.pidFile,
    '-H', `unix://${l.socket}`,
    '--containerd-namespace', l.namespace,
    '--containerd-plugins-namespace', `${l.namespace}-plugins`,
    '--storage-driver', 'overlay2',
    '--iptables=false',
    '--ip6tables=false',
    '--ip-masq=false',
    '--bridge=none',
    '--experimental',
    '--exec-opt', 'native.cgroupdriver=cgroupfs',
  ];
}

/** runc finds criu on PATH: the working one goes first. Temporary files stay in the lab. */
export function dockerdEnv(l: EngineLayout, criu: string | undefined, path = process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'): Record<string, string> {
  return { PATH: criu ? `${dirname(criu)}:${path}` : path, TMPDIR: l.tmpDir };
}
