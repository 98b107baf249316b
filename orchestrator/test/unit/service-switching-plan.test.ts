import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { servicePlan } from '../../migration/strategies/service-switching/plan.js';
import { roles } from '../../migration/strategies/service-switching/state.js';
import { sysctls, tableScript } from '../../migration/strategies/service-switching.js';
import { withOverrides, type ServiceSwitchingSettings } from '../../migration/strategies/service-switching/settings.js';
import { packageRoot } from '../../paths.js';
import { loadTopologyFile } from '../../topology/load.js';
import { settingsOf, type Topology } from '../../topology/model.js';

const bifulco = () => loadTopologyFile(join(packageRoot, 'topologies', 'bifulco2011-service-switching.yaml'));
const settings = (t: Topology) => settingsOf<ServiceSwitchingSettings>(t, 'service-switching');
const home = { vm: 'hv-a', dstar: 'hv-a', dss: 'hv-b' };
const rows = (p: ReturnType<typeof servicePlan>) => p.changes.map((c) => `${c.when ?? 'trigger'} ${c.node} ${c.action} ${c.detail}`);

describe('service switching plan (pure, from the topology)', () => {
  it('C moves to the foreign net: R1 and R3 map M → M*, R2 maps back and routes M to its LAN, R3 routes M away for its proxy ARP', async () => {
    const t = await bifulco();
    const w = t.workloads.find((x) => x.name === 'vm')!;
    const p = servicePlan(t, settings(t), w, 'hv-a', 'hv-b', home);
    assert.equal(p.port, 'eth0');
    assert.equal(p.trigger, 'announcement');
    assert.deepEqual(rows(p), [
      `arm R2 neigh 192.168.11.3 lladdr ${w.mac} dev eth1`,
      'trigger R3 nat dst 192.168.11.3 → 192.168.10.3 (every ingress)',
      'trigger R3 nat src 192.168.10.3 → 192.168.11.3 (every egress)',
      'trigger R3 route 192.168.11.3/32 via 10.255.3.1',
      'trigger R2 nat dst 192.168.10.3 → 192.168.11.3 (every ingress)',
      'trigger R2 nat src 192.168.11.3 → 192.168.10.3 (toward the core)',
      'trigger R2 route 192.168.11.3/32 dev eth1',
      'trigger R1 nat dst 192.168.11.3 → 192.168.10.3 (every ingress)',
      'trigger R1 nat src 192.168.10.3 → 192.168.11.3 (every egress)',
      `trigger R2 garp on eth1: 192.168.11.3 (${w.mac}), 192.168.11.1 (own MAC), 192.168.11.2 (own MAC), 192.168.11.4 (own MAC), 192.168.11.5 (own MAC)`,
      'trigger R3 garp on eth1: 192.168.11.3 (own MAC)',
    ]);
    const r3 = p.data.updates.find((u) => u.node === 'R3')!;
    assert.match(r3.nft, /flush map ip warplab_ss daddr_in\nadd element ip warplab_ss daddr_in \{ 192\.168\.11\.3 : 192\.168\.10\.3 \}/);
    assert.deepEqual(r3.routes, ['route replace 192.168.11.3/32 via 10.255.3.1']);
  });

  it('back home: every entry goes, and the home LAN hears the owners\' own MACs again', async () => {
    const t = await bifulco();
    const w = t.workloads.find((x) => x.name === 'vm')!;
    const p = servicePlan(t, settings(t), w, 'hv-b', 'hv-a', { ...home, vm: 'hv-b' });
    assert.deepEqual(p.changes.filter((c) => c.action === 'route-remove').map((c) => `${c.node} ${c.detail}`), ['R3 192.168.11.3/32 via 10.255.3.1', 'R2 192.168.11.3/32 dev eth1']);
    assert.equal(p.changes.filter((c) => c.action === 'nat-remove').length, 6);
    assert.ok(p.data.updates.every((u) => !/add element/.test(u.nft)), 'every map flushed, none refilled');
    const garp = p.data.garps.find((g) => g.node === 'R3')!;
    assert.deepEqual(garp.announce.map((a) => [a.ip, a.mac]), [
      ['192.168.11.3', { mac: w.mac }],
      ['192.168.11.1', { node: 'R3', iface: 'eth1' }],
      ['192.168.11.2', { node: 'hv-a', iface: 'eth0' }],
      ['192.168.11.4', { node: 'D', iface: 'eth0' }],
      ['192.168.11.5', { mac: t.workloads.find((x) => x.name === 'dstar')!.mac }],
    ]);
    assert.deepEqual(p.data.garps.find((g) => g.node === 'R2')!.announce.map((a) => [a.ip, a.mac]), [['192.168.11.3', undefined]]);
  });

  it('C* joins D* on the foreign net: D* keeps its own MAC there, its entries stay', async () => {
    const t = await bifulco();
    const w = t.workloads.find((x) => x.name === 'vm')!;
    const dstar = t.workloads.find((x) => x.name === 'dstar')!;
    const p = servicePlan(t, settings(t), w, 'hv-a', 'hv-b', { ...home, dstar: 'hv-b' });
    assert.deepEqual(p.data.garps[0]!.announce.find((a) => a.ip === '192.168.11.5')!.mac, { mac: dstar.mac });
    assert.match(p.data.updates.find((u) => u.node === 'R2')!.nft, /192\.168\.10\.6 : 192\.168\.11\.5, 192\.168\.10\.3 : 192\.168\.11\.3|192\.168\.10\.3 : 192\.168\.11\.3, 192\.168\.10\.6 : 192\.168\.11\.5/);
    assert.ok(!rows(p).some((r) => r.includes('192.168.11.5')  && r.includes('nat')), 'D*\'s translations are unchanged');
  });

  it('D** moves the other way: R3 is its foreign switch and R2 its home switch', async () => {
    const t = await bifulco();
    const dss = t.workloads.find((x) => x.name === 'dss')!;
    const p = servicePlan(t, settings(t), dss, 'hv-b', 'hv-a', home);
    assert.ok(rows(p).includes('trigger R3 route 192.168.10.5/32 dev eth1'));
    assert.ok(rows(p).includes('trigger R2 route 192.168.10.5/32 via 10.255.2.1'));
    assert.ok(rows(p).includes('trigger R3 nat src 192.168.10.5 → 192.168.11.6 (toward the core)'));
  });

  it('without an edge switch (a move\'s overrides may say so) R1 keeps no rules, and the foreign switch translates only toward the home network', async () => {
    const t = await bifulco();
    const s = withOverrides(settings(t), { edge: [] });
    const w = t.workloads.find((x) => x.name === 'vm')!;
    assert.ok(!servicePlan(t, s, w, 'hv-a', 'hv-b', home).changes.some((c) => c.node === 'R1'));
    const r2 = roles(t, s).find((r) => r.node === 'R2')!;
    assert.deepEqual(r2.homes, ['192.168.11.0/24']);
    assert.match(tableScript(r2, 'warplab:x:1'), /oifname != \{ "eth1" \} ip saddr set ip saddr map @saddr_out\n    oifname != \{ "eth1" \} ip daddr @homes ip saddr set ip saddr map @saddr_home/);
    assert.ok(rows(servicePlan(t, s, w, 'hv-a', 'hv-b', home)).includes('trigger R2 nat src 192.168.11.3 → 192.168.10.3 (toward the home network)'));
  });

  it('every switch answers ARP by proxy at once on its LANs and sends no redirects', async () => {
    const t = await bifulco();
    assert.deepEqual(roles(t, settings(t)).map((r) => [r.node, r.lanIfs, r.foreignIfs]), [['R3', ['eth1'], ['eth1']], ['R2', ['eth1'], ['eth1']], ['R1', [], []]]);
    assert.deepEqual(sysctls(roles(t, settings(t))[0]!), {
      'net/ipv4/conf/all/send_redirects': '0',
      'net/ipv4/conf/eth1/send_redirects': '0',
      'net/ipv4/conf/eth1/proxy_arp': '1',
      'net/ipv4/neigh/eth1/proxy_delay': '0',
    });
  });

  it('a hypervisor on no network of the workload\'s refuses the move with the reason', async () => {
    const t = await bifulco();
    const w = t.workloads.find((x) => x.name === 'vm')!;
    assert.throws(() => servicePlan(t, { ...settings(t), careOf: {} }, w, 'hv-a', 'hv-b', home), /hv-b cannot host vm with service switching: .* it has no care-of address \(migration\.service-switching\.care-of\)/);
  });
});
