// exec: run a command in a node or a workload and expect an exit status (0 unless told).
import { shQuote } from '../../shell/shell.js';
import type { StepKind } from '../step.js';
import { checkRunner, runnerShell } from './where.js';

interface ExecArgs {
  /** A node (a lan too) or a workload. */
  node: string;
  /** argv, or one string for `sh -c`. */
  command: string[] | string;
  expectExit: number;
  timeoutMs: number;
}

export const execStep: StepKind<ExecArgs> = {
  name: 'exec',
  summary: 'run a command in a node or a workload: `exec: {node: vm-a, command: "ip -4 addr", expect-exit: 0}`',
  parse: (raw) => ({ node: raw.node, command: raw.command, expectExit: raw['expect-exit'] ?? 0, timeoutMs: raw['timeout-ms'] ?? 30_000 }),
  describe: (a) => `exec on ${a.node}: ${typeof a.command === 'string' ? a.command : a.command.map(shQuote).join(' ')}${a.expectExit ? ` (expect exit ${a.expectExit})` : ''}`,
  check: (a, ctx) => {
    checkRunner(ctx, ['node'], a.node, { lan: true });
  },
  run: async (a, ctx) => {
    const argv = typeof a.command === 'string' ? ['sh', '-c', a.command] : a.command;
    const r = await runnerShell(ctx.lab, a.node).exec(argv, { check: false, timeoutMs: a.timeoutMs, ...(ctx.signal ? { signal: ctx.signal } : {}) });
    if (r.exitCode === a.expectExit) return;
    const timedOut = r.exitCode === -1 && r.durationMs >= a.timeoutMs;
    const err = r.stderr.trim().split('\n').slice(-3).join(' / ');
    return { failures: [timedOut ? `timed out after ${a.timeoutMs} ms` : `exit ${r.exitCode}, expected ${a.expectExit}${err ? `: ${err}` : ''}`] };
  },
};
