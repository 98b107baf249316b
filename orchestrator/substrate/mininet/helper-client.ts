// The orchestrator's end of the Mininet helper (helper.py): starts it as PID 1 of a private
// sandbox (`unshare --net --pid --fork --kill-child --mount --mount-proc`), speaks its JSON
// lines, and kills it. The sandbox is the lab's only host-level object: kill -9 of it and the
// kernel removes every node, link, switch and OVS daemon inside.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { join } from 'node:path';
import { Interrupted, ReadinessTimeout, SubstrateError } from '../../errors.js';
import { packageRoot } from '../../paths.js';

export const helperScript = join(packageRoot, 'orchestrator', 'substrate', 'mininet', 'helper.py');
export const SANDBOX_ARGS = ['--net', '--pid', '--fork', '--kill-child', '--mount', '--mount-proc', '--propagation', 'private'] as const;

export interface HelperReady {
  /** The sandbox's init (the helper) as the host sees it. */
  hostPid: number;
  mininet: string;
}

export interface HelperEvent {
  event: string;
  [k: string]: unknown;
}

export interface RequestOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

type Pending = { op: string; resolve: (v: Record<string, any>) => void; reject: (e: Error) => void; timer?: NodeJS.Timeout; onAbort?: () => void };

export class HelperClient {
  /** `unshare`'s PID on the host: what the lab records; its death takes the sandbox with it (--kill-child). */
  readonly pid: number;
  readonly ready: Promise<HelperReady>;
  /** Resolves when the sandbox is gone. */
  readonly exited: Promise<string>;
  onEvent?: (e: HelperEvent) => void;

  private readonly child: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private buf = '';
  private stderrTail = '';
  private gone?: string;
  private detached = false;
  private settleReady?: { resolve: (r: HelperReady) => void; reject: (e: Error) => void };
  /** The sandbox's init (the helper) on the host, once it has said ready. */
  private init?: number;

  constructor(python: string, env: Record<string, string>, script = helperScript) {
    // fd 3: the host's /proc, opened before the sandbox mounts its own: the helper finds
    // its nodes' host PIDs through it.
    const hostProc = openSync('/proc', constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      this.child = spawn('unshare', [...SANDBOX_ARGS, '--', python, script], {
        stdio: ['pipe', 'pipe', 'pipe', hostProc],
        // setuptools' distutils shim costs Mininet's import ~0.25 s; the stdlib one is enough.
        env: { ...process.env, ...env, SETUPTOOLS_USE_DISTUTILS: 'stdlib', PYTHONWARNINGS: 'ignore' },
        // Its own process group: a terminal's Ctrl-C reaches warplab, which then cleans up.
        detached: true,
      });
    } finally {
      closeSync(hostProc);
    }
    if (this.child.pid === undefined) {
      // spawn failed synchronously-ish; the 'error' event carries the reason.
      this.pid = -1;
    } else {
      this.pid = this.child.pid;
    }
    this.ready = new Promise((resolve, reject) => (this.settleReady = { resolve, reject }));
    this.ready.catch(() => {});
    this.exited = new Promise((resolve) => {
      this.child.on('error', (e) => {
        this.fail(`could not start unshare: ${e.message}`);
        resolve(this.gone!);
      });
      this.child.on('exit', (code, sig) => {
        this.fail(sig ? `killed by ${sig}` : `exited with status ${code}`);
        resolve(this.gone!);
      });
    });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (d: string) => this.onData(d));
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (d: string) => (this.stderrTail = (this.stderrTail + d).slice(-8000)));
    this.child.stdin!.on('error', () => {}); // the helper may be gone; its exit explains why
  }

  private onData(d: string): void {
    this.buf += d;
    for (let nl = this.buf.indexOf('\n'); nl >= 0; nl = this.buf.indexOf('\n')) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (!line.trim()) continue;
      let msg: Record<string, any>;
      try {
        msg = JSON.parse(line);
      } catch {
        this.stderrTail += `\n(stdout) ${line}`;
        continue;
      }
      if (msg.event === 'ready') {
        this.init = msg.hostPid;
        this.settleReady?.resolve({ hostPid: msg.hostPid, mininet: msg.mininet });
      }
      else if (msg.event) this.onEvent?.(msg as HelperEvent);
      else this.settle(msg);
    }
  }

  private settle(msg: Record<string, any>): void {
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    this.cleanup(p);
    if (msg.ok) p.resolve(msg);
    else p.reject(new SubstrateError(`Mininet helper: ${p.op} failed: ${msg.error}`));
    this.refresh();
  }

  private cleanup(p: Pending): void {
    if (p.timer) clearTimeout(p.timer);
    p.onAbort?.();
  }

  private fail(why: string): void {
    if (this.gone) return;
    this.gone = why;
    const err = () => new SubstrateError(`the Mininet sandbox (pid ${this.pid}) ${why}${this.stderrTail.trim() ? `:\n    ${this.stderrTail.trim().split('\n').slice(-12).join('\n    ')}` : ''}`);
    this.settleReady?.reject(err());
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      this.cleanup(p);
      p.reject(err());
    }
  }

  /** One request, its reply (`ok: false` becomes a SubstrateError). */
  request(op: string, args: Record<string, unknown> = {}, opts: RequestOptions = {}): Promise<Record<string, any>> {
    if (this.gone) return Promise.reject(new SubstrateError(`the Mininet sandbox (pid ${this.pid}) ${this.gone}`));
    if (opts.signal?.aborted) return Promise.reject(new Interrupted(`interrupted before ${op}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const p: Pending = { op, resolve, reject };
      if (opts.timeoutMs) {
        p.timer = setTimeout(() => {
          this.pending.delete(id);
          this.cleanup(p);
          reject(new ReadinessTimeout(`Mininet helper: ${op} got no answer within ${opts.timeoutMs} ms`));
          this.refresh();
        }, opts.timeoutMs);
      }
      if (opts.signal) {
        const abort = () => {
          this.pending.delete(id);
          this.cleanup(p);
          reject(new Interrupted(`interrupted during ${op}`));
          this.refresh();
        };
        opts.signal.addEventListener('abort', abort, { once: true });
        p.onAbort = () => opts.signal!.removeEventListener('abort', abort);
      }
      this.pending.set(id, p);
      this.refresh();
      this.child.stdin!.write(JSON.stringify({ ...args, id, op }) + '\n');
    });
  }

  /**
   * From now on the sandbox outlives this process (a lab that is up survives the
   * orchestrator); until then, EOF on the helper's stdin ends it.
   */
  async detach(): Promise<void> {
    await this.request('detach');
    this.detached = true;
    this.refresh();
  }

  /** A detached, idle helper does not keep this process alive. */
  private refresh(): void {
    const hold = !this.detached || this.pending.size > 0;
    for (const h of [this.child, this.child.stdin, this.child.stdout, this.child.stderr] as unknown as { ref?: () => void; unref?: () => void }[]) {
      if (hold) h?.ref?.();
      else h?.unref?.();
    }
  }

  get alive(): boolean {
    return !this.gone;
  }

  /**
   * Ends the sandbox: SIGKILL to its init, which unshare reaps before exiting, so `exited`
   * means the sandbox is empty; before the helper has said ready, to unshare (--kill-child
   * passes it on).
   */
  kill(): void {
    if (this.gone || this.pid < 0) return;
    try {
      process.kill(this.init ?? this.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}
