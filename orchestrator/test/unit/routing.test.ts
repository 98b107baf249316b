import { strict as assert } from 'node:assert';
import { ForwardingModel } from '../../topology/forwarding.js';
import { parseTopology } from '../../topology/load.js';

// Two data centers with the same subnet and gateway (ICOIN §V-G), one hidden from routing.
const twoDCs = parseTopology(`
name: twodc
routing: auto
nodes:
  u:    {kind: host, interfaces: {eth0: {ipv4: 10.3.0.10/24}}}
  r3:   {kind: edge-router, interfaces: {eth0: {ipv4: 10.3.0.1/24}, eth1: {ipv4: 10.255.3.1/30}}}
  core: {kind: router, interfaces: {eth0: {ipv4: 10.255.1.2/30}, eth1: {ipv4: 10.255.2.2/30}, eth2: {ipv4: 10.255.3.2/30}}}
  r1:
    kind: edge-router
    announce: [172.15.0.0/16]
    interfaces: {eth0: {ipv4: 10.255.1.1/30}, eth1: {ipv4: 172.16.0.1/16, mac: "02:00:ac:10:00:01", announce: false}}
  r2:   {kind: edge-router, interfaces: {eth0: {ipv4: 10.255.2.1/30}, eth1: {ipv4: 172.16.0.1/16, mac: "02:00:ac:10:00:01"}}}
  pdc:  {kind: host, interfaces: {eth0: {ipv4: 172.16.10.2/16}}}
  adc:  {kind: host, interfaces: {eth0: {ipv4: 172.16.10.3/16}}}
links:
  - u:eth0 -- r3:eth0
  - r3:eth1 -- core:eth2
  - r1:eth0 -- core:eth0
  - r2:eth0 -- core:eth1
  - r1:eth1 -- pdc:eth0
  - r2:eth1 -- adc:eth0
`);

const routesOf = (name: string) => twoDCs.nodes.find((n) => n.name === name)!.routes.map((r) => `${r.to} via ${r.via}`).sort();

describe('auto routing', () => {
  it('steers every announced prefix along the shortest path', () => {
    assert.deepEqual(routesOf('r3'), [
      '10.255.1.0/30 via 10.255.3.2',
      '10.255.2.0/30 via 10.255.3.2',
      '172.15.0.0/16 via 10.255.3.2',
      '172.16.0.0/16 via 10.255.3.2',
    ]);
    assert.deepEqual(routesOf('core'), ['10.3.0.0/24 via 10.255.3.1', '172.15.0.0/16 via 10.255.1.1', '172.16.0.0/16 via 10.255.2.1']);
  });
  it('keeps a hidden subnet out (announce: false) and routes the announced one to its router', () => {
    assert.ok(!routesOf('r2').some((r) => r.startsWith('172.16.')), 'r2 is connected to 172.16/16 itself');
    assert.ok(routesOf('r2').includes('172.15.0.0/16 via 10.255.2.2'));
  });
  it('gives hosts a default route via their only router', () => {
    assert.deepEqual(routesOf('u'), ['default via 10.3.0.1']);
    assert.deepEqual(routesOf('pdc'), ['default via 172.16.0.1']);
  });
  it('marks computed routes as such', () => {
    assert.ok(twoDCs.nodes.every((n) => n.routes.every((r) => r.auto)));
  });
});

describe('forwarding model', () => {
  const m = new ForwardingModel(twoDCs);
  it('delivers along the computed routes', () => {
    const d = m.ping('u', '172.16.10.3');
    assert.ok(d.ok, d.reason);
    assert.deepEqual(d.path, ['u', 'r3', 'core', 'r2', 'adc']);
  });
  it('predicts the hidden data center unreachable without a translator', () => {
    const d = m.ping('u', '172.16.10.2');
    assert.equal(d.ok, false);
    assert.match(d.reason!, /r2: no neighbour answers ARP for 172\.16\.10\.2/);
  });
  it('needs the reply path too', () => {
    const d = m.ping('pdc', '10.3.0.10');
    assert.equal(d.ok, false, 'the reply to 172.16.10.2 goes to ADC, where nobody has it');
    assert.match(d.reason!, /^reply lost/);
  });
});
