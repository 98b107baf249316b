// Runs commands on the orchestrator's machine, optionally behind a prefix that enters a
// namespace (`nsenter --net=…`): the netns substrate's Shell is this with a prefix.
import { spawn as spawnChild } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { ExecError, Interrupted } from '../errors.js';
import type { BackgroundProcess, ExecOptions, ExecResult, Shell, SpawnOptions } from './shell.js';

export class LocalShell implements Shell {
  constructor(
    readonly where = 'local',
    /** Prepended to every argv, e.g. ['nsenter', '--net=/run/netns/x', '--']. */
    private readonly prefix: readonly string[] = [],
    /** Set on every process started here: the lab's ownership mark. */
    private readonly baseEnv: Record<string, string> = {},
    /** Told about every background process, so the lab can record it. */
    private readonly onSpawn?: (p: BackgroundProcess) => void,
  ) {}

  exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const full = [...this.prefix, ...argv];
    const started = performance.now();
    return new Promise((resolve, reject) => {
      if (opts.signal?.aborted) return reject(new Interrupted(`interrupted before: ${argv.join(' ')}`));
      const child = spawnChild(full[0]!, full.slice(1), {
        env: { ...process.env, ...this.baseEnv, ...opts.env },
        stdio: ['pipe', 'pipe', 'pipe'],
        signal: opts.signal,
        timeout: opts.timeoutMs,
        // Own process group: a terminal's Ctrl-C reaches only warplab, which then stops
        // cleanly, never a half-done `ip` or an agent.
        detached: true,
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.stdin.on('error', () => {}); // command may exit before reading its input
      child.stdin.end(opts.input ?? '');
      child.on('error', (e) => {
        if (opts.signal?.aborted) reject(new Interrupted(`interrupted: ${argv.join(' ')}`));
        else reject(new ExecError(argv, this.where, null, '', String(e.message), performance.now() - started));
      });
      child.on('close', (code, sig) => {
        const res: ExecResult = {
          argv,
          exitCode: code ?? -1,
          stdout: Buffer.concat(out).toString(),
          stderr: Buffer.concat(err).toString(),
          durationMs: performance.now() - started,
        };
        if (opts.signal?.aborted) return reject(new Interrupted(`interrupted: ${argv.join(' ')}`));
        if ((code !== 0 || sig) && opts.check !== false) {
          const why = sig && opts.timeoutMs ? `${res.stderr}\n(timed out after ${opts.timeoutMs} ms)` : res.stderr;
          return reject(new ExecError(argv, this.where, code, res.stdout, why, res.durationMs));
        }
        resolve(res);
      });
    });
  }

  spawn(argv: readonly string[], opts: SpawnOptions = {}): BackgroundProcess {
    const full = [...this.prefix, ...argv];
    const log = opts.logFile ? openSync(opts.logFile, 'a', 0o600) : undefined;
    const child = spawnChild(full[0]!, full.slice(1), {
      env: { ...process.env, ...this.baseEnv, ...opts.env },
      stdio: opts.inherit ? 'inherit' : log !== undefined ? ['ignore', log, log] : ['ignore', opts.stdout ? 'pipe' : 'ignore', opts.stderr ? 'pipe' : 'ignore'],
      detached: !opts.inherit,
    });
    if (log !== undefined) {
      closeSync(log);
      child.unref();
    }
    if (opts.stdout) child.stdout!.pipe(opts.stdout);
    if (opts.stderr) child.stderr!.pipe(opts.stderr);
    const exited = new Promise<number | null>((resolve) => {
      child.on('error', () => resolve(null));
      child.on('exit', (code, sig) => resolve(code ?? (sig ? null : -1)));
    });
    const proc: BackgroundProcess = {
      pid: child.pid ?? -1,
      argv,
      exited,
      kill: (signal = 'SIGTERM') => {
        child.kill(signal);
      },
    };
    if (child.pid !== undefined) this.onSpawn?.(proc);
    return proc;
  }
}
