// The one test-helper file: fixtures, a recording Shell, root gating and leak checks.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'mocha';
import { packageRoot } from '../paths.js';
import type { BackgroundProcess, ExecOptions, ExecResult, Shell, SpawnOptions } from '../shell/shell.js';

export const fixtures = join(packageRoot, 'orchestrator', 'test', 'fixtures');
export const shippedTopologies = readdirSync(join(packageRoot, 'topologies'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => join(packageRoot, 'topologies', f));

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Integration suites call this in `before`: they need root for namespaces. */
export function requireRoot(ctx: Context): void {
  if (!isRoot()) {
    console.log('      (skipped: needs root to create network namespaces; run the tests as root)');
    ctx.skip();
  }
}

export function tempStateDir(): string {
  return mkdtempSync(join(tmpdir(), 'warplab-test-'));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Records argv and input of every command, answers from a script. */
export class RecordingShell implements Shell {
  readonly where = 'fake';
  readonly calls: { argv: string[]; input?: string }[] = [];
  constructor(private readonly answer: (argv: readonly string[]) => Partial<ExecResult> = () => ({})) {}

  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    this.calls.push({ argv: [...argv], ...(opts.input !== undefined ? { input: opts.input } : {}) });
    return { argv, exitCode: 0, stdout: '', stderr: '', durationMs: 0, ...this.answer(argv) };
  }

  spawn(argv: readonly string[], _opts?: SpawnOptions): BackgroundProcess {
    this.calls.push({ argv: [...argv] });
    return { pid: 0, argv, exited: Promise.resolve(0), kill: () => {} };
  }
}

/** Namespaces whose name belongs to the lab. */
export function labNamespaces(lab: string): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(`wl-${lab}-`));
}

/** PIDs of processes that carry a lab's mark (any mark of that lab name). */
export function labProcesses(lab: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${p}/environ`, 'latin1').includes(`WARPLAB_LAB=warplab:${lab}:`)) pids.push(Number(p));
    } catch {
      /* exited meanwhile */
    }
  }
  return pids;
}

/** Links in the root namespace: a lab must never add any. */
export function rootLinks(): string[] {
  return execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(': ')[1]!.split('@')[0]!);
}
