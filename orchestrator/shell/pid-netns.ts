// A Shell into the network namespace of a process that carries the lab's mark (a Mininet
// node, a container node): `nsenter --net=/proc/PID/ns/net`, checked before every command,
// so a PID reused after a crash never sends a command into someone else's namespace.
import { LabError } from '../errors.js';
import { carriesMark } from '../lab/processes.js';
import { LocalShell } from './local.js';
import type { BackgroundProcess, ExecOptions, ExecResult, Shell, SpawnOptions } from './shell.js';

export class PidNetnsShell implements Shell {
  private readonly inner: LocalShell;
  constructor(
    readonly where: string,
    private readonly pid: number,
    private readonly mark: string,
    /** Why the namespace is gone, said when it is. */
    private readonly gone: string,
    onSpawn?: (p: BackgroundProcess) => void,
  ) {
    this.inner = new LocalShell(where, ['nsenter', `--net=/proc/${pid}/ns/net`, '--'], { WARPLAB_LAB: mark }, onSpawn);
  }
  private check(): void {
    if (!carriesMark(this.pid, this.mark)) throw new LabError(this.gone);
  }
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    try {
      this.check();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.inner.exec(argv, opts);
  }
  spawn(argv: readonly string[], opts?: SpawnOptions): BackgroundProcess {
    this.check();
    return this.inner.spawn(argv, opts);
  }
}

/** The PID in a `/proc/PID/ns/net` path (-1 when it is none). */
export function pidIn(path: string | undefined): number {
  const m = /^\/proc\/(\d+)\/ns\/net$/.exec(path ?? '');
  return m ? Number(m[1]) : -1;
}
