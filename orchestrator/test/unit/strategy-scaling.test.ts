// The scaling axis as data: placeholders beside the comparison labs' VM (valid topologies,
// each with the strategy's per-workload settings), and the table of what was counted.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMPARISON_TOPOLOGIES } from '../../bench/strategy-comparison.js';
import { placeholderAddress, withPlaceholders } from '../../bench/strategy-scaling.js';
import { scalingTable } from '../../bench/strategy-table.js';
import type { MigrationResult } from '../../migration/migrate.js';
import { driverFor } from '../../migration/driver.js';
import type { ServiceSwitchingSettings } from '../../migration/strategies/service-switching/settings.js';
import { packageRoot } from '../../paths.js';
import { settingsOf } from '../../topology/model.js';

const text = (f: string) => readFileSync(join(packageRoot, 'topologies', f), 'utf8');

describe('strategy scaling', () => {
  it('placeholder addresses leave the labs\' own blocks alone and never repeat', () => {
    assert.equal(placeholderAddress('172.16.10.2', 0), '172.16.100.10');
    assert.equal(placeholderAddress('172.17.10.2', 199), '172.17.100.209');
    assert.equal(placeholderAddress('172.16.10.2', 200), '172.16.101.10');
    const all = Array.from({ length: 1000 }, (_, i) => placeholderAddress('172.16.10.2', i));
    assert.equal(new Set(all).size, all.length);
  });

  for (const [strategy, file] of Object.entries(COMPARISON_TOPOLOGIES)) {
    it(`${file} with 99 placeholders validates, each at home with the VM's gateway`, () => {
      const t = withPlaceholders(text(file), file, 99, 'scale-test');
      assert.equal(t.name, 'scale-test');
      assert.equal(t.workloads.length, 100);
      assert.equal(t.workloads[0]!.kind, 'vm', 'the real VM stays first: the series moves it');
      const ph = t.workloads.slice(1);
      assert.ok(ph.every((w) => w.kind === 'placeholder' && w.on === 'pdc-hv' && w.gateway === t.workloads[0]!.gateway));
      assert.equal(new Set(t.workloads.map((w) => w.mac)).size, 100, 'a MAC each');
      if (strategy === 'service-switching') {
        assert.deepEqual(settingsOf<ServiceSwitchingSettings>(t, strategy).careOf.ph99, ['172.17.100.108'], 'care-of shifted like the address');
      }
    });
  }

  it('a placeholder runs nothing: it starts at once and refuses to migrate or run commands', async () => {
    const d = driverFor('placeholder');
    assert.deepEqual(await d.missing([]), []);
    const rec = await d.start({ workload: { name: 'ph1' } } as any, 'hv1');
    assert.equal(rec.on, 'hv1');
    await assert.rejects(d.prepare({ workload: { name: 'ph1' } } as any, rec, 'hv2'), /ph1 is a placeholder/);
    await assert.rejects(d.shell({ workload: { name: 'ph1' } } as any, rec, 'placeholder ph1').exec(['true']), /nothing runs in it/);
  });

  it('the table divides what names the moved workloads by their count, and says when a stream did not resume', () => {
    const state = { routes: 0, nft: 0, proxyArp: 0, fdb: 0, pages: 0 };
    const sample = (resumed: boolean) => {
      const w = { window: 'm', resumed, downtimeMs: 100, downtimeGap: null, resumeToFirstPacketMs: 5, disruption: null };
      return { result: { switching: { switchingMs: 12 } } as unknown as MigrationResult, own: w, echo: w };
    };
    const table = scalingTable([
      { strategy: 'routing-update', moved: 10, placeMs: [3, 4, 5], perWorkload: { ...state, routes: 3 }, all: { ...state, routes: 150 }, samples: [sample(true), sample(false)] },
    ]);
    const row = table.split('\n')[2]!.split(' | ');
    assert.equal(row[1], '10');
    assert.equal(row[2], '3 routes');
    assert.equal(row[3], '150 routes');
    assert.equal(row[4], '4.00 ms');
    assert.equal(row[6], '100.0 ms (1 of 2 measured)');
    assert.equal(row[7], '1 |');
  });
});
