import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkpoint, restoreInto, startFromCheckpoint } from '../../workload/docker/checkpoint.js';
import type { CreateContainerOptions, DockerContainer, Dockerode } from '../../workload/docker/dockerode.js';
import { CheckpointError, RestoreError } from '../../workload/docker/errors.js';

/** dockerode's errors: an HTTP status and the engine's JSON message. */
function engineError(statusCode: number, message: string): Error {
  return Object.assign(new Error(`(HTTP code ${statusCode}) ${message}`), { statusCode, json: { message } });
}

/** Answers like dockerd; `starts` scripts the answers of successive start calls. */
class FakeDocker {
  readonly calls: string[] = [];
  readonly created: CreateContainerOptions[] = [];
  constructor(private readonly starts: (Error | null)[] = [], private readonly checkpointError?: Error) {}

  getContainer(id: string): DockerContainer {
    const calls = this.calls;
    const fake = this;
    return {
      id,
      async inspect() {
        return { Id: `${id}-full`, Name: id, State: { Status: 'exited', Running: false, Pid: 0, ExitCode: 0, Error: '' }, Config: { Image: 'img', Env: [], Labels: {} }, HostConfig: { NetworkMode: 'none' } };
      },
      async start(opts) {
        calls.push(`start ${id} ${JSON.stringify(opts)}`);
        const next = fake.starts.shift();
        if (next) throw next;
      },
      async logs() {
        return Buffer.from('');
      },
      async remove(opts) {
        calls.push(`remove ${id} ${JSON.stringify(opts)}`);
      },
      async createCheckpoint(opts) {
        calls.push(`checkpoint ${id} ${JSON.stringify(opts)}`);
        if (fake.checkpointError) throw fake.checkpointError;
      },
      async listCheckpoint() {
        return [];
      },
      async deleteCheckpoint() {},
      async exec() {
        throw new Error('checkpoint and restore run no commands');
      },
    };
  }

  async createContainer(opts: CreateContainerOptions): Promise<DockerContainer> {
    this.created.push(opts);
    this.calls.push(`create ${opts.name}`);
    return this.getContainer('new1');
  }
}

const asDocker = (f: FakeDocker) => f as unknown as Dockerode;

describe('docker checkpoint/restore', () => {
  let dataRoot: string;
  let source: string;
  beforeEach(() => {
    dataRoot = mkdtempSync(join(tmpdir(), 'warplab-docker-test-'));
    source = join(dataRoot, 'containers', 'old', 'checkpoints', 'cp1');
    mkdirSync(source, { recursive: true });
    writeFileSync(join(source, 'inventory.img'), 'images');
  });
  afterEach(() => rmSync(dataRoot, { recursive: true, force: true }));

  it('checkpoints with Exit by default and returns the full id', async () => {
    const f = new FakeDocker();
    const r = await checkpoint(asDocker(f), 'w0', 'cp1');
    assert.deepEqual(f.calls, ['checkpoint w0 {"CheckpointID":"cp1","Exit":true}']);
    assert.equal(r.containerId, 'w0-full');
    assert.equal(r.name, 'cp1');
  });

  it('reports a failed dump as CheckpointError with the engine message', async () => {
    const f = new FakeDocker([], engineError(500, 'criu failed: type NOTIFY errno 0 path= /x/criu-dump.log'));
    await assert.rejects(checkpoint(asDocker(f), 'w0', 'cp1'), (e: Error) => e instanceof CheckpointError && /criu-dump\.log/.test(e.message));
  });

  it('restores with the checkpoint in the query (the body form is a 400), into a copy of the images', async () => {
    const f = new FakeDocker();
    const r = await restoreInto(asDocker(f), { dataRoot }, { image: 'img', name: 'w1', networkMode: 'container:h2', env: { WARPLAB_PEER: '10.0.0.1' }, checkpointDir: source });
    assert.equal(r.id, 'new1');
    assert.equal(r.attempts, 1);
    assert.deepEqual(f.created[0], { name: 'w1', Image: 'img', Env: ['WARPLAB_PEER=10.0.0.1'], Labels: {}, HostConfig: { NetworkMode: 'container:h2' } });
    assert.deepEqual(f.calls, ['create w1', 'start new1 {"_query":{"checkpoint":"cp1"},"_body":{}}']);
    assert.equal(readFileSync(join(dataRoot, 'containers', 'new1', 'checkpoints', 'cp1', 'inventory.img'), 'utf8'), 'images');
    assert.equal(readFileSync(join(source, 'inventory.img'), 'utf8'), 'images', 'the source keeps its checkpoint');
  });

  it('retries once after the "already exists" race (moby#42900)', async () => {
    const f = new FakeDocker([engineError(500, 'failed to create shim task: id new1: already exists')]);
    const r = await restoreInto(asDocker(f), { dataRoot }, { image: 'img', name: 'w1', networkMode: 'container:h2', checkpointDir: source });
    assert.equal(r.attempts, 2);
    assert.equal(f.calls.filter((c) => c.startsWith('start')).length, 2);
  });

  it('removes the new container and says which phase failed; other errors are not retried', async () => {
    const f = new FakeDocker([engineError(404, 'No such container: h4-missing')]);
    await assert.rejects(
      restoreInto(asDocker(f), { dataRoot }, { image: 'img', name: 'w1', networkMode: 'container:h4-missing', checkpointDir: source }),
      (e: Error) => e instanceof RestoreError && e.phase === 'start' && /No such container: h4-missing/.test(e.message),
    );
    assert.deepEqual(f.calls.slice(1), ['start new1 {"_query":{"checkpoint":"cp1"},"_body":{}}', 'remove new1 {"force":true}']);
  });

  it('a failed copy is a RestoreError too', async () => {
    const f = new FakeDocker();
    await assert.rejects(
      restoreInto(asDocker(f), { dataRoot }, { image: 'img', name: 'w1', networkMode: 'none', checkpointDir: join(dataRoot, 'nope') }),
      (e: Error) => e instanceof RestoreError && e.phase === 'copy',
    );
    assert.equal(f.calls.at(-1), 'remove new1 {"force":true}');
  });

  it('startFromCheckpoint retries the race with growing delays and gives up after the fifth', async () => {
    const race = () => engineError(500, 'already exists');
    const f = new FakeDocker([race(), race(), race(), race(), race()]);
    await assert.rejects(startFromCheckpoint(asDocker(f), 'w0', 'cp1', 1), /already exists/);
    assert.equal(f.calls.filter((c) => c.startsWith('start')).length, 5);
    assert.equal(await startFromCheckpoint(asDocker(new FakeDocker([race(), race()])), 'w0', 'cp1', 1), 3);
  });
});
