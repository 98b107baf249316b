// @root: the translator agents on real edge routers, with each data-plane backend, on every
// substrate (the agent is started through the node's Shell: same assertions everywhere).
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { up, type StartedLab } from '../../lab/lab.js';
import { reachability } from '../../lab/reachability.js';
import { packageRoot } from '../../paths.js';
import { analyzeStream } from '../../probe/analysis.js';
import { parseArrivalLog } from '../../probe/log.js';
import { startProbeStream } from '../../probe/stream.js';
import { switchPage, translatorStatus } from '../../translator/control.js';
import { loadTopologyFile, parseTopology } from '../../topology/load.js';
import type { Topology } from '../../topology/model.js';
import { cleanStateDir, labNamespaces, labNetnsInodes, labProcesses, netnsStillHeld, requireSubstrate, tempStateDir, testSubstrates, testTopology } from '../helpers.js';

const topo = async (f: string) => testTopology(await loadTopologyFile(join(packageRoot, 'topologies', f)));

function withBackend(t: Topology, backend: 'ebpf' | 'nftables'): Topology {
  return { ...t, nodes: t.nodes.map((n) => (n.translator ? { ...n, translator: { ...n.translator, backend } } : n)) };
}

/** First packet tcpdump sees on `iface` of `node` while `traffic` runs, as "src > dst". */
async function capture(lab: StartedLab, node: string, iface: string, filter: string, traffic: () => Promise<unknown>): Promise<string> {
  const dump = lab.shell(node).exec(['tcpdump', '-n', '-l', '-c', '1', '-i', iface, filter], { timeoutMs: 10_000, check: false });
  await sleep(700); // tcpdump needs a moment to attach
  await traffic();
  const line = (await dump).stdout.split('\n').find((l) => l.includes(' > ')) ?? '';
  return /IP (\S+) > (\S+):/.exec(line)?.slice(1, 3).join(' > ') ?? `(nothing captured: ${line})`;
}

const counter = async (lab: StartedLab, r: string, name: string) => (await translatorStatus(lab, r)).counters[name]!;

const SWITCH_LAB = `
name: xswitch
nodes:
  a: {kind: host, interfaces: {eth0: {ipv4: 10.0.1.2/24}}, routes: [{to: default, via: 10.0.1.1}]}
  r:
    kind: edge-router
    translator:
      lan: [eth0]
      pages:
        - {lan: 10.0.1.2/32, wan: 150.1.0.2/32}
        - {lan: 10.0.2.0/24, pass: true}
    interfaces: {eth0: {ipv4: 10.0.1.1/24}, eth1: {ipv4: 10.0.2.1/24}}
  b: {kind: host, interfaces: {eth0: {ipv4: 10.0.2.2/24}}, routes: [{to: 150.0.0.0/8, via: 10.0.2.1}]}
links: [a:eth0 -- r:eth0, r:eth1 -- b:eth0]
`;

for (const substrate of testSubstrates())
for (const backend of ['ebpf', 'nftables'] as const) {
  describe(`@root translator agents (${backend}) on ${substrate}`, function () {
    this.timeout(120_000);
    let stateDir: string;
    const opts = () => ({ stateDir, substrate });
    before(async function () {
      await requireSubstrate(this, substrate);
    });
    beforeEach(() => (stateDir = tempStateDir()));
    afterEach(() => cleanStateDir(stateDir));

    it('ICN Fig. 3: twice NAT on the WAN, original addresses at the sites', async () => {
      await using lab = await up(withBackend(await topo('icn2011-fig3-intranet.yaml'), backend), opts());
      const ping = () => lab.shell('H1').exec(['ping', '-n', '-c2', '-W1', '172.17.11.32']);
      assert.equal(await capture(lab, 'R3', 'eth0', 'icmp', ping), '150.24.10.21 > 150.25.11.32', 'on the WAN');
      assert.equal(await capture(lab, 'H2', 'eth0', 'icmp', ping), '172.16.10.21 > 172.17.11.32', 'at site S2');
      assert.ok((await counter(lab, 'R1', 'translated_from_lan')) >= 4);
    });

    it('ICN Fig. 4: the extranet matrix, and forged packets dropped and counted at the ingress', async () => {
      await using lab = await up(withBackend(await topo('icn2011-fig4-extranet.yaml'), backend), opts());
      const rows = await reachability(lab);
      const got = Object.fromEntries(rows.map((r) => [`${r.from}-${r.to}`, r.observed]));
      assert.deepEqual(got, { 'H1-H3': true, 'H1-H5': true, 'H3-H1': true, 'H3-H5': false, 'H5-H1': true, 'H5-H3': false });
      assert.deepEqual(rows.filter((r) => r.observed !== r.predicted), []);

      const forge = (src: string, dst: string) =>
        lab.shell('H5').exec(['/usr/bin/python3', '-c', `from scapy.all import IP, UDP, send; send(IP(src='${src}', dst='${dst}')/UDP(dport=9)/b'forged', count=5, verbose=0)`]);
      const [src0, dst0] = [await counter(lab, 'R2', 'dropped_no_src_rule'), await counter(lab, 'R2', 'dropped_no_dst_rule')];
      await forge('10.9.9.9', '172.16.10.21'); // forged source: in no page of R2
      await forge('10.2.7.9', '10.1.3.5'); // S4 → S3: R2 has no page of VN2
      await sleep(200);
      assert.equal((await counter(lab, 'R2', 'dropped_no_src_rule')) - src0, 5);
      assert.equal((await counter(lab, 'R2', 'dropped_no_dst_rule')) - dst0, 5);
    });

    it('a live switch under a 1 ms UDP stream: every packet the old way or the new way, none lost or duplicated', async () => {
      const lab = await up(withBackend(testTopology(parseTopology(SWITCH_LAB)), backend), opts());
      let ns = labNetnsInodes(lab.snapshot);
      try {
        // Count, at the receiver, what came by each WAN address.
        await lab.shell('b').exec(['nft', '-f', '-'], {
          input: 'table ip seen {\n chain in {\n  type filter hook input priority 0;\n  ip saddr 150.1.0.2 counter\n  ip saddr 150.2.0.2 counter\n }\n}\n',
        });
        const logPath = join(stateDir, 'switch.log');
        const stream = await startProbeStream({ label: 'a→b', sender: lab.shell('a'), receiver: lab.shell('b'), to: '10.0.2.2', maxDurationS: 20, logPath });
        await sleep(700);
        const sw = await switchPage(lab, 'r', '10.0.1.2', '150.2.0.2/32');
        await sleep(700);
        const cap = await stream.stop();
        const arrivals = parseArrivalLog(readFileSync(logPath), logPath).streams.get(1)!;
        const a = analyzeStream(arrivals, { intervalMs: 1, windows: [], sent: cap.sender!.sent });
        const counts = [...(await lab.shell('b').exec(['nft', 'list', 'table', 'ip', 'seen'])).stdout.matchAll(/packets (\d+)/g)].map((m) => Number(m[1]));
        assert.equal(a.lost, 0, 'lost');
        assert.equal(a.duplicates, 0, 'duplicated');
        assert.ok(counts[0]! > 100 && counts[1]! > 100, `both ways used: old ${counts[0]}, new ${counts[1]}`);
        assert.equal(counts[0]! + counts[1]!, a.received, 'every packet came one way or the other');
        assert.ok(sw.kernelUs >= 0);
      } finally {
        ns = labNetnsInodes(lab.snapshot);
        await lab.down();
      }
      assert.deepEqual(labNamespaces(lab.name), []);
      assert.deepEqual(netnsStillHeld(ns), []);
      assert.deepEqual(labProcesses(lab.name), [], 'agents and probes stopped');
    });
  });
}
