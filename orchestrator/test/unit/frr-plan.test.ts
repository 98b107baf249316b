import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { daemonArgv, frrExtension, frrFiles } from '../../frr/extension.js';
import { labExtensions } from '../../lab/extensions.js';
import type { Topology } from '../../topology/model.js';
import { removeDir } from '../helpers.js';

const topology = (daemons: string[]): Topology => ({
  name: 'f',
  labels: {},
  routing: 'static',
  source: '<inline>',
  links: [],
  workloads: [],
  nodes: [
    { name: 'r1', kind: 'router', labels: {}, interfaces: [], routes: [], announce: [], frr: { config: '/nonexistent.conf', daemons } },
    { name: 'h', kind: 'host', labels: {}, interfaces: [], routes: [], announce: [] },
  ],
});

describe('FRR nodes (lab extension)', () => {
  it('is wanted when a node has frr, and starts right after the exec lines', () => {
    assert.equal(frrExtension.wanted(topology(['zebra']), { workloads: true }), true);
    assert.equal(frrExtension.wanted({ ...topology([]), nodes: [] }, { workloads: true }), false);
    assert.deepEqual(labExtensions().slice(0, 2).map((x) => x.name), ['exec', 'frr']);
  });

  it('names its files under the lab directory and its run directory after the lab and node', () => {
    assert.deepEqual(frrFiles('/run/warplab/labs/f', 'f', 'r1'), { dir: '/run/warplab/labs/f/frr/r1', name: 'wl-f-r1', conf: '/run/warplab/labs/f/frr/r1/frr.conf' });
  });

  it('runs each daemon in the foreground with every path in the lab directory', () => {
    const f = frrFiles('/L', 'f', 'r1');
    assert.deepEqual(daemonArgv(f, 'ospfd'), ['/usr/lib/frr/ospfd', '-N', 'wl-f-r1', '-P', '0', '-u', 'root', '-g', 'frrvty', '-z', '/L/frr/r1/zserv.api', '--vty_socket', '/L/frr/r1', '-i', '/L/frr/r1/ospfd.pid', '-f', '/L/frr/r1/frr.conf', '--log', 'stdout']);
    assert.deepEqual(daemonArgv(f, 'bfdd').slice(-2), ['--bfdctl', '/L/frr/r1/bfdd.sock']);
    assert.ok(!daemonArgv(f, 'zebra').includes('-d'));
  });

  it('says what to install when a daemon is absent', async () => {
    const missing = await frrExtension.missing(topology(['zebra', 'nosuchd']));
    assert.equal(missing.length, 1);
    assert.match(missing[0]!, /\/usr\/lib\/frr\/nosuchd.*apt-get install frr \(or run bash ci\/setup\.sh\)/);
  });

  it('stop removes what FRR made outside the lab directory, as recorded, and only that', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warplab-frr-'));
    try {
      const run = join(dir, 'run');
      mkdirSync(join(run, 'wl-f-r1'), { recursive: true });
      writeFileSync(join(run, 'other'), '');
      mkdirSync(join(dir, 'lab', 'frr'), { recursive: true });
      writeFileSync(join(dir, 'lab', 'frr', 'made.json'), JSON.stringify([join(run, 'wl-f-r1'), join(run, 'gone.json')]));
      assert.deepEqual(await frrExtension.stop(join(dir, 'lab'), {} as never), [`FRR's ${join(run, 'wl-f-r1')}`]);
      assert.ok(!existsSync(join(run, 'wl-f-r1')) && existsSync(join(run, 'other')));
      assert.deepEqual(await frrExtension.stop(join(dir, 'lab'), {} as never), []);
    } finally {
      removeDir(dir);
    }
  });
});
