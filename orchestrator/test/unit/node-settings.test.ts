import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TopologyError } from '../../errors.js';
import { daemonsFor, FRR_DAEMONS } from '../../frr/daemons.js';
import { topologySchemaPath } from '../../paths.js';
import { parseTopology } from '../../topology/load.js';
import { nodeByName } from '../../topology/model.js';
import { removeDir } from '../helpers.js';

const OSPF = 'frr defaults traditional\n!\nrouter ospf\n network 10.0.0.0/24 area 0\n!\n';

/** A two-node topology with `extra` under node a (indented four spaces). */
const twoNodes = (extra: string) => `name: settings
nodes:
  a:
    kind: router
${extra}
    interfaces: {eth1: {}}
  b: {kind: host, interfaces: {eth1: {}}}
links: [a:eth1 -- b:eth1]
`;

function issuesOf(f: () => unknown): string[] {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof TopologyError, String(e));
    return e.issues.map((i) => `${i.pos.line}:${i.pos.col}: ${i.path}: ${i.message}`);
  }
  return assert.fail('expected a TopologyError');
}

describe('node container and FRR settings', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'warplab-settings-'));
    mkdirSync(join(dir, 'frr'));
    writeFileSync(join(dir, 'frr', 'a.conf'), OSPF);
  });
  after(() => removeDir(dir));

  it('a node without container keys has no container settings', () => {
    const t = parseTopology(twoNodes(''));
    assert.equal(nodeByName(t, 'a')!.container, undefined);
    assert.equal(nodeByName(t, 'a')!.frr, undefined);
  });

  it('reads image, env, binds, cmd and exec; relative bind paths are from the file\'s folder', () => {
    const file = join(dir, 'lab.yaml');
    const t = parseTopology(twoNodes('    image: alpine:3.20\n    env: {N: 1, S: x}\n    binds: [files:/files:ro, /abs:/abs]\n    cmd: sleep infinity\n    exec: [ip link set eth1 up, "ip addr add 10.0.0.1/24 dev eth1"]'), file);
    assert.deepEqual(nodeByName(t, 'a')!.container, {
      image: 'alpine:3.20',
      env: { N: '1', S: 'x' },
      binds: [`${dir}/files:/files:ro`, '/abs:/abs'],
      cmd: 'sleep infinity',
      exec: ['ip link set eth1 up', 'ip addr add 10.0.0.1/24 dev eth1'],
    });
  });

  it('exec alone gives container settings with empty env and binds', () => {
    const t = parseTopology(twoNodes('    exec: ["true"]'));
    assert.deepEqual(nodeByName(t, 'a')!.container, { env: {}, binds: [], exec: ['true'] });
  });

  it('resolves the FRR config from the file\'s folder and reads the daemons it needs', () => {
    const t = parseTopology(twoNodes('    frr: {config: frr/a.conf}'), join(dir, 'lab.yaml'));
    assert.deepEqual(nodeByName(t, 'a')!.frr, { config: join(dir, 'frr', 'a.conf'), daemons: ['zebra', 'ospfd'] });
  });

  it('daemons named in the topology replace those read from the config; zebra always runs', () => {
    const t = parseTopology(twoNodes('    frr: {config: frr/a.conf, daemons: [bgpd, bfdd]}'), join(dir, 'lab.yaml'));
    assert.deepEqual(nodeByName(t, 'a')!.frr!.daemons, ['zebra', 'bgpd', 'bfdd']);
  });

  it('a missing FRR config is an error at its line and column', () => {
    assert.deepEqual(issuesOf(() => parseTopology(twoNodes('    frr: {config: frr/nope.conf}'), join(dir, 'lab.yaml'))), [`5:19: nodes.a.frr.config: FRR configuration ${join(dir, 'frr', 'nope.conf')} does not exist`]);
  });

  it('a lan runs nothing', () => {
    const text = twoNodes('').replace('  b: {kind: host', '  s: {kind: lan, exec: ["true"]}\n  b: {kind: host');
    assert.deepEqual(issuesOf(() => parseTopology(text)), ['7:3: nodes.s: lan s runs nothing: it is a bridge']);
  });

  it('bad values are schema errors with hints', () => {
    assert.deepEqual(issuesOf(() => parseTopology(twoNodes('    binds: [nocolon]\n    frr: {config: x.conf, daemons: [ospf]}'))), ['5:13: nodes.a.binds[0]: invalid value "nocolon"', '6:37: nodes.a.frr.daemons[0]: invalid value "ospf"']);
  });

  describe('daemonsFor', () => {
    const cases: [string, string[]][] = [
      ['hostname r1\n!\n', ['zebra']],
      ['router bgp 65001\n neighbor 10.0.0.2 remote-as 65002\n', ['zebra', 'bgpd']],
      ['router ospf6\n', ['zebra', 'ospf6d']],
      ['interface eth1\n ip ospf bfd\n!\nrouter ospf\n', ['zebra', 'ospfd', 'bfdd']],
      ['router isis CORE\n!\nrouter rip\n!\nip route 10.9.0.0/16 10.0.0.2\n', ['zebra', 'isisd', 'ripd', 'staticd']],
      ['! router bgp 1 is commented out\n', ['zebra']],
    ];
    for (const [conf, want] of cases) it(JSON.stringify(conf.split('\n')[0]), () => assert.deepEqual(daemonsFor(conf), want));
  });

  it('the schema names the daemons FRR_DAEMONS lists', () => {
    const schema = JSON.parse(readFileSync(topologySchemaPath, 'utf8'));
    assert.deepEqual(schema.definitions.node.properties.frr.properties.daemons.items.enum, [...FRR_DAEMONS]);
  });
});
