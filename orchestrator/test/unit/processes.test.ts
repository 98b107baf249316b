// Stopping a lab's processes (no root): signals only to what the caller still owns, no
// error for what exited meanwhile, and "gone" means reaped.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { alive, endThrough, processId, reaped, terminate, unreaped } from '../../lab/processes.js';
import { LocalShell } from '../../shell/local.js';

/** The child of `pid` once `pid` runs `sleep` (its shell has exec'd). */
async function childOfSleep(pid: number): Promise<number> {
  for (;;) {
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    if (comm === 'sleep' && children) return Number(children.split(' ')[0]);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('lab processes', () => {
  it('terminate signals only the processes the caller still owns, and takes an exited one in stride', async () => {
    const [mine, theirs, exited] = [spawn('sleep', ['30']), spawn('sleep', ['30']), spawn('true')];
    await once(exited, 'exit');
    try {
      const stopped = await terminate([mine.pid!, theirs.pid!, exited.pid!], (p) => p !== theirs.pid, 2000);
      assert.deepEqual(stopped.map((p) => p.pid), [mine.pid]);
      assert.ok(!alive(mine.pid!) && alive(theirs.pid!));
    } finally {
      theirs.kill('SIGKILL');
    }
  });

  it('reaped waits for the parent to reap, and names a parent that does not', async () => {
    // A shell that starts a child and then becomes a `sleep`, which never waits for it. The
    // child is stopped only once the shell is gone: before its exec, sh would reap it itself.
    const parent = spawn('sh', ['-c', 'sleep 30 & exec sleep 30'], { stdio: 'ignore' });
    const child = await childOfSleep(parent.pid!);
    const id = processId(child)!;
    const [stopped] = await terminate([child], () => true, 2000);
    assert.deepEqual(stopped, id);
    assert.ok(!alive(child) && unreaped(id), 'a zombie: exited, PID still held');

    const said: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((s: string) => (said.push(s), true)) as typeof process.stderr.write;
    try {
      assert.deepEqual(await reaped([id], 200), [id]);
    } finally {
      process.stderr.write = write;
    }
    assert.match(said.join(''), new RegExp(`process ${child} has exited, but its parent, pid ${parent.pid} \\(sleep\\), has not reaped it within 0.2 s`));

    parent.kill('SIGKILL'); // its zombie goes to init, which reaps it
    await once(parent, 'exit');
    assert.deepEqual(await reaped([id], 30_000), []);
  });

  it("endThrough ends a PID through a Shell only while it carries the lab's mark, and waits until it is gone", async () => {
    const mark = 'warplab:t:endthrough';
    const shell = new LocalShell('this machine');
    const mine = spawn('sleep', ['30'], { env: { ...process.env, WARPLAB_LAB: mark } });
    const theirs = spawn('sleep', ['30'], { env: { ...process.env, WARPLAB_LAB: `${mark}x` } });
    const exited = once(mine, 'exit');
    try {
      await endThrough(shell, mine.pid!, mark, 2000);
      await endThrough(shell, theirs.pid!, mark, 2000);
      const [, signal] = (await exited) as [number | null, string | null];
      assert.equal(signal, 'SIGTERM');
      assert.ok(alive(theirs.pid!), 'a process with another mark is left alone');
      await endThrough(shell, mine.pid!, mark, 2000); // gone already: nothing to do, no error
    } finally {
      theirs.kill('SIGKILL');
    }
  });
});
