import { strict as assert } from 'node:assert';
import { LabError } from '../../errors.js';
import type { LabHandle } from '../../lab/handle.js';
import { labExtensions } from '../../lab/extensions.js';
import { execExtension } from '../../lab/node-exec.js';
import type { Shell } from '../../shell/shell.js';
import { parseTopology } from '../../topology/load.js';
import type { Topology } from '../../topology/model.js';
import { RecordingShell } from '../helpers.js';

const topology = parseTopology(`
name: execs
nodes:
  a: {kind: host, exec: [ip link set eth1 up, "ip addr add 10.0.0.1/24 dev eth1"], interfaces: {eth1: {}}}
  b: {kind: host, exec: ["false", never run], interfaces: {eth1: {}}}
  c: {kind: host, interfaces: {eth1: {}}}
  s: {kind: lan}
links: [a:eth1 -- s, b:eth1 -- s, c:eth1 -- s]
`);

/** A LabHandle whose image shells record what they run; `fails` answers exit 1 with a message. */
function fakeLab(t: Topology, fails: (argv: readonly string[]) => boolean = () => false): { lab: LabHandle; shells: Map<string, RecordingShell> } {
  const shells = new Map<string, RecordingShell>();
  const imageShell = (node: string): Shell => {
    if (!shells.has(node)) shells.set(node, new RecordingShell((argv) => (fails(argv) ? { exitCode: 1, stderr: `sh: ${argv[2]}: failed\n` } : {})));
    return shells.get(node)!;
  };
  const unused = () => assert.fail('only imageShell is used');
  return { lab: { name: t.name, mark: 'm', path: '/nonexistent', topology: t, snapshot: {} as never, imageShell, shell: unused, hostShell: unused, machine: unused, onOrchestratorClock: unused, workloadShell: unused, workload: unused, recordWorkload: unused }, shells };
}

describe('exec lines (lab extension)', () => {
  it('is wanted when a node has exec lines, and runs first', () => {
    assert.equal(execExtension.wanted(topology, { workloads: true }), true);
    assert.equal(execExtension.wanted(parseTopology('name: none\nnodes: {a: {kind: host}}\n'), { workloads: true }), false);
    assert.equal(labExtensions()[0]!.name, 'exec');
  });

  it('runs each node\'s lines in order with sh -c through its image shell', async () => {
    const only = { ...topology, nodes: topology.nodes.filter((n) => n.name !== 'b') };
    const { lab, shells } = fakeLab(only);
    const progress: string[] = [];
    await execExtension.start(lab, { onProgress: (e) => progress.push(`${e.done}/${e.total}`) });
    assert.deepEqual(shells.get('a')!.calls.map((c) => c.argv), [
      ['sh', '-c', 'ip link set eth1 up'],
      ['sh', '-c', 'ip addr add 10.0.0.1/24 dev eth1'],
    ]);
    assert.deepEqual([...shells.keys()], ['a']);
    assert.deepEqual(progress, ['0/1', '1/1']);
  });

  it('stops at the first failing line with an error naming the node, the line and its stderr', async () => {
    const { lab, shells } = fakeLab(topology, (argv) => argv[2] === 'false');
    const err = await execExtension.start(lab, {}).then(
      () => assert.fail('expected a LabError'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof LabError, String(err));
    assert.equal(err.message, 'exec on b failed (exit 1): false\n    sh: false: failed');
    assert.deepEqual(shells.get('b')!.calls.map((c) => c.argv[2]), ['false']);
  });

  it('has nothing to stop', async () => assert.deepEqual(await execExtension.stop('/nonexistent', {} as never), []));
});
