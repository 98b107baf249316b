// @root: real namespaces. Every test ends by checking that nothing of its lab is left.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { chainTopologyYaml } from '../../bench/chain.js';
import { attach, down, listLabs, up } from '../../lab/lab.js';
import { reachability } from '../../lab/reachability.js';
import { packageRoot } from '../../paths.js';
import { loadTopologyFile, parseTopology } from '../../topology/load.js';
import { labNamespaces, labProcesses, removeDir, requireRoot, rootLinks, shippedTopologies, tempStateDir } from '../helpers.js';

const bin = join(packageRoot, 'orchestrator', 'cli', 'bin.js');

function assertNothingLeft(lab: string, stateDir: string, linksBefore: string[]): void {
  assert.deepEqual(labNamespaces(lab), [], 'namespaces left');
  assert.deepEqual(labProcesses(lab), [], 'processes left');
  assert.deepEqual(rootLinks(), linksBefore, 'links added to the root namespace');
  assert.ok(!existsSync(join(stateDir, 'labs', lab)), 'lab directory left');
}

function warplab(stateDir: string, ...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, WARPLAB_STATE_DIR: stateDir } });
}

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('@root lab lifecycle on netns', function () {
  this.timeout(120_000);
  let stateDir: string;
  let linksBefore: string[];
  before(function () {
    requireRoot(this);
  });
  beforeEach(() => {
    stateDir = tempStateDir();
    linksBefore = rootLinks();
  });
  // A failed test must not leave its lab for the next one.
  afterEach(async () => {
    for (const l of listLabs(stateDir)) await down(l.name, stateDir);
    removeDir(stateDir);
  });

  for (const file of shippedTopologies) {
    it(`${basename(file)}: up, the reachability the topology predicts, down, nothing left`, async () => {
      const t = await loadTopologyFile(file);
      {
        await using lab = await up(t, { stateDir });
        assert.equal(labNamespaces(t.name).length, t.nodes.length);
        const rows = await reachability(lab);
        assert.ok(rows.some((r) => r.predicted), 'the topology connects at least one pair by plain routing');
        const odd = rows.filter((r) => r.observed !== r.predicted).map((r) => `${r.from}→${r.to} predicted ${r.predicted} observed ${r.observed} ${r.reason ?? ''}`);
        assert.deepEqual(odd, []);
      }
      assertNothingLeft(t.name, stateDir, linksBefore);
    });
  }

  it('two labs of the same topology under different names run side by side', async () => {
    const yaml = chainTopologyYaml(3, 'side-a');
    const a = await up(parseTopology(yaml), { stateDir });
    const b = await up(parseTopology(yaml.replace('name: side-a', 'name: side-b')), { stateDir });
    await a.down();
    assert.deepEqual(labNamespaces('side-a'), []);
    const h2 = b.topology.nodes.find((n) => n.name === 'h2')!.interfaces[0]!.ipv4[0]!.split('/')[0]!;
    const reached = await b.shell('h1').exec(['ping', '-c1', '-W2', h2], { check: false });
    assert.equal(reached.exitCode, 0, 'side-b still works after side-a is down');
    await b.down();
    assertNothingLeft('side-a', stateDir, linksBefore);
    assertNothingLeft('side-b', stateDir, linksBefore);
  });

  it('a second up of the same lab is refused and changes nothing', async () => {
    const t = parseTopology(chainTopologyYaml(2, 'twice'));
    await using lab = await up(t, { stateDir });
    await assert.rejects(up(t, { stateDir }), /lab "twice" already exists/);
    assert.equal(labNamespaces('twice').length, t.nodes.length);
    assert.equal((await lab.shell('r1').exec(['ip', 'route'])).exitCode, 0);
  });

  it('down kills processes started in the lab, and only those', async () => {
    const t = parseTopology(chainTopologyYaml(2, 'procs'));
    const lab = await up(t, { stateDir });
    const inLab = lab.shell('h1').spawn(['sleep', '300']);
    const outside = spawn('sleep', ['300']);
    await lab.down();
    assert.notEqual(await inLab.exited, 0);
    assert.equal(outside.exitCode, null, 'a process outside the lab keeps running');
    outside.kill();
    assertNothingLeft('procs', stateDir, linksBefore);
  });

  it('Ctrl-C during up removes what was made and exits 130', async () => {
    const file = join(stateDir, 'big.yaml');
    writeFileSync(file, chainTopologyYaml(150, 'irq'));
    const child = spawn(process.execPath, [bin, 'up', file, '--state-dir', stateDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b) => (stderr += b));
    await until('the first namespaces', () => labNamespaces('irq').length > 0);
    child.kill('SIGINT');
    const code = await new Promise((r) => child.on('exit', r));
    assert.equal(code, 130, `exit ${code}: ${stderr}`);
    assert.match(stderr, /SIGINT: stopping and removing what was made/);
    assertNothingLeft('irq', stateDir, linksBefore);
  });

  it('after SIGKILL of the orchestrator, down removes everything from the state alone', async () => {
    const file = join(stateDir, 'killed.yaml');
    writeFileSync(file, chainTopologyYaml(150, 'killed'));
    const child = spawn(process.execPath, [bin, 'up', file, '--state-dir', stateDir], { stdio: 'ignore' });
    await until('the first namespaces', () => labNamespaces('killed').length > 0);
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const state = JSON.parse(readFileSync(join(stateDir, 'labs', 'killed', 'state.json'), 'utf8'));
    assert.equal(state.status, 'creating');
    const res = warplab(stateDir, 'down', 'killed');
    assert.equal(res.status, 0, res.stderr);
    assertNothingLeft('killed', stateDir, linksBefore);
  });

  it('a lab that is up survives the orchestrator; CLI exec, inspect and down work on it', async () => {
    const file = join(stateDir, 'cli.yaml');
    writeFileSync(file, chainTopologyYaml(2, 'cli'));
    assert.equal(warplab(stateDir, 'up', file).status, 0);
    // A long-running process started through `exec`, left running when down comes.
    const bg = spawn(process.execPath, [bin, 'exec', 'cli', 'r1', '--state-dir', stateDir, '--', 'sleep', '300'], { stdio: 'ignore' });
    await until('the exec process', () => labProcesses('cli').length > 0);
    const inspect = JSON.parse(warplab(stateDir, 'inspect', 'cli', '--json').stdout);
    assert.deepEqual(inspect.nodes.map((n: { name: string; running: boolean }) => [n.name, n.running]), [['h1', true], ['r1', true], ['r2', true], ['h2', true]]);
    assert.equal(inspect.nodes[1].interfaces.length, 2);
    const ls = JSON.parse(warplab(stateDir, 'ls', '--json').stdout);
    assert.deepEqual(ls.map((l: { name: string; status: string }) => [l.name, l.status]), [['cli', 'up']]);
    const exec = warplab(stateDir, 'exec', 'cli', 'h1', '--', 'sh', '-c', 'exit 7');
    assert.equal(exec.status, 7);
    assert.equal(attach('cli', stateDir).topology.name, 'cli');
    assert.equal(warplab(stateDir, 'down', 'cli').status, 0);
    await new Promise((r) => bg.on('exit', r));
    assertNothingLeft('cli', stateDir, linksBefore);
  });
});
