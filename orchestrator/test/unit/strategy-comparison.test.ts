// The strategy comparison: control-plane state counted from the kernel's own JSON, and the
// table, where a stream that never came back is "did not resume" and missing samples say so.
import { strict as assert } from 'node:assert';
import { chartSpec, markdownTable, type Row } from '../../bench/strategy-table.js';
import { countFdb, countNft, countRoutes, names, stateDelta } from '../../lab/kernel-state.js';
import type { MigrationResult } from '../../migration/migrate.js';
import type { WindowFigures } from '../../probe/analysis.js';

const window = (resumed: boolean, downtimeMs: number): WindowFigures => ({ window: 'm', resumed, downtimeMs, downtimeGap: null, resumeToFirstPacketMs: resumed ? 5 : null, disruption: null });
const sample = (resumed: boolean, downtimeMs: number, switchingMs: number | null) => ({
  result: { switching: { switchingMs }, elapsedMs: 900 } as unknown as MigrationResult,
  own: window(resumed, downtimeMs),
  echo: window(true, downtimeMs),
});
const state = (o: Partial<Record<'routes' | 'nft' | 'proxyArp' | 'fdb' | 'pages', number>>) => ({ routes: 10, nft: 0, proxyArp: 0, fdb: 4, pages: 0, ...o });

describe('strategy comparison', () => {
  it('counts routes without local and broadcast ones, nft rules with map and set elements, FDB entries without multicast subscriptions', () => {
    const routes = JSON.stringify([{ dst: 'default', gateway: '10.0.0.1' }, { dst: '172.16.10.2', protocol: 'bird' }, { type: 'local', dst: '10.0.0.2', table: 'local' }, { type: 'broadcast', dst: '10.0.0.255', table: 'local' }]);
    assert.equal(countRoutes(routes), 2);
    assert.equal(countRoutes(''), 0);
    const nft = JSON.stringify({ nftables: [{ metainfo: {} }, { table: {} }, { map: { name: 'dnat', elem: [['a', 'b'], ['c', 'd']] } }, { set: { name: 's', elem: ['x'] } }, { rule: {} }, { rule: {} }, { map: { name: 'empty' } }] });
    assert.equal(countNft(nft), 5);
    const fdb = JSON.stringify([{ mac: '33:33:00:00:00:01', flags: ['self'], state: 'permanent' }, { mac: '01:00:5e:00:00:01' }, { mac: '52:54:00:10:0a:02', ifname: 'vxlan100', dst: '10.255.2.1' }, { mac: '00:00:00:00:00:00', dst: '10.255.2.1' }, { mac: '02:00:ac:10:00:01', state: 'permanent' }]);
    assert.equal(countFdb(fdb), 3);
    const vm = { addresses: ['172.16.10.2'], macs: ['52:54:00:10:0A:02'] };
    assert.equal(countRoutes(JSON.stringify([{ dst: '172.16.10.2' }, { dst: '172.16.10.20' }, { dst: '172.16.0.0/16' }]), vm), 1);
    const nat = JSON.stringify({ nftables: [{ map: { elem: [['172.16.10.2', '172.17.10.2'], ['172.16.10.22', '172.17.10.22']] } }, { rule: { expr: [{ match: { right: '172.16.10.2' } }] } }, { rule: { expr: [] } }] });
    assert.equal(countNft(nat, vm), 2);
    assert.equal(countFdb(fdb, vm), 1, 'the MAC, whatever its case');
  });

  it('an address is named whole, not as the start of another', () => {
    assert.ok(names('page 172.16.10.2/32 -> 10.0.0.1', ['172.16.10.2']));
    assert.ok(names('"172.16.10.2"', ['172.16.10.2']));
    assert.ok(!names('172.16.10.20', ['172.16.10.2']));
    assert.ok(!names('172.16.10.2.5', ['172.16.10.2']));
    assert.ok(!names('1172.16.10.2', ['172.16.10.2']));
    assert.ok(names('172.16.100.11', ['172.16.10.2', '172.16.100.11']), 'any of several');
  });

  it('the state a move added, kind by kind', () => {
    assert.equal(stateDelta(state({}), state({ routes: 16, nft: 3 })), '+3 nft rules/elements, +6 routes');
    assert.equal(stateDelta(state({ fdb: 5 }), state({ fdb: 5 })), 'none');
  });

  it('a stream that did not resume is counted and measures no gap; missing samples say so', () => {
    const rows: Row[] = [
      { strategy: 'network-paging', kind: 'vm', intervalMs: 10, topology: 'x.yaml', samples: [sample(true, 100, 4), sample(true, 120, 5)], extras: { home: { rttMs: 0.2, routers: 3, state: state({}), vm: state({ routes: 0, fdb: 0 }) }, away: { rttMs: 0.3, routers: 4, state: state({ pages: 1 }), vm: state({ routes: 0, fdb: 0, pages: 1 }) } } },
      { strategy: 'routing-update', kind: 'container', intervalMs: 10, topology: 'y.yaml', samples: [sample(true, 150, 15), sample(false, 30000, null)], extras: {} },
    ];
    const lines = markdownTable(rows, 2).split('\n');
    const paging = lines.find((l) => l.startsWith('| network-paging'))!.split(' | ');
    assert.equal(paging[1], 'vm, 10 ms');
    assert.equal(paging[3], '110.0 ms');
    assert.equal(paging[4], '0');
    assert.match(paging[9]!, /0\.20 → 0\.30 ms \(×1\.50\); 3 → 4 routers/);
    assert.equal(paging[10], 'none → 1 translator pages (+1 translator pages)');
    assert.match(paging[11]!, /ICOIN 2011: switching 80 ms/);
    const routing = lines.find((l) => l.startsWith('| routing-update'))!.split(' | ');
    assert.equal(routing[3], '150.0 ms (1 of 2 measured)', 'the silent move is no 30 s gap');
    assert.equal(routing[4], '**1**');
    assert.equal(routing[5], '15.0 ms (1 of 2 measured)');
    assert.equal(routing[9], '–');
    const spec = chartSpec(rows) as { data: { values: { ms: number }[] } };
    assert.ok(spec.data.values.every((v) => v.ms < 30000));
  });
});
