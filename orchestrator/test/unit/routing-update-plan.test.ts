import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { ribRows } from '../../migration/strategies/routing-update.js';
import { birdConfigs } from '../../migration/strategies/routing-update/bird-config.js';
import { notEstablished } from '../../migration/strategies/routing-update/daemons.js';
import { convergence, parseFibLog } from '../../migration/strategies/routing-update/fib.js';
import { bgpSpeakers } from '../../migration/strategies/routing-update/peers.js';
import { routingPlan } from '../../migration/strategies/routing-update/plan.js';
import { checkOverrides, withOverrides, type RoutingUpdateSettings } from '../../migration/strategies/routing-update/settings.js';
import { packageRoot } from '../../paths.js';
import { loadTopologyFile } from '../../topology/load.js';
import { settingsOf, type Topology } from '../../topology/model.js';

const twoDc = () => loadTopologyFile(join(packageRoot, 'topologies', 'routing-update-two-dc.yaml'));
const settings = (t: Topology) => settingsOf<RoutingUpdateSettings>(t, 'routing-update');
const vm = (t: Topology) => t.workloads.find((w) => w.name === 'vm-a')!;
const rows = (p: ReturnType<typeof routingPlan>) => p.changes.map((c) => `${c.when ?? 'trigger'} ${c.node} ${c.action} ${c.detail}`);

describe('routing update plan and BIRD configs (pure, from the topology)', () => {
  it('PDC → ADC: R2 learns the MAC beforehand; on the trigger R1 withdraws the /32 and R2 announces it', async () => {
    const t = await twoDc();
    const p = routingPlan(t, settings(t), vm(t), 'pdc-hv', 'adc-hv');
    assert.equal(p.port, 'eth0');
    assert.equal(p.trigger, 'announcement');
    assert.deepEqual(rows(p), [
      'arm R2 neigh 172.16.10.2 lladdr 52:54:00:10:0a:02 dev eth1',
      'trigger R1 withdraw bgp 172.16.10.2/32 (disable wl_vm_a)',
      'trigger R2 announce bgp 172.16.10.2/32 (enable wl_vm_a)',
    ]);
    assert.deepEqual(p.data.routers, ['R1', 'R2', 'core', 'R3'], 'every FIB is watched');
  });

  it('and back, with warplab\'s trigger for this move only; the protocol and timers cannot change per move', async () => {
    const t = await twoDc();
    const p = routingPlan(t, withOverrides(settings(t), { trigger: 'orchestrator' }), vm(t), 'adc-hv', 'pdc-hv');
    assert.equal(p.trigger, 'orchestrator');
    assert.deepEqual(p.data.withdraw, ['R2']);
    assert.deepEqual(p.data.announce, [{ router: 'R1', iface: 'eth1' }]);
    const problems: string[] = [];
    checkOverrides({ timers: 'default', protocol: 'bgp', trigger: 'orchestrator' }, (path, m) => problems.push(`${path.join('.')}: ${m}`));
    assert.deepEqual(problems, ['protocol: protocol is set up with the lab', 'timers: timers is set up with the lab']);
  });

  it('a hypervisor with no gateway for the workload refuses the move with the reason', async () => {
    const t = await twoDc();
    assert.throws(() => routingPlan(t, settings(t), { ...vm(t), ipv4: '10.3.0.99/24' }, 'pdc-hv', 'adc-hv'), /adc-hv cannot host vm-a with routing-update: it has no interface in 10\.3\.0\.99\/24/);
  });

  it('eBGP between direct neighbours, one private AS each; the shared DC gateway address is no session', async () => {
    const t = await twoDc();
    const { speakers, unpeerable } = bgpSpeakers(t);
    assert.deepEqual(unpeerable, []);
    assert.deepEqual(speakers.map((s) => `${s.router} AS${s.as} ${s.routerId}: ${s.sessions.map((x) => `${x.peer}@${x.address} AS${x.peerAs}`).join(', ')}`), [
      'R1 AS64601 10.255.1.1: core@10.255.1.2 AS64603',
      'R2 AS64602 10.255.2.1: core@10.255.2.2 AS64603',
      'core AS64603 10.255.1.2: R1@10.255.1.1 AS64601, R2@10.255.2.1 AS64602, R3@10.255.3.1 AS64604',
      'R3 AS64604 10.255.3.1: core@10.255.3.2 AS64603',
    ]);
  });

  it('BIRD: the /32 is announced only where the VM runs, only BGP routes reach the kernel, fast timers when asked', async () => {
    const t = await twoDc();
    const at = (hv: string, timers: 'fast' | 'default' = 'fast') => birdConfigs(t, timers, { 'vm-a': hv });
    const r1 = at('pdc-hv').get('R1')!;
    assert.match(r1, /protocol static wl_vm_a \{\n  ipv4;\n  route 172\.16\.10\.2\/32 via "eth1";\n\}/);
    assert.match(at('adc-hv').get('R1')!, /protocol static wl_vm_a \{\n  disabled;\n/);
    assert.match(at('pdc-hv').get('R2')!, /protocol static wl_vm_a \{\n  disabled;\n/);
    assert.match(r1, /protocol kernel \{\n  ipv4 \{ import none; export where source = RTS_BGP; \};\n\}/);
    assert.doesNotMatch(r1, /learn/, 'BIRD leaves the topology\'s routes alone');
    assert.match(r1, /hold time 3; keepalive time 1; connect delay time 1;/);
    assert.doesNotMatch(at('pdc-hv', 'default').get('R1')!, /hold time/);
    const core = at('pdc-hv').get('core')!;
    assert.doesNotMatch(core, /protocol static/, 'the core announces nothing of its own');
    assert.match(core, /protocol bgp R3_eth2 from peer \{\n  neighbor 10\.255\.3\.1 as 64604;\n  source address 10\.255\.3\.2;\n  interface "eth2";\n\}/);
  });

  it('reads ip -ts monitor into each router\'s last change to the /32, after the arm', () => {
    const log = [
      '[2026-12-06T06:05:53.064875] 172.16.10.2 via 10.255.1.2 dev eth0 proto bird metric 32 ',
      '[2026-12-06T06:05:53.070000] 10.9.9.9 dev lo proto bird scope link ',
      '[2026-12-06T06:05:53.080325] Deleted 172.16.10.2 via 10.255.1.2 dev eth0 proto bird metric 32 ',
    ].join('\n');
    const events = parseFibLog(log, '172.16.10.2');
    assert.equal(events.length, 2);
    assert.ok(Math.abs(events[1]!.atMs - events[0]!.atMs - 15.45) < 0.001, "microseconds kept");
    const since = new Date('2026-12-06T06:05:53.070').getTime();
    assert.deepEqual(convergence(new Map([['R1', log], ['R3', '']]), '172.16.10.2', since), [{ node: 'R1', action: 'fib', detail: 'Deleted 172.16.10.2 via 10.255.1.2 dev eth0 proto bird metric 32', atMs: events[1]!.atMs }]);
  });

  it('reads birdc: sessions not Established, and the RIB rows of `show route`', () => {
    const protocols = `BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
device1    Device     ---        up     06:10:00.000
core_eth0  BGP        ---        up     06:10:01.120  Established
R3_eth2    BGP        ---        start  06:10:00.000  Active        Socket: Connection refused
`;
    assert.deepEqual(notEstablished(protocols), ['R3_eth2 start Active Socket: Connection refused']);
    const routes = `BIRD 2.0.12 ready.
Table master4:
172.16.10.2/32       unicast [wl_vm_a 06:10:05.000] * (200)
	dev eth1
                     unicast [core_eth0 06:10:01.200 from 10.255.2.2] (100) [AS64601i]
	via 10.255.2.2 on eth0
`;
    assert.deepEqual(ribRows(routes), [
      ['172.16.10.2/32', 'wl_vm_a', 'best', '', 'dev eth1'],
      ['172.16.10.2/32', 'core_eth0', '', 'AS64601i', 'via 10.255.2.2 on eth0'],
    ]);
  });
});
