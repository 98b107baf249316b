import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { vtepScript } from '../../migration/strategies/l2-overlay/devices.js';
import { parseFdbMonitor } from '../../migration/strategies/l2-overlay/learned.js';
import { overheadOf } from '../../probe/wire-overhead.js';
import { overlayPlan, placeUpdates } from '../../migration/strategies/l2-overlay/plan.js';
import { overlayOf, withOverrides, type L2OverlaySettings } from '../../migration/strategies/l2-overlay/settings.js';
import { joinedLans } from '../../migration/strategy.js';
import { packageRoot } from '../../paths.js';
import { ForwardingModel } from '../../topology/forwarding.js';
import { loadTopologyFile } from '../../topology/load.js';
import { settingsOf, type Topology } from '../../topology/model.js';

const twoDc = () => loadTopologyFile(join(packageRoot, 'topologies', 'l2-overlay-two-dc.yaml'));
const settings = (t: Topology) => settingsOf<L2OverlaySettings>(t, 'l2-overlay');
const MAC = '52:54:00:10:0a:02';

describe('l2 overlay plan (pure, from the topology)', () => {
  it('the overlay: R1 and R2 are the VTEPs on their WAN addresses, the LANs keep 1500-byte frames', async () => {
    const t = await twoDc();
    assert.deepEqual(overlayOf(t, settings(t)), {
      vni: 100,
      device: 'vxlan100',
      subnet: '172.16.0.0/16',
      mtu: 1500,
      vteps: [
        { node: 'R1', lan: 'PDC', port: 'eth1', address: '10.255.1.1' },
        { node: 'R2', lan: 'ADC', port: 'eth1', address: '10.255.2.1' },
      ],
    });
  });

  it('the forwarding model sees PDC and ADC as the one segment the overlay makes: the hypervisors meet, U reaches adc-hv through R1', async () => {
    const t = await twoDc();
    assert.deepEqual(joinedLans(t), [['PDC', 'ADC']]);
    const plain = new ForwardingModel(t);
    assert.equal(plain.ping('pdc-hv', '172.16.0.12').ok, false, 'without the overlay the two LANs are apart');
    const model = new ForwardingModel(t, joinedLans(t));
    assert.deepEqual(model.ping('pdc-hv', '172.16.0.12').path, ['pdc-hv', 'adc-hv']);
    assert.deepEqual(model.ping('U', '172.16.0.12').path, ['U', 'C', 'core', 'R1', 'adc-hv']);
  });

  it('static, PDC → ADC: R1 sends the MAC into the tunnel to R2, R2 drops its tunnel entry; no route, no ARP change', async () => {
    const t = await twoDc();
    const w = t.workloads[0]!;
    const p = overlayPlan(t, settings(t), w, 'pdc-hv', 'adc-hv', { 'vm-a': 'pdc-hv' });
    assert.equal(p.port, 'eth0');
    assert.equal(p.trigger, 'announcement');
    assert.deepEqual(p.changes.map((c) => `${c.node} ${c.action} ${c.detail}`), [`R1 fdb ${MAC} → VTEP R2 (10.255.2.1) via vxlan100`, `R2 fdb-remove ${MAC} is local: off vxlan100, the bridge learns it on eth1`]);
    assert.deepEqual(p.data.updates, [
      { node: 'R1', detail: `${MAC} → VTEP R2 (10.255.2.1) via vxlan100`, add: [`fdb replace ${MAC} dev vxlan100 dst 10.255.2.1 self static`, `fdb replace ${MAC} dev vxlan100 master static`], del: [] },
      { node: 'R2', detail: `${MAC} is local: off vxlan100, the bridge learns it on eth1`, add: [], del: [`fdb del ${MAC} dev vxlan100 self`, `fdb del ${MAC} dev vxlan100 master`] },
    ]);
    assert.equal(p.data.at, 'R2');
    assert.equal(p.data.exit, 'R2', 'anycast: the VM leaves through the gateway of the DC it is in');
  });

  it('and back: the mirror image; a move that stays in one DC changes nothing', async () => {
    const t = await twoDc();
    const w = t.workloads[0]!;
    const back = overlayPlan(t, settings(t), w, 'adc-hv', 'pdc-hv', { 'vm-a': 'adc-hv' });
    assert.deepEqual(back.changes.map((c) => `${c.node} ${c.action}`), ['R1 fdb-remove', 'R2 fdb']);
    const same = overlayPlan(t, settings(t), w, 'pdc-hv', 'pdc-hv', { 'vm-a': 'pdc-hv' });
    assert.deepEqual(same.changes, []);
  });

  it('learn: nothing to push, the dry run says where each VTEP will learn the MAC; home gateway: the way out stays R1', async () => {
    const t = await twoDc();
    const s = { ...settings(t), fdb: 'learn' as const, gateway: 'home' as const };
    const p = overlayPlan(t, withOverrides(s, { trigger: 'orchestrator' }), t.workloads[0]!, 'pdc-hv', 'adc-hv', { 'vm-a': 'pdc-hv' });
    assert.equal(p.trigger, 'orchestrator');
    assert.deepEqual(p.data.updates, []);
    assert.deepEqual(p.changes.map((c) => `${c.node} ${c.action} ${c.detail}`), [`R1 learn ${MAC} behind R2 (10.255.2.1), from its announcement over vxlan100`, `R2 learn ${MAC} on eth1, from its announcement`]);
    assert.equal(p.data.exit, 'R1');
  });

  it('placing: the VTEPs elsewhere point at the workload\'s VTEP, its own forgets any tunnel entry', async () => {
    const t = await twoDc();
    assert.deepEqual(placeUpdates(t, overlayOf(t, settings(t)), t.workloads[0]!, 'pdc-hv'), [
      { node: 'R1', detail: `${MAC} is local`, add: [], del: [`fdb del ${MAC} dev vxlan100 self`, `fdb del ${MAC} dev vxlan100 master`] },
      { node: 'R2', detail: `${MAC} → VTEP R1`, add: [`fdb replace ${MAC} dev vxlan100 dst 10.255.1.1 self static`, `fdb replace ${MAC} dev vxlan100 master static`], del: [] },
    ]);
  });

  it('the VTEP script: VXLAN on the LAN bridge, no learning on the tunnel port (static), flooding to the other VTEP, the workload\'s neighbour (anycast)', async () => {
    const t = await twoDc();
    const s = settings(t);
    const o = overlayOf(t, s);
    assert.equal(
      vtepScript(t, o, s, o.vteps[0]!, 'wb-eth1', 'MARK'),
      [
        'ip link add vxlan100 type vxlan id 100 local 10.255.1.1 dstport 4789 nolearning',
        'ip link set vxlan100 mtu 1500 alias "MARK" master wb-eth1',
        'bridge link set dev vxlan100 learning off',
        'ip link set vxlan100 up',
        'bridge fdb append 00:00:00:00:00:00 dev vxlan100 dst 10.255.2.1',
        `ip neigh replace 172.16.10.2 lladdr ${MAC} dev wb-eth1 nud permanent`,
        '',
      ].join('\n'),
    );
    const learn = vtepScript(t, o, { ...s, fdb: 'learn', gateway: 'home' }, o.vteps[1]!, 'wb-eth1', 'MARK');
    assert.match(learn, /dstport 4789 learning\n/);
    assert.doesNotMatch(learn, /learning off|ip neigh/);
  });

  it('bridge monitor output: the entries for one MAC with their timestamps, removals left out', () => {
    const text = ['Timestamp: Sun Dec  6 05:38:57 2026 73115 usec', `${MAC} dev vxlan100 dst 10.255.2.1 self`, 'Timestamp: Sun Dec  6 05:38:57 2026 78134 usec', `Deleted ${MAC} dev eth1 master wb-eth1`, 'Timestamp: Sun Dec  6 05:38:58 2026 5 usec', '52:54:00:99:99:99 dev eth1 master wb-eth1', ''].join('\n');
    const got = parseFdbMonitor(text, MAC);
    assert.deepEqual(got, [{ atMs: new Date('Sun Dec  6 05:38:57 2026').getTime() + 73.115, entry: `${MAC} dev vxlan100 dst 10.255.2.1 self` }]);
  });

  it('overhead: a tunnelled frame is measured against the frame inside it, a plain one counted beside it', () => {
    const ip = (src: number[], dst: number[], payload: Buffer, udpPorts: [number, number]) => {
      const udp = Buffer.alloc(8);
      udp.writeUInt16BE(udpPorts[0], 0);
      udp.writeUInt16BE(udpPorts[1], 2);
      const h = Buffer.alloc(20);
      h[0] = 0x45;
      h[9] = 17;
      Buffer.from(src).copy(h, 12);
      Buffer.from(dst).copy(h, 16);
      return Buffer.concat([h, udp, payload]);
    };
    const eth = (p: Buffer) => Buffer.concat([Buffer.alloc(12), Buffer.from([0x08, 0x00]), p]);
    const probe = eth(ip([10, 3, 0, 10], [172, 16, 10, 2], Buffer.alloc(40), [40000, 7]));
    const tunnelled = eth(ip([10, 255, 1, 1], [10, 255, 2, 1], Buffer.concat([Buffer.alloc(8), probe]), [50000, 4789]));
    const other = eth(ip([10, 3, 0, 10], [10, 3, 0, 1], Buffer.alloc(10), [1, 2]));
    const frames = [probe, tunnelled, other].map((data) => ({ len: data.length, data }));
    const counted = { tunnelled: 1, plain: 1, wireBytes: probe.length + 50, innerBytes: probe.length, overheadBytes: 50, plainBytes: probe.length };
    assert.deepEqual(overheadOf(frames, { address: '172.16.10.2' }), counted);
    // Translated on the wire: the workload's frames by their UDP port.
    assert.deepEqual(overheadOf(frames, { ports: [7] }), counted);
    assert.deepEqual(overheadOf(frames, { ports: [9] }).tunnelled + overheadOf(frames, { ports: [9] }).plain, 0);
  });
});
