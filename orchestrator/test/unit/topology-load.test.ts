import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { TopologyError } from '../../errors.js';
import { loadTopologyFile, parseTopology } from '../../topology/load.js';
import { packageRoot } from '../../paths.js';
import { fixtures, shippedTopologies } from '../helpers.js';

/** `# expect: LINE:COL: PATH: MESSAGE | HINT` lines at the top of each broken file. */
function expectations(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('# expect: '))
    .map((l) => l.slice('# expect: '.length).trim());
}

describe('topology loader', () => {
  describe('broken files give exactly their expected errors, all at once', () => {
    const dir = join(fixtures, 'broken');
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.yaml'))) {
      it(basename(f), async () => {
        const file = join(dir, f);
        const err = await loadTopologyFile(file).then(
          () => assert.fail('expected a TopologyError'),
          (e: unknown) => e,
        );
        assert.ok(err instanceof TopologyError, String(err));
        const got = err.issues.map((i) => {
          assert.equal(i.pos.file, file);
          return `${i.pos.line}:${i.pos.col}: ${i.path || '(top)'}: ${i.message}` + (i.hint ? ` | ${i.hint}` : '');
        });
        assert.deepEqual(got.sort(), expectations(file).sort());
      });
    }
  });

  describe('shipped topologies', () => {
    it('there are the papers\' five', () => assert.ok(shippedTopologies.length >= 5, shippedTopologies.join(', ')));
    for (const f of shippedTopologies) {
      it(`${basename(f)} validates and starts with the schema line`, async () => {
        const text = readFileSync(f, 'utf8');
        assert.match(text.split('\n')[0]!, /^# yaml-language-server: \$schema=\.\/topology\.schema\.json$/);
        await loadTopologyFile(f);
      });
    }
  });

  it('reads the terse and the expanded link forms alike', () => {
    const t = parseTopology(`
name: forms
nodes:
  a: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.1/24}, eth1: {ipv4: 10.0.1.1/24}}}
  b: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.2/24}}}
  s: {kind: lan}
links:
  - a:eth0 -- b:eth0
  - {a: "a:eth1", b: s, mtu: 9000}
`);
    assert.deepEqual(t.links, [
      { a: { node: 'a', iface: 'eth0' }, b: { node: 'b', iface: 'eth0' }, labels: {} },
      { a: { node: 'a', iface: 'eth1' }, b: { node: 's' }, mtu: 9000, labels: {} },
    ]);
    assert.equal(t.routing, 'static');
  });

  it('accepts one address or a list of them', () => {
    const t = parseTopology(`
name: lists
nodes:
  a: {kind: host, interfaces: {eth0: {ipv4: [10.0.0.1/24, 10.0.9.1/24]}}}
  b: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.2/24}}}
links: [a:eth0 -- b:eth0]
`);
    assert.deepEqual(t.nodes[0]!.interfaces[0]!.ipv4, ['10.0.0.1/24', '10.0.9.1/24']);
  });

  it('a non-mapping file gets one clear error', () => {
    assert.throws(() => parseTopology('- just\n- a list\n', 'x.yaml'), /x\.yaml:1:1: \(top\): a topology is a mapping/);
  });
});

describe('warplab validate', () => {
  const validate = (...files: string[]) =>
    spawnSync(process.execPath, [join(packageRoot, 'orchestrator', 'cli', 'bin.js'), 'validate', '--json', ...files], { encoding: 'utf8' });

  it('tells topologies from scenarios and checks each with its own loader', () => {
    const r = validate(join(packageRoot, 'topologies', 'icoin2011-paging.yaml'), join(packageRoot, 'topologies', 'scenarios', 'icoin2011-vm-migration.yaml'));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      (JSON.parse(r.stdout) as { kind: string; name: string }[]).map((x) => [x.kind, x.name]),
      [
        ['topology', 'icoin'],
        ['scenario', 'icoin2011-vm-migration'],
      ],
    );
  });

  it('exits 2 with the file:line:col issues of a broken scenario', () => {
    const dir = join(fixtures, 'broken-scenarios');
    const file = join(dir, readdirSync(dir).find((f) => f.endsWith('.yaml'))!);
    const r = validate(file);
    assert.equal(r.status, 2);
    const [res] = JSON.parse(r.stdout) as { ok: boolean; issues: { pos: { file: string } }[] }[];
    assert.equal(res!.ok, false);
    assert.ok(res!.issues.length > 0 && res!.issues.every((i) => i.pos.file.length > 0));
  });
});
