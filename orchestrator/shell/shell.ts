// Every node exposes one Shell; where it runs (netns, Mininet node, container, SSH host)
// is decided by which Shell a substrate hands out, never by subclassing the node.
import type { WriteStream } from 'node:fs';

export interface ExecOptions {
  /** Written to the command's stdin. */
  input?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Throw ExecError on a non-zero exit (default true). */
  check?: boolean;
}

export interface ExecResult {
  argv: readonly string[];
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface SpawnOptions {
  env?: Record<string, string>;
  /** Where stdout/stderr go (a file on the orchestrator's machine); discarded when absent. */
  stdout?: WriteStream;
  stderr?: WriteStream;
  /** Attach this process's terminal (for `warplab exec`). */
  inherit?: boolean;
  /**
   * A daemon (an agent) that outlives this warplab process: its output goes to this file
   * on the orchestrator's machine and nothing waits for it.
   */
  logFile?: string;
}

/** A long-running process started through a Shell. */
export interface BackgroundProcess {
  /** PID as seen by the orchestrator's machine (what `down` kills); on an SSH host, the host's. */
  readonly pid: number;
  /** Resolves with the PID where it is not known at once (an SSH host tells it; `pid` is -1 until then). */
  readonly started?: Promise<number>;
  readonly argv: readonly string[];
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
}

export interface Shell {
  /** Human-readable place, used in errors: `netns wl-icoin-R1`. */
  readonly where: string;
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  spawn(argv: readonly string[], opts?: SpawnOptions): BackgroundProcess;
}

/** Whether `cmd` is on the PATH where the Shell runs. */
export async function hasCommand(shell: Shell, cmd: string): Promise<boolean> {
  return (await shell.exec(['sh', '-c', `command -v ${shQuote(cmd)}`], { check: false })).exitCode === 0;
}

/** Quote one argument for a POSIX shell. */
export function shQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
