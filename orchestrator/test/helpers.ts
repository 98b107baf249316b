// The one test-helper file: fixtures, a recording Shell, root gating and leak checks.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'mocha';
import { packageRoot } from '../paths.js';
import type { BackgroundProcess, ExecOptions, ExecResult, Shell, SpawnOptions } from '../shell/shell.js';
import { down, listLabs } from '../lab/lab.js';
import type { LabState } from '../lab/state.js';
import { getSubstrate, substrateNames } from '../substrate/registry.js';
import { parseTopology } from '../topology/load.js';
import type { Topology } from '../topology/model.js';
import { workloadsMissing } from '../workload/start.js';

export const fixtures = join(packageRoot, 'orchestrator', 'test', 'fixtures');
const yamlFilesIn = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => join(dir, f));
export const shippedTopologies = yamlFilesIn(join(packageRoot, 'topologies'));
export const shippedScenarios = yamlFilesIn(join(packageRoot, 'topologies', 'scenarios'));

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

/** Skips a test, saying why, where this machine cannot run the topology's workloads. */
export async function requireWorkloads(ctx: Context, t: Topology): Promise<void> {
  const missing = await workloadsMissing(t);
  if (missing.length) {
    console.log(`      (skipped: ${missing.join('; ')})`);
    ctx.skip();
  }
}

export function tempStateDir(): string {
  return mkdtempSync(join(tmpdir(), 'warplab-test-'));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** After a test: every lab still recorded in its state dir is taken down (a failed test must
 *  not leave its lab for the next), then the dir is removed. */
export async function cleanStateDir(stateDir: string): Promise<void> {
  for (const l of listLabs(stateDir)) await down(l.name, stateDir);
  removeDir(stateDir);
}

/** After a test: its run directory is kept, and named, when it failed; removed otherwise. */
export function keepRunDirIfFailed(ctx: Context, dir: string): void {
  if (ctx.currentTest?.state === 'failed') console.log(`      run directory kept for inspection: ${dir}`);
  else removeDir(dir);
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

/**
 * Lab names for integration tests: WARPLAB_TEST_TAG (e.g. "-m") is appended, so that two
 * people running the same suite on one machine never share namespaces or marks. Lab names
 * have at most 16 characters: the name is shortened to keep the tag.
 */
export function testName(name: string): string {
  const tag = process.env.WARPLAB_TEST_TAG ?? '';
  if (!tag) return name;
  if (!/^[a-z0-9-]{1,8}$/.test(tag)) throw new Error(`WARPLAB_TEST_TAG="${tag}": use up to 8 lowercase letters, digits or dashes, e.g. -m`);
  return name.slice(0, 16 - tag.length) + tag;
}

/** The topology under its test name (see testName). */
export function testTopology<T extends { name: string }>(t: T): T {
  return { ...t, name: testName(t.name) };
}

/**
 * The substrates integration suites run on: WARPLAB_TEST_SUBSTRATES (comma list), else all
 * registered that build on this machine (one that spans hosts has its own suite, on the SSH rig).
 */
export function testSubstrates(): string[] {
  const env = process.env.WARPLAB_TEST_SUBSTRATES;
  return env ? env.split(',').map((s) => s.trim()).filter(Boolean) : substrateNames().filter((n) => !getSubstrate(n).spansHosts);
}

/** In `before`: skips the suite, saying why, when this machine lacks the substrate. */
export async function requireSubstrate(ctx: Context, substrate: string): Promise<void> {
  requireRoot(ctx);
  const probe = parseTopology('name: probe\nnodes: {a: {kind: host}}\n');
  const missing = await getSubstrate(substrate).missing(probe);
  if (missing.length) {
    console.log(`      (skipped on ${substrate}: ${missing.join('; ')})`);
    ctx.skip();
  }
}

/** Clock ticks since boot, the unit of a process's start time in /proc/PID/stat. */
function ticksNow(): number {
  return Math.floor(Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 100);
}

/**
 * A lab's network namespaces while it is up (by inode: mininet's recorded nodes and sandbox,
 * netns's /run/netns files), and when they were looked at.
 */
export interface NetnsFootprint {
  inodes: number[];
  /** Clock ticks since boot. */
  at: number;
}

export function labNetnsInodes(state: LabState): NetnsFootprint {
  const paths = state.objects.filter((o) => o.kind === 'netns').map((o) => (o.netns?.startsWith('/proc/') ? o.netns : `/run/netns/${o.name}`));
  const inodes = new Set<number>();
  for (const p of paths) {
    try {
      inodes.add(statSync(p).ino);
    } catch {
      /* not made yet, or gone */
    }
  }
  return { inodes: [...inodes], at: ticksNow() };
}

/**
 * Processes still inside one of the footprint's namespaces ("inode pid command"). Only
 * processes that already ran when the footprint was taken count: the kernel reuses a freed
 * namespace's inode at once, and on a shared machine someone else's new namespace may get it.
 */
export function netnsStillHeld(f: NetnsFootprint | undefined): string[] {
  if (!f) return [];
  const want = new Set(f.inodes);
  const held: string[] = [];
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const ino = Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${p}/ns/net`))?.[1]);
      if (!want.has(ino)) continue;
      const started = Number(readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]);
      if (started > f.at) continue;
      held.push(`${ino} ${p} ${readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ').trim()}`);
    } catch {
      /* exited meanwhile */
    }
  }
  return held;
}

/** Something of the lab exists already (namespaces, or processes carrying its mark, e.g. a Mininet sandbox's nodes). */
export function labStarted(lab: string, minProcesses = 1): boolean {
  return labNamespaces(lab).length > 0 || labProcesses(lab).length >= minProcesses;
}

/**
 * Processes started in a lab that is up (agents, probes, workloads): those carrying its mark,
 * less a Mininet sandbox — its `unshare` and everything in its PID namespace carry the mark
 * too, for as long as the lab is up. On netns this is labProcesses.
 */
export function labStartedProcesses(lab: string): number[] {
  const ours = readlinkSync('/proc/self/ns/pid');
  return labProcesses(lab).filter((p) => {
    try {
      if (readlinkSync(`/proc/${p}/ns/pid`) !== ours) return false;
      return !/^unshare\0.*\0--\0[^\0]*python[^\0]*\0[^\0]*mininet\/helper\.py\0/.test(readFileSync(`/proc/${p}/cmdline`, 'latin1'));
    } catch {
      return false;
    }
  });
}
