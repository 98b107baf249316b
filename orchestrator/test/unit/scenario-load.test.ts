// Scenario files: the broken corpus gives exactly its expected errors (file:line:col, all at
// once), the schema and the step registry agree, and the shipped scenarios validate.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { packageRoot } from '../../paths.js';
import { metricNames } from '../../report/metrics.js';
import { loadScenarioFile, parseScenario, scenarioSchemaPath, ScenarioError, SHORTHANDS } from '../../scenario/load.js';
import { stepKinds } from '../../scenario/steps/index.js';
import { durationMs } from '../../scenario/steps/wait.js';
import { fixtures, shippedScenarios } from '../helpers.js';

/** `# expect: [OTHER-FILE@]LINE:COL: PATH: MESSAGE | HINT` lines at the top of each broken file. */
function expectations(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('# expect: '))
    .map((l) => l.slice('# expect: '.length).trim());
}

const icoin = join(packageRoot, 'topologies', 'icoin2011-paging.yaml');

describe('scenario loader', () => {
  describe('broken scenarios give exactly their expected errors, all at once', () => {
    const dir = join(fixtures, 'broken-scenarios');
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.yaml'))) {
      it(basename(f), async () => {
        const file = join(dir, f);
        const err = await loadScenarioFile(file).then(
          () => assert.fail('expected a ScenarioError'),
          (e: unknown) => e,
        );
        assert.ok(err instanceof ScenarioError, String(err));
        const got = err.issues.map((i) => `${i.pos.file === file ? '' : `${basename(i.pos.file)}@`}${i.pos.line}:${i.pos.col}: ${i.path || '(top)'}: ${i.message}` + (i.hint ? ` | ${i.hint}` : ''));
        assert.deepEqual(got.sort(), expectations(file).sort());
        assert.match(err.message, new RegExp(`^${err.issues.length} problems? found:\\n`));
      });
    }
  });

  describe('the published schema', () => {
    const schema = JSON.parse(readFileSync(scenarioSchemaPath, 'utf8'));
    it('names every registered step kind, and only those', () => {
      assert.deepEqual(Object.keys(schema.definitions.step.properties).sort(), [...stepKinds.keys()].sort());
    });
    it("offers every report metric, and each shorthand maps to one", () => {
      assert.deepEqual([...schema.definitions.threshold.properties.metric.enum].sort(), [...metricNames].sort());
      for (const [key, metric] of Object.entries(SHORTHANDS)) {
        assert.ok(schema.definitions.threshold.properties[key], key);
        assert.ok(metricNames.includes(metric), metric);
      }
    });
  });

  describe('shipped scenarios', () => {
    it("there are the papers' four", () => assert.ok(shippedScenarios.length >= 4, shippedScenarios.join(', ')));
    for (const f of shippedScenarios) {
      it(`${basename(f)} validates, starts with the schema line, and keeps its repeat count small for CI`, async () => {
        assert.match(readFileSync(f, 'utf8').split('\n')[0]!, /^# yaml-language-server: \$schema=\.\.\/scenario\.schema\.json$/);
        const s = await loadScenarioFile(f);
        assert.ok(s.repeat <= 5, `repeat ${s.repeat}`);
      });
    }
  });

  it('reads steps into their kinds, with ids and one-line descriptions; reach and exec take a workload too', () => {
    const s = parseScenario(
      `
name: forms
topology: ${icoin}
streams:
  - workload: vm-a
  - {from: U, to: pdc-hv, interval-ms: 10, direction: both-ways}
steps:
  - wait: 1.5s
  - migrate: {workload: vm-a, to: adc-hv}
  - switch: {router: R3, target: 172.16.10.2, to: pass}
  - cut: {link: "user -- U:eth0", for-ms: 200}
  - exec: {node: U, command: [ip, route], expect-exit: 0}
  - reach: {from: U, to: vm-a, expect: reachable}
  - rtt: {from: U, to: vm-a, count: 50, interval-ms: 100, label: "(i) not migrated", reference: "2.573 ms"}
  - http: {from: U, to: 172.16.10.2, path: /1M, count: 100, rate: 10}
reset:
  - migrate: {workload: vm-a, to: pdc-hv}
  - reach: {from: vm-a, to: U, expect: reachable}
  - exec: {node: vm-a, command: "ip -4 addr"}
thresholds:
  - max-downtime-ms: 900
  - {max-switching-ms: 100, statistic: median}
  - {metric: noiseFloorMs, max: 30, stream: "U→pdc-hv"}
`,
      join(packageRoot, 'forms.yaml'),
    );
    assert.equal(s.topology.name, 'icoin');
    assert.deepEqual(
      [...s.steps, ...s.reset].map((x) => `${x.id}: ${x.description}`),
      ['step 1: wait 1500 ms', 'step 2: migrate vm-a → adc-hv', 'step 3: switch R3 172.16.10.2 → pass', 'step 4: cut user -- U:eth0 for 200 ms', 'step 5: exec on U: ip route', 'step 6: reach U → vm-a: reachable', 'step 7: rtt U → vm-a: 50 pings every 100 ms', 'step 8: http U → 172.16.10.2/1M: 100 GETs at 10/s', 'reset 1: migrate vm-a → pdc-hv', 'reset 2: reach vm-a → U: reachable', 'reset 3: exec on vm-a: ip -4 addr'],
    );
    assert.deepEqual(s.steps[6]!.args, { from: 'U', to: 'vm-a', count: 50, intervalMs: 100, label: '(i) not migrated', reference: '2.573 ms' });
    assert.deepEqual(s.steps[7]!.args, { from: 'U', to: '172.16.10.2', path: '/1M', count: 100, rate: 10, label: 'U→172.16.10.2' });
    assert.deepEqual(s.streams[1], { kind: 'nodes', from: 'U', to: 'pdc-hv', intervalMs: 10, bothWays: true, label: 'U→pdc-hv' });
    assert.deepEqual(s.thresholds, [
      { metric: 'downtimeMs', max: 900 },
      { metric: 'switchingMs', max: 100, statistic: 'median' },
      { metric: 'noiseFloorMs', max: 30, stream: 'U→pdc-hv' },
    ]);
  });

  it('--repeat is checked like the file: a scenario that leaves the VM elsewhere runs once only', () => {
    const text = `name: one-way\ntopology: ${icoin}\nsteps:\n  - migrate: {workload: vm-a, to: adc-hv}\n`;
    assert.equal(parseScenario(text, 'x.yaml').repeat, 1);
    assert.throws(() => parseScenario(text, 'x.yaml', { repeat: 3 }), /x\.yaml:1:1: \(top\): --repeat 3: vm-a ends on adc-hv, not on pdc-hv where it started, so trial 2 would start elsewhere/);
  });

  it('durations: milliseconds, or with a unit', () => {
    assert.deepEqual([500, '500ms', '1.5s', '2s'].map((v) => durationMs(v)), [500, 500, 1500, 2000]);
  });
});
