// What a workload's Shell makes of a command's answer: an ExecResult as from any Shell. The
// command runs inside the workload under its own limit, a little after the host's, so that
// the host's answer is the timeout and nothing keeps running for long after it.
import { ExecError } from '../errors.js';
import type { ExecOptions, ExecResult } from '../shell/shell.js';

export interface Answer {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** The workload's own limit (whole seconds) for a command the host waits `timeoutMs` for; 0: none. */
export function insideLimitS(timeoutMs: number | undefined): number {
  return timeoutMs ? Math.ceil(timeoutMs / 1000) + 1 : 0;
}

/** undefined: the host's deadline came first (exit -1, as a timed-out LocalShell command). */
export function answerResult(where: string, argv: readonly string[], answer: Answer | undefined, opts: ExecOptions, durationMs: number): ExecResult {
  const res: ExecResult = answer ? { argv, ...answer, durationMs } : { argv, exitCode: -1, stdout: '', stderr: `(timed out after ${opts.timeoutMs} ms)`, durationMs };
  if (res.exitCode !== 0 && opts.check !== false) throw new ExecError(argv, where, res.exitCode, res.stdout, res.stderr, durationMs);
  return res;
}
