// A VM guest's control channel without a VM: the framing, the guest's ctl-serve under the
// host's busybox, and VmShell talking to it through unix sockets that stand in for QEMU's
// (two of them, one after the other, as after a migration).
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { ExecError, LabError } from '../../errors.js';
import { LocalMachine, MachineSocket } from '../../lab/machine.js';
import { packageRoot } from '../../paths.js';
import { decodeResponse, encodeRequest, guestScript, newRequestId } from '../../workload/ctl-frame.js';
import { VmShell } from '../../workload/vm-shell.js';
import { removeDir, tempStateDir } from '../helpers.js';

const ctlServe = join(packageRoot, 'agents', 'vm-guest', 'ctl-serve');
const busybox = '/bin/busybox';

describe('VM control channel', () => {
  describe('framing', () => {
    it('a request is one line (the script in base64) and then the input, byte for byte', () => {
      const r = encodeRequest({ id: 'ab12', script: "echo 'hé'", input: 'x\ny', timeoutS: 3 });
      const nl = r.indexOf(0x0a);
      const [magic, id, timeout, len, script] = r.subarray(0, nl).toString().split(' ');
      assert.deepEqual([magic, id, timeout, len], ['warplab-ctl', 'ab12', '3', '3']);
      assert.equal(Buffer.from(script!, 'base64').toString(), "echo 'hé'");
      assert.equal(r.subarray(nl + 1).toString(), 'x\ny');
      assert.match(newRequestId(), /^[0-9a-f]{16}$/);
    });

    it('argv and env become a sh script that gives back the same words', () => {
      assert.equal(guestScript(['ip', '-4', 'addr']), 'ip -4 addr');
      assert.equal(guestScript(['sh', '-c', `echo "a b" 'c'`]), `sh -c 'echo "a b" '\\''c'\\'''`);
      assert.equal(guestScript(['printenv', 'A'], { A: 'x y' }), `env 'A=x y' printenv A`);
    });

    it('a response is complete only with all of its bytes; what came before it is skipped', () => {
      const body = Buffer.from('out é\nerr');
      const stream = Buffer.concat([
        Buffer.from('warplab-ctl ready\n'),
        // A stale answer, to someone who went away, whose output looks like our header mid-line.
        Buffer.from('warplab-ctl 0ld 0 20 0\nxwarplab-ctl 1d 9 0 0\n\nwarplab-ctl ready\n'),
        Buffer.from(`warplab-ctl 1d 3 ${Buffer.byteLength('out é\n')} 3\n`),
        body,
        Buffer.from('warplab-ctl ready\n'),
      ]);
      const end = stream.length - 'warplab-ctl ready\n'.length;
      for (let n = 0; n < end; n++) assert.equal(decodeResponse(stream.subarray(0, n), '1d'), undefined, `after ${n} bytes`);
      assert.deepEqual(decodeResponse(stream.subarray(0, end), '1d'), { exitCode: 3, stdout: 'out é\n', stderr: 'err' });
      assert.deepEqual(decodeResponse(stream, '1d'), { exitCode: 3, stdout: 'out é\n', stderr: 'err' });
    });

    it('a malformed header for our request is an error, not a wait', () => {
      assert.throws(() => decodeResponse(Buffer.from('warplab-ctl 1d oops\n'), '1d'), /answered request 1d with "oops"/);
    });
  });

  describe("the guest's ctl-serve, with the host's busybox", function () {
    let dir: string;
    let guest: ChildProcessWithoutNullStreams;
    before(function () {
      if (!existsSync(busybox)) {
        console.log(`      (skipped: no ${busybox}: apt-get install busybox-static)`);
        this.skip();
      }
      dir = tempStateDir();
      guest = spawn(busybox, ['sh', ctlServe], { env: { PATH: '/nonexistent', CTL_DIR: join(dir, 'run') } });
    });
    after(() => {
      guest?.kill('SIGKILL');
      if (dir) removeDir(dir);
    });

    /** One request on the guest's stdin, its response from the guest's stdout. */
    const ask = (script: string, o: { input?: string; timeoutS?: number; garbage?: string } = {}) =>
      new Promise<ReturnType<typeof decodeResponse>>((resolve) => {
        const id = newRequestId();
        let got = Buffer.alloc(0);
        const onData = (d: Buffer) => {
          got = Buffer.concat([got, d]);
          const r = decodeResponse(got, id);
          if (!r) return;
          guest.stdout.off('data', onData);
          resolve(r);
        };
        guest.stdout.on('data', onData);
        guest.stdin.write(Buffer.concat([Buffer.from(o.garbage ?? ''), encodeRequest({ id, script, input: o.input ?? '', timeoutS: o.timeoutS ?? 0 })]));
      });

    it('answers exit status, stdout and stderr apart, and passes the input', async () => {
      assert.deepEqual(await ask('cat; echo oops >&2; exit 3', { input: 'in\nput' }), { exitCode: 3, stdout: 'in\nput', stderr: 'oops\n' });
    });

    it('runs argv as given: spaces, quotes, newlines, an empty word', async () => {
      const words = ['a b', `it's "x"`, 'two\nlines', ''];
      const r = await ask(guestScript(['printf', '[%s]', ...words]));
      assert.deepEqual(r, { exitCode: 0, stdout: words.map((w) => `[${w}]`).join(''), stderr: '' });
    });

    it('skips lines that are no request (the rest of an abandoned one)', async () => {
      assert.deepEqual(await ask('echo ok', { garbage: 'half a request\nwarplab-ctl x\n' }), { exitCode: 0, stdout: 'ok\n', stderr: '' });
    });

    it('kills a command at its timeout', async () => {
      const t0 = Date.now();
      const r = await ask('sleep 10', { timeoutS: 1 });
      assert.equal(r?.exitCode, 137);
      assert.ok(Date.now() - t0 < 5000, `answered after ${Date.now() - t0} ms`);
    });
  });

  describe('VmShell over a unix socket', function () {
    this.timeout(10_000);
    let dir: string;
    let guest: ChildProcessWithoutNullStreams;
    let qemu: Server | undefined;

    /** Stands in for a QEMU's socket chardev: each client in turn talks to the one guest. */
    const listen = (path: string) =>
      new Promise<Server>((resolve) => {
        const s = createServer((sock) => {
          guest.stdout.pipe(sock);
          sock.pipe(guest.stdin, { end: false });
          sock.on('close', () => guest.stdout.unpipe(sock));
          sock.on('error', () => {}); // the client went away (a timeout): as QEMU, carry on
        });
        s.listen(path, () => resolve(s));
      });
    const close = (s: Server | undefined) => new Promise<void>((r) => (s ? s.close(() => r()) : r()));

    before(function () {
      if (!existsSync(busybox)) {
        console.log(`      (skipped: no ${busybox}: apt-get install busybox-static)`);
        this.skip();
      }
      dir = tempStateDir();
      guest = spawn(busybox, ['sh', ctlServe], { env: { PATH: '/nonexistent', CTL_DIR: join(dir, 'run') } });
    });
    after(async () => {
      await close(qemu);
      guest?.kill('SIGKILL');
      if (dir) removeDir(dir);
    });

    it('runs commands, keeps stderr apart, throws ExecError on a failure unless told not to', async () => {
      qemu = await listen(join(dir, 'pdc-hv.ctl.sock'));
      const sh = new VmShell('vm vm-a on pdc-hv', new MachineSocket(new LocalMachine(dir), join(dir, 'pdc-hv.ctl.sock')));
      const r = await sh.exec(['sh', '-c', 'cat; echo err >&2'], { input: 'hello', env: { X: '1' } });
      assert.deepEqual([r.exitCode, r.stdout, r.stderr], [0, 'hello', 'err\n']);
      assert.equal((await sh.exec(['sh', '-c', 'echo $X'], { env: { X: 'a b' } })).stdout, 'a b\n');
      const failed = await sh.exec(['sh', '-c', 'echo no >&2; exit 4']).then(
        () => assert.fail('should throw'),
        (e: unknown) => e,
      );
      assert.ok(failed instanceof ExecError && failed.exitCode === 4 && /on vm vm-a on pdc-hv/.test(failed.message), String(failed));
      assert.equal((await sh.exec(['false'], { check: false })).exitCode, 1);
      assert.throws(() => sh.spawn(['sleep', '1']), /not supported on a VM workload/);
    });

    it('a timeout answers -1 at once; the next command still gets its own answer', async () => {
      const sh = new VmShell('vm vm-a on pdc-hv', new MachineSocket(new LocalMachine(dir), join(dir, 'pdc-hv.ctl.sock')));
      const t0 = Date.now();
      const r = await sh.exec(['sleep', '10'], { timeoutMs: 300, check: false });
      assert.equal(r.exitCode, -1);
      assert.match(r.stderr, /timed out after 300 ms/);
      assert.ok(Date.now() - t0 < 1500);
      // The guest answers the abandoned one first (its own limit: 2 s), then this one.
      assert.equal((await sh.exec(['echo', 'next'], { timeoutMs: 10_000 })).stdout, 'next\n');
    });

    it("after a move, the destination's socket reaches the same guest", async () => {
      await close(qemu);
      qemu = await listen(join(dir, 'adc-hv.ctl.sock'));
      const sh = new VmShell('vm vm-a on adc-hv', new MachineSocket(new LocalMachine(dir), join(dir, 'adc-hv.ctl.sock')));
      assert.equal((await sh.exec(['echo', 'moved'])).stdout, 'moved\n');
      const gone = new VmShell('vm vm-a on pdc-hv', new MachineSocket(new LocalMachine(dir), join(dir, 'pdc-hv.ctl.sock')));
      await assert.rejects(gone.exec(['true']), (e: unknown) => e instanceof LabError && /cannot reach the VM's control channel/.test(e.message));
    });
  });
});
