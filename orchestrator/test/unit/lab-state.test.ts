// The lab state file (no root): updates from several processes at once lose nothing, a lock
// left by a dead process is broken, and process records stay bounded.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { attach } from '../../lab/lab.js';
import { processId } from '../../lab/processes.js';
import { LabDir, type LabState } from '../../lab/state.js';
import { packageRoot } from '../../paths.js';
import { parseTopology } from '../../topology/load.js';
import { removeDir, tempStateDir } from '../helpers.js';

const stateJs = join(packageRoot, 'dist', 'orchestrator', 'lab', 'state.js');

function initial(): LabState {
  const topology = parseTopology('name: st\nnodes: {a: {kind: host}}\n');
  return { version: 1, name: 'st', id: 'ab', mark: 'warplab:st:ab', substrate: 'netns', status: 'up', createdAt: '', topology, objects: [], processes: [] };
}

/** A node process that runs `body` (ESM, with LabDir imported) and resolves with its exit code. */
function child(body: string, env: Record<string, string>): { ready: Promise<void>; exited: Promise<number | null>; stderr: () => string } {
  const p = spawn(process.execPath, ['--input-type=module', '-e', `import { LabDir } from ${JSON.stringify(stateJs)};\n${body}`], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d) => (err += d));
  return {
    ready: new Promise((resolve) => p.stdout.once('data', () => resolve())),
    exited: new Promise((resolve) => p.on('exit', resolve)),
    stderr: () => err,
  };
}

describe('lab state', function () {
  let root: string;
  beforeEach(() => (root = tempStateDir()));
  afterEach(() => removeDir(root));

  it('updates from several processes at once lose no record', async () => {
    const dir = LabDir.create(root, 'st', initial());
    const [writers, each] = [4, 150];
    // Each writer appends its own records, one update each, all starting at one signal.
    const go = join(root, 'go');
    const body = `
      const dir = LabDir.open(process.env.ROOT, 'st');
      console.log('ready');
      while (!(await import('node:fs')).existsSync(process.env.GO)) await new Promise((r) => setTimeout(r, 1));
      for (let i = 0; i < ${each}; i++) dir.update((s) => ({ ...s, processes: [...s.processes, { pid: i, node: process.env.WRITER, argv: [], startedAt: '' }] }));`;
    const kids = Array.from({ length: writers }, (_, k) => child(body, { ROOT: root, GO: go, WRITER: `w${k}` }));
    await Promise.all(kids.map((k) => k.ready));
    writeFileSync(go, '');
    assert.deepEqual(await Promise.all(kids.map((k) => k.exited)), Array(writers).fill(0), kids.map((k) => k.stderr()).join('\n'));

    const got = dir.read().processes.map((p) => `${p.node}:${p.pid}`);
    assert.equal(got.length, writers * each, `${writers * each - got.length} records lost`);
    for (let k = 0; k < writers; k++) {
      const mine = dir.read().processes.filter((p) => p.node === `w${k}`).map((p) => p.pid);
      assert.deepEqual(mine, Array.from({ length: each }, (_, i) => i), `writer w${k}'s records, in its order`);
    }
    assert.deepEqual(readdirSync(dir.path), ['state.json'], 'no lock or temp file left');
  });

  it('breaks a lock left by a dead process, and waits for a live one', async () => {
    const dir = LabDir.create(root, 'st', initial());
    const lock = join(dir.path, 'state.lock');
    const crashed = spawn('sleep', ['30']);
    const id = processId(crashed.pid!)!;
    crashed.kill('SIGKILL');
    await new Promise((r) => crashed.on('exit', r));
    // Left behind by a crash: the lock, and a claim on it by a waiter that died breaking it.
    writeFileSync(lock, `${id.pid}-${id.start}`);
    writeFileSync(`${lock}.${id.pid}-${id.start}`, `${id.pid}-${id.start}`);
    dir.update((s) => ({ ...s, status: 'destroying' }));
    assert.equal(dir.read().status, 'destroying');
    assert.deepEqual(readdirSync(dir.path), ['state.json'], 'the stale lock and claim are gone, and so are the claims that broke them');

    const holder = child(
      `LabDir.open(process.env.ROOT, 'st').update((s) => {
         console.log('holding');
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
         return { ...s, status: 'creating' };
       });`,
      { ROOT: root },
    );
    await holder.ready;
    let seen: string | undefined;
    dir.update((s) => ((seen = s.status), { ...s, status: 'up' }));
    assert.equal(seen, 'creating', "this update waited for the holder's");
    assert.equal(await holder.exited, 0, holder.stderr());
    assert.equal(dir.read().status, 'up');
  });

  it('forgets exited processes when it records a new one: a long run keeps a bounded list, down still finds every live one', async () => {
    LabDir.create(root, 'st', initial());
    const lab = attach('st', root);
    const host = lab.hostShell();
    const live = host.spawn(['sleep', '30']);
    const unmarked = spawn('sleep', ['30']); // e.g. a PID reused by someone else since it was recorded
    try {
      LabDir.open(root, 'st').update((s) => ({ ...s, processes: [...s.processes, { pid: unmarked.pid!, node: 'a', argv: ['sleep'], startedAt: '' }] }));
      for (let i = 0; i < 50; i++) await host.spawn(['true']).exited; // a probe per trial
      const last = host.spawn(['sleep', '30']);
      assert.deepEqual(lab.snapshot.processes.map((p) => p.pid), [live.pid, last.pid], 'the running, marked ones: what down signals');
      last.kill('SIGKILL');
    } finally {
      live.kill('SIGKILL');
      unmarked.kill('SIGKILL');
    }
  });
});
