import { strict as assert } from 'node:assert';
import { applySteps, inverseOdd, stepsOf, type Mapping } from '../../translator/mapping.js';
import { ruleLine } from '../../translator/pages.js';
import { applyLines } from '../../translator/agent.js';
import { parseTopology } from '../../topology/load.js';

describe('translator pages', () => {
  for (const m of [{ kind: 'contiguous' }, { kind: 'striped', k: 5, c: 3 }, { kind: 'randomized', seed: 42 }] as Mapping[]) {
    it(`${m.kind}: a bijection on the page whose inverse undoes it`, () => {
      for (const bits of [0, 1, 3, 8, 16, 32]) {
        const { forward, inverse } = stepsOf(m, bits);
        const seen = new Set<number>();
        const n = Math.min(2 ** bits, 4096);
        for (let i = 0; i < n; i++) {
          const h = bits > 12 ? (i * 2654435761) % 2 ** bits : i;
          const f = applySteps(forward, h, bits);
          assert.ok(f < 2 ** bits);
          assert.equal(applySteps(inverse, f, bits), h);
          seen.add(f);
        }
        assert.equal(seen.size, n);
      }
    });
  }

  it('striped is a' + "'" + ' = k·a + c within the page', () => {
    assert.equal(applySteps(stepsOf({ kind: 'striped', k: 3, c: 1 }, 8).forward, 10, 8), 31);
    assert.equal((inverseOdd(3, 8) * 3) % 256, 1);
  });

  it('compiles pages, named and inline, to the agent rule lines', () => {
    const t = parseTopology(`
name: xl
pages:
  vn1: {lan: 172.16.0.0/15, wan: 150.24.0.0/15, vn: VN1}
nodes:
  r:
    kind: edge-router
    translator:
      lan: [eth0]
      pages: [vn1, {lan: 10.1.0.0/24, wan: 150.26.0.0/24, mapping: striped, k: 3, c: 1}, {lan: 10.3.0.0/24, pass: true}]
    interfaces: {eth0: {ipv4: 10.0.0.1/24}}
  h: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.2/24}}}
links: [r:eth0 -- h:eth0]
`);
    const r = t.nodes.find((n) => n.name === 'r')!;
    assert.deepEqual(applyLines(r.translator!), [
      'apply',
      'page 172.16.0.0/15 wan 150.24.0.0/15 contiguous',
      'page 10.1.0.0/24 wan 150.26.0.0/24 steps affine:3:1 / affine:171:85',
      'page 10.3.0.0/24 pass',
      'end',
    ]);
    assert.equal(ruleLine({ lan: '1.2.3.4/32', mapping: { kind: 'contiguous' } }), 'page 1.2.3.4/32 pass');
  });
});
