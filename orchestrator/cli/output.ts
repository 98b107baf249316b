// Shared by the commands: tables for people, JSON for machines, progress only on a terminal.
import { Option } from 'commander';
import { defaultStateDir } from '../lab/state.js';
import type { ProgressEvent } from '../substrate/substrate.js';

export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** What a loader ignored or substituted (a containerlab file), on stderr so that stdout stays the result. */
export function printNotes(notes: readonly string[] = []): void {
  for (const n of notes) process.stderr.write(`warplab: note: ${n}\n`);
}

/** A one-line progress display on stderr when attached to a terminal; silent in CI and pipes. */
export function progressLine(): { onProgress: (e: ProgressEvent) => void; done: () => void } {
  const live = !!process.stderr.isTTY && !process.env.CI;
  let shown = false;
  const started = performance.now();
  return {
    onProgress: (e) => {
      if (!live) return;
      const secs = ((performance.now() - started) / 1000).toFixed(1);
      process.stderr.write(`\r\x1b[K${e.stage} ${e.done}/${e.total}  ${secs}s`);
      shown = true;
    },
    done: () => {
      if (shown) process.stderr.write('\r\x1b[K');
    },
  };
}

/** Ctrl-C and SIGTERM abort the operation (which cleans up) instead of killing the process. */
export function interruptible(): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (!ac.signal.aborted) process.stderr.write(`\nwarplab: ${sig}: stopping and removing what was made…\n`);
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: ac.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** Every lab command finds labs the same way. */
export function stateDirOption(): Option {
  return new Option('--state-dir <dir>', 'where labs are recorded (env WARPLAB_STATE_DIR)').default(defaultStateDir());
}
