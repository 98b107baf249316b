// @root: the measuring steps end to end — `warplab run` of a scenario that pings the ICOIN
// topology's workload (a VM, then a container) from U and fetches its 1 MiB file, before
// and after a migration, and the figures in scenario.json and report.md.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../paths.js';
import type { Summary } from '../../probe/stats.js';
import { parseTopology } from '../../topology/load.js';
import { cleanStateDir, keepRunDirIfFailed, labNamespaces, labProcesses, requireRoot, requireWorkloads, tempStateDir, testName } from '../helpers.js';

const bin = join(packageRoot, 'orchestrator', 'cli', 'bin.js');

interface StepRecord {
  id: string;
  ok: boolean;
  failures: string[];
  details?: Record<string, unknown>;
}

describe('@root rtt and http steps against a workload', function () {
  this.timeout(300_000);
  let stateDir: string;
  let out: string;
  before(function () {
    requireRoot(this);
  });
  beforeEach(() => {
    stateDir = tempStateDir();
    out = tempStateDir();
  });
  afterEach(async function () {
    await cleanStateDir(stateDir);
    keepRunDirIfFailed(this, out);
  });

  for (const kind of ['vm', 'container'] as const) {
    it(`${kind}: positive RTTs over four routers and 1048576-byte downloads from U, before and after a move to ADC`, async function () {
      // The ICOIN topology with its workload as this kind (the file declares the paper's VM).
      const text = readFileSync(join(packageRoot, 'topologies', 'icoin2011-paging.yaml'), 'utf8').replace(/^(\s+kind: )vm$/m, `$1${kind}`);
      await requireWorkloads(this, parseTopology(text));
      const topology = join(out, 'topology.yaml');
      writeFileSync(topology, text);
      const file = join(out, 'measure.yaml');
      writeFileSync(
        file,
        `name: measure-${kind}
topology: ${topology}
steps:
  - rtt: {from: U, to: vm-a, count: 20, interval-ms: 50, label: "(i) not migrated", reference: "2.573 ms"}
  - http: {from: U, to: vm-a, path: /1M, count: 10, rate: 10, label: "(i) not migrated", reference: "3.4 ms"}
  - migrate: {workload: vm-a, to: adc-hv}
  - rtt: {from: U, to: vm-a, count: 20, interval-ms: 50, label: "(ii) migrated"}
  - http: {from: U, to: vm-a, path: /1M, count: 10, rate: 10, label: "(ii) migrated"}
reset:
  - migrate: {workload: vm-a, to: pdc-hv}
`,
      );
      const lab = testName(`meas-${kind}`);
      const r = spawnSync(process.execPath, [bin, 'run', file, '--json', '--out', out, '--state-dir', stateDir, '--lab', lab], { encoding: 'utf8', env: { ...process.env, CI: '1' } });
      const summary = JSON.parse(r.stdout) as { exitCode: number; steps: StepRecord[] };
      const failed = summary.steps.filter((s) => !s.ok).map((s) => `${s.id}: ${s.failures.join('; ')}`);
      assert.deepEqual(failed, [], r.stderr);
      assert.equal(summary.exitCode, 0, r.stderr);

      const [rttAtPdc, httpAtPdc, , rttAtAdc, httpAtAdc] = summary.steps.map((s) => s.details!);
      for (const d of [rttAtPdc!, rttAtAdc!]) {
        const rtt = d.rttMs as Summary;
        assert.ok(rtt.n > 0 && rtt.min > 0 && rtt.mean > 0, JSON.stringify(rtt));
        assert.equal(d.sent, 20);
      }
      // The VM LAN is bridged: the routers the way out are U's gateway C, R3, core and the DC's edge router.
      assert.deepEqual([rttAtPdc!.hops, rttAtAdc!.hops], [4, 4]);
      assert.deepEqual((rttAtPdc!.route as string[]).slice(0, 6), ['10.3.0.10', '10.254.3.2', '10.255.3.1', '10.255.1.2', '172.16.0.1', '172.16.10.2']);
      assert.deepEqual((rttAtAdc!.route as string[]).slice(0, 6), ['10.3.0.10', '10.254.3.2', '10.255.3.1', '10.255.2.2', '172.16.0.1', '172.16.10.2']);
      for (const d of [httpAtPdc!, httpAtAdc!]) {
        assert.deepEqual([d.statuses, d.sizes], [{ 200: 10 }, { 1048576: 10 }]);
        assert.ok((d.timeMs as Summary).min > 0, JSON.stringify(d.timeMs));
      }

      const md = readFileSync(join(out, 'report.md'), 'utf8');
      assert.match(md, /\| trial \| step \| label \| measured \| median \| mean ± σ \| min–max \| n \| path \/ size \| paper \(reference\) \|/);
      assert.match(md, /\| 1 \| step 1 \| \(i\) not migrated \| ping RTT U → vm-a \(172\.16\.10\.2\) \| \d+\.\d{3} ms \| .* \| 20 \| 4 routers: .* \| 2\.573 ms \|/);
      assert.match(md, /\| 1 \| step 5 \| \(ii\) migrated \| HTTP GET \/1M U → vm-a \(172\.16\.10\.2\), 10 at 10\/s \| .* \| 10 \| 1048576 B \|  \|/);
      console.log(
        summary.steps
          .filter((s) => s.details?.label)
          .map((s) => `      ${s.id} ${s.details!.label}: median ${((s.details!.rttMs ?? s.details!.timeMs) as Summary).median.toFixed(3)} ms`)
          .join('\n'),
      );
      assert.deepEqual([labNamespaces(lab), labProcesses(lab)], [[], []], 'lab left behind');
    });
  }
});
