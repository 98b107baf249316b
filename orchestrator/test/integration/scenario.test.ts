// @root: `warplab run` end to end — the shipped scenarios with a small repeat count, a failing
// threshold that exits 1 and names its JUnit case, a reused lab left up, and Ctrl-C in the
// middle of a migration leaving nothing behind.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { listLabs, up } from '../../lab/lab.js';
import { linkCutTopology } from '../../bench/link-cut.js';
import { packageRoot } from '../../paths.js';
import { loadTopologyFile, parseTopology } from '../../topology/load.js';
import { cleanStateDir, keepRunDirIfFailed, labNamespaces, labProcesses, requireRoot, requireSubstrate, requireWorkloads, tempStateDir, testName } from '../helpers.js';

const bin = join(packageRoot, 'orchestrator', 'cli', 'bin.js');
const scenario = (f: string) => join(packageRoot, 'topologies', 'scenarios', f);
const env = { ...process.env, CI: '1' };

interface Summary {
  passed: boolean;
  exitCode: number;
  lab: string;
  labBroughtUp: boolean;
  trials: { planned: number; done: number };
  thresholds: { name: string; passed: boolean; failures: string[] }[];
  checks: { name: string; passed: boolean; failures: string[] }[];
  statistics: { metric: string; stream: string | null; summary: { n: number; mean: number; max: number } }[];
  files: string[];
}

function nothingLeft(lab: string, stateDir: string): void {
  assert.deepEqual(labNamespaces(lab), [], `namespaces of ${lab} left`);
  assert.deepEqual(labProcesses(lab), [], `processes of ${lab} left`);
  assert.ok(!listLabs(stateDir).some((l) => l.name === lab), `${lab} still recorded`);
}

const icoinTopology = join(packageRoot, 'topologies', 'icoin2011-paging.yaml');

describe('@root warplab run', function () {
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

  /** `warplab run FILE --json …` → exit status and the summary it printed. */
  function runJson(file: string, args: string[]): { status: number | null; summary: Summary; stderr: string } {
    const r = spawnSync(process.execPath, [bin, 'run', file, '--json', '--out', out, '--state-dir', stateDir, ...args], { encoding: 'utf8', env });
    let summary: Summary;
    try {
      summary = JSON.parse(r.stdout) as Summary;
    } catch {
      assert.fail(`no JSON summary (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
    }
    return { status: r.status, summary, stderr: r.stderr };
  }

  const shipped = [
    { file: 'icoin2011-vm-migration.yaml', lab: 'icoin-sc', repeat: 2, vm: true, figures: ['downtimeMs', 'switchingMs', 'migrationMs'] },
    { file: 'icoin2011-three-dc-tour.yaml', lab: 'tri-sc', repeat: 1, vm: true, figures: ['downtimeMs', 'switchingMs', 'migrationMs'] },
    { file: 'icn2011-fig5-migration.yaml', lab: 'fig5-sc', repeat: 1, vm: true, figures: ['downtimeMs', 'switchingMs', 'migrationMs'] },
    { file: 'icn2011-extranet-matrix.yaml', lab: 'fig4-sc', repeat: 1, vm: false, figures: [] },
    // ~60 s: the guest's ARP entry for the gateway must age out.
    { file: 'icoin2011-gateway-mac.yaml', lab: 'gwmac-sc', repeat: 1, vm: true, figures: ['downtimeMs'] },
    // Three VMs, five moves and the reset's three.
    { file: 'bifulco2011-service-switching.yaml', lab: 'bif-sc', repeat: 1, vm: true, figures: ['downtimeMs', 'switchingMs', 'migrationMs'] },
    // The same ICOIN scenario with every node a container.
    { file: 'icoin2011-vm-migration.yaml', lab: 'icoin-dk', repeat: 2, vm: true, figures: ['downtimeMs', 'switchingMs', 'migrationMs'], substrate: 'docker' },
  ];
  // Across SSH hosts: run on the test rig by ssh-substrate.test.ts.
  const onRigHosts = ['icoin2011-vm-migration-3hosts.yaml'];
  it('runs every shipped scenario', () => {
    assert.deepEqual([...new Set([...shipped.map((s) => s.file), ...onRigHosts])].sort(), readdirSync(join(packageRoot, 'topologies', 'scenarios')).filter((f) => f.endsWith('.yaml')).sort());
  });
  for (const s of shipped) {
    it(`${s.file} (${s.repeat} trial${s.repeat > 1 ? 's' : ''}${s.substrate ? `, on ${s.substrate}` : ''}): exit 0, every threshold and check held, reports written, lab gone`, async function () {
      if (s.substrate) await requireSubstrate(this, s.substrate);
      if (s.vm) {
        await requireWorkloads(this, await loadTopologyFile(icoinTopology));
      }
      const lab = testName(s.lab);
      const { status, summary, stderr } = runJson(scenario(s.file), ['--repeat', String(s.repeat), '--lab', lab, ...(s.substrate ? ['--substrate', s.substrate] : [])]);
      const failed = [...summary.thresholds, ...summary.checks].filter((x) => !x.passed).map((x) => `${x.name}: ${x.failures.join('; ')}`);
      assert.deepEqual(failed, [], stderr);
      assert.equal(status, 0);
      assert.deepEqual([summary.passed, summary.labBroughtUp, summary.trials], [true, true, { planned: s.repeat, done: s.repeat }]);
      for (const f of s.figures) {
        const rows = summary.statistics.filter((r) => r.metric === f);
        assert.ok(rows.length && rows.every((r) => r.summary.n === s.repeat && r.summary.mean > 0), `${f}: ${JSON.stringify(rows)}`);
      }
      for (const f of ['report.json', 'report.md', 'junit.xml', 'scenario.json', 'timeline-trial-1.svg']) assert.ok(existsSync(join(out, f)), f);
      const table = summary.statistics.filter((r) => s.figures.includes(r.metric)).map((r) => `${r.metric} ${r.stream ?? 'all'}: mean ${r.summary.mean.toFixed(1)} max ${r.summary.max.toFixed(1)} ms`);
      if (table.length) console.log(table.map((l) => `      ${l}`).join('\n'));
      nothingLeft(lab, stateDir);
    });
  }

  it('an impossible threshold exits 1 and its JUnit case says why; a reused lab (--lab) is left up', async () => {
    const lab = testName('cut-sc');
    await up(parseTopology(linkCutTopology(lab)), { stateDir });
    const file = join(out, 'cut.yaml');
    writeFileSync(
      file,
      `name: cut-gate
topology:
${linkCutTopology(lab)
  .trim()
  .split('\n')
  .map((l) => `  ${l}`)
  .join('\n')}
repeat: 2
streams:
  - {from: a, to: b, interval-ms: 1, direction: both-ways}
steps:
  # b's eth0 loses its carrier in the cut, which flushes its dynamic neighbours, and the
  # first ARP after it may race the carrier coming back (then b waits for the 1 s retry):
  # pinned, the gap measured is the cut's alone.
  - exec: {node: b, command: "ping -c1 -W1 10.0.2.1 >/dev/null; ip neigh replace 10.0.2.1 lladdr $(ip neigh show 10.0.2.1 | cut -d' ' -f5) dev eth0 nud permanent"}
  - wait: 300
  - cut: {link: "b:eth0 -- l", for-ms: 200}
  - wait: 300
  - exec: {node: b, command: "ip link show dev eth0 | grep -q LOWER_UP"}
thresholds:
  - max-downtime-ms: 1
  - {metric: noiseFloorMs, max: 150}
`,
    );
    const { status, summary } = runJson(file, ['--lab', lab]);
    assert.equal(status, 1);
    assert.deepEqual([summary.passed, summary.exitCode, summary.labBroughtUp, summary.trials.done], [false, 1, false, 2]);
    const failedThresholds = summary.thresholds.filter((t) => !t.passed).map((t) => t.name);
    assert.deepEqual(failedThresholds, ['downtimeMs ≤ 1 ms (every trial)']);
    assert.ok(summary.checks.every((c) => c.passed), JSON.stringify(summary.checks));
    const downtime = summary.statistics.filter((r) => r.metric === 'downtimeMs');
    assert.deepEqual(downtime.map((r) => r.stream).sort(), ['a→b', 'b→a']);
    for (const r of downtime) assert.ok(r.summary.mean > 180 && r.summary.mean < 400, `${r.stream}: the 200 ms cut shows as ${r.summary.mean} ms`);
    const junit = readFileSync(join(out, 'junit.xml'), 'utf8');
    assert.match(junit, /<testsuites name="warplab.probe.cut-gate" tests="8" failures="1">/);
    assert.match(junit, /<testcase classname="warplab.probe.cut-gate" name="downtimeMs ≤ 1 ms \(every trial\)">\s*<failure message="trial 1 a→b: \d+(\.\d+)? &gt; 1" type="threshold">/);
    assert.match(junit, /<testcase classname="warplab.probe.cut-gate" name="step 3: cut b:eth0 -- l for 200 ms"\/>/);
    assert.deepEqual(
      listLabs(stateDir).map((l) => [l.name, l.status]),
      [[lab, 'up']],
      'the reused lab is still up',
    );
    assert.deepEqual(labProcesses(lab).length, 0, 'no probe or monitor left running in it');
  });

  for (const when of [
    { what: 'while the VM migrates', ready: (argv: string[]) => argv.includes('-incoming') },
    { what: 'in a wait step', ready: (argv: string[]) => argv.some((a) => a.endsWith('udp-recv')), delayMs: 300 },
  ]) {
    it(`Ctrl-C ${when.what}: exit 130, lab, processes and state gone`, async function () {
      await requireWorkloads(this, await loadTopologyFile(icoinTopology));
      const lab = testName('icoin-irq');
      const child = spawn(process.execPath, [bin, 'run', scenario('icoin2011-vm-migration.yaml'), '--repeat', '3', '--lab', lab, '--out', out, '--state-dir', stateDir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const statePath = join(stateDir, 'labs', lab, 'state.json');
      let seen = false;
      for (const deadline = Date.now() + 120_000; Date.now() < deadline && !seen; await sleep(20)) {
        try {
          const state = JSON.parse(readFileSync(statePath, 'utf8')) as { processes: { argv: string[] }[] };
          seen = state.processes.some((p) => when.ready(p.argv));
        } catch {
          /* not written yet, or being written */
        }
      }
      assert.ok(seen, `the run never got there: ${stderr}`);
      if (when.delayMs) await sleep(when.delayMs);
      child.kill('SIGINT');
      const code = await exited;
      assert.equal(code, 130, stderr);
      assert.match(stderr, /SIGINT: stopping and removing what was made/);
      nothingLeft(lab, stateDir);
    });
  }
});
