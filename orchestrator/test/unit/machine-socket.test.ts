// A node's unix socket as reached from another node's machine (no root): on the same machine
// the path itself, on another one a relay socket there whose connections are carried on to
// it, both ways, and gone once closed.
import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { connectUnix, LocalMachine, MachineSocket, type NodeMachine } from '../../lab/machine.js';
import { removeDir, tempStateDir } from '../helpers.js';

/** This machine under another name: what an SSH host looks like to MachineSocket. */
function elsewhere(name: string, dir: string): NodeMachine {
  const local = new LocalMachine(dir);
  return { where: `host ${name}`, labDir: dir, place: (p) => local.place(p), connect: (p) => local.connect(p), listen: (p, s) => local.listen(p, s), read: (p) => local.read(p), write: (p, c) => local.write(p, c) };
}

describe('MachineSocket', () => {
  let dir: string;
  beforeEach(() => (dir = tempStateDir()));
  afterEach(() => removeDir(dir));

  it('is reached by its own path from the same machine: no relay', async () => {
    const sock = new MachineSocket(new LocalMachine(dir), join(dir, 'agent.sock'));
    const r = await sock.reachedFrom(new LocalMachine('/elsewhere'), join(dir, 'relay.sock'));
    assert.equal(r.path, join(dir, 'agent.sock'));
    assert.ok(!existsSync(join(dir, 'relay.sock')));
    assert.equal(sock.where, join(dir, 'agent.sock'));
  });

  it('from another machine: a relay there carries each connection both ways, and closing removes it', async () => {
    // The "agent": answers each line with its upper case.
    const agent = createServer((c) => c.on('data', (d) => c.write(d.toString().toUpperCase())));
    agent.listen(join(dir, 'agent.sock'));
    await once(agent, 'listening');
    try {
      const sock = new MachineSocket(elsewhere('r', dir), join(dir, 'agent.sock'));
      assert.equal(sock.where, `${join(dir, 'agent.sock')} on host r`);
      const relay = await sock.reachedFrom(elsewhere('hv', dir), join(dir, 'relay.sock'));
      assert.equal(relay.path, join(dir, 'relay.sock'));
      for (const word of ['switch a', 'switch b']) {
        const c = await connectUnix(relay.path);
        c.write(`${word}\n`);
        const [answer] = (await once(c, 'data')) as [Buffer];
        assert.equal(answer.toString(), `${word.toUpperCase()}\n`);
        c.destroy();
      }
      await relay.close();
      assert.ok(!existsSync(relay.path), 'the relay socket is removed');
    } finally {
      agent.close();
    }
  });

  it("a relay whose target does not answer closes the caller's connection instead of hanging", async () => {
    const sock = new MachineSocket(elsewhere('r', dir), join(dir, 'nobody.sock'));
    const relay = await sock.reachedFrom(elsewhere('hv', dir), join(dir, 'relay.sock'));
    try {
      const c = await connectUnix(relay.path);
      await once(c, 'close');
    } finally {
      await relay.close();
    }
  });
});
